package storage

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage/token"
)

// Compact records (format v2). Grants and tokens are the bulk of what is
// stored, so they are short fixed-width binary strings that Lua scripts read
// with string.byte, kept together in one hash per grant (P:{g:<id>}) that
// Redis stores in its compact listpack encoding as long as it has at most
// 128 fields and every value is at most 64 bytes:
//
//	field "g"   <expires:6><revoked:1><created:6><scopeset:16>   (29 bytes)
//	field "c"   client ID
//	field "w"   website ID (absent for client credentials)
//	field "o"   operator ID (absent for client credentials)
//	field "p"   prune bookkeeping (hash length after the last prune)
//	16 bytes    first half of a token's SHA-256 → <kind:1><expires:6><issued:6>[<scopeset:16>]
//
// Times are Unix milliseconds as 6-byte big-endian unsigned integers (good
// until the year 10889); revoked is '0' or '1'. kind is 'a', 'r' or 'c' for
// a live access token, refresh token or code; the token's scope set ID is
// left out when it is the grant's (the common case: 13 bytes a token). A
// used refresh token or code becomes the marker <KIND:1><keep:6> ('R' or
// 'C'), kept until keep.
//
// A token's field is the first 16 bytes of its SHA-256. It is only ever
// used as a lookup key inside the grant named by the token, never compared
// as a secret: to make a lookup, a redemption or a revocation hit a stored
// record, a forger must find a value whose SHA-256 starts with the 128 bits
// of a token issued in that grant, a second preimage of 2^128 work; tokens
// are server-generated with 256 random bits, so two of one grant never
// share a field in practice (a collision takes about 2^64 tokens in one
// grant). The other 16 bytes would add nothing but memory.
//
// A scope set ID is base64url of the first 12 bytes of the SHA-256 of the
// set's canonical string; P:scopesets maps it back. Scope sets are few and
// immutable, so a store caches them in memory: a 6-scope grant costs 16
// bytes instead of some 200, and no token ever carries a scope string.

const (
	grantHeaderLen = 13 // expires, revoked, created
	ssidLen        = 16
	grantFieldLen  = grantHeaderLen + ssidLen
	tokenHeaderLen = 13 // kind, expires, issued
	tokenFieldLen  = 16 // bytes of the SHA-256 naming a token in its grant
	usedLen        = 7  // KIND, keep
)

// tokenField is the hash field of the token whose SHA-256 is h.
func tokenField(h [32]byte) string { return string(h[:tokenFieldLen]) }

// maxMillis is the largest time a 6-byte record field holds.
const maxMillis = 1<<48 - 1

// b48 is a time as 6 bytes: big-endian Unix milliseconds, clamped to
// [0, maxMillis].
func b48(t time.Time) string { return b48ms(t.UnixMilli()) }

func b48ms(ms int64) string {
	ms = max(0, min(ms, maxMillis))
	var b [6]byte
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	return string(b[:])
}

// u48 reads a 6-byte time written by b48 (or by the scripts' b48).
func u48(s string) time.Time {
	var ms int64
	for i := range 6 {
		ms = ms<<8 | int64(s[i])
	}
	return time.UnixMilli(ms)
}

// scopeSetID names a scope set by content.
func scopeSetID(s scopes.Set) string {
	h := sha256.Sum256([]byte(s.String()))
	return b64(h[:12])
}

// scopeCache remembers scope sets known to be in P:scopesets. Entries never
// go stale (a set's ID is its content's hash); the cache stops growing at
// scopeCacheMax entries and then costs a round trip per miss.
type scopeCache struct {
	mu sync.RWMutex
	m  map[string]scopes.Set
}

const scopeCacheMax = 1 << 14

func (c *scopeCache) get(id string) (scopes.Set, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.m[id]
	return s, ok
}

func (c *scopeCache) put(id string, s scopes.Set) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]scopes.Set)
	}
	if len(c.m) < scopeCacheMax {
		c.m[id] = s
	}
}

// saveScopeSets makes sure every set is in P:scopesets (written once, then
// remembered) and returns their IDs.
func (r *Redis) saveScopeSets(ctx context.Context, sets ...scopes.Set) ([]string, error) {
	ids := make([]string, len(sets))
	type miss struct {
		id  string
		set scopes.Set
	}
	var misses []miss
	for i, s := range sets {
		ids[i] = scopeSetID(s)
		if _, ok := r.sets.get(ids[i]); !ok && !slices.ContainsFunc(misses, func(m miss) bool { return m.id == ids[i] }) {
			misses = append(misses, miss{ids[i], s})
		}
	}
	if len(misses) == 0 {
		return ids, nil
	}
	pipe := r.rdb.Pipeline()
	set := make([]*redis.BoolCmd, len(misses))
	for i, m := range misses {
		set[i] = pipe.HSetNX(ctx, r.k.scopeSets(), m.id, m.set.String())
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable("save scope sets", err)
	}
	for i, m := range misses {
		if set[i].Val() {
			r.sets.put(m.id, m.set)
			continue
		}
		// Already there (written by anyone): read it back to rule out an
		// ID collision before trusting it.
		got, err := r.scopeSet(ctx, m.id)
		if err != nil {
			return nil, err
		}
		if got != m.set {
			return nil, fmt.Errorf("%w: scope set ID %s names both %q and %q", ErrUnavailable, m.id, got, m.set)
		}
	}
	return ids, nil
}

// scopeSet resolves a scope set ID.
func (r *Redis) scopeSet(ctx context.Context, id string) (scopes.Set, error) {
	if s, ok := r.sets.get(id); ok {
		return s, nil
	}
	v, err := r.rdb.HGet(ctx, r.k.scopeSets(), id).Result()
	if isNil(err) {
		return scopes.Set{}, corrupt("scope set", fmt.Errorf("unknown ID %s", id))
	}
	if err != nil {
		return scopes.Set{}, unavailable("get scope set", err)
	}
	s, err := scopes.Parse(v)
	if err != nil {
		return scopes.Set{}, corrupt("scope set", err)
	}
	if scopeSetID(s) != id {
		return scopes.Set{}, corrupt("scope set", fmt.Errorf("ID %s does not match %q", id, v))
	}
	r.sets.put(id, s)
	return s, nil
}

// grantFields is a new grant's hash, as HSET arguments.
func grantFields(g Grant, ssid string) []any {
	f := []any{"g", grantHeader(g) + ssid, "c", g.ClientID}
	if g.WebsiteID != "" {
		f = append(f, "w", g.WebsiteID)
	}
	if g.OperatorID != "" {
		f = append(f, "o", g.OperatorID)
	}
	return f
}

func grantHeader(g Grant) string {
	rev := "0"
	if g.Revoked {
		rev = "1"
	}
	return b48(g.ExpiresAt) + rev + b48(g.CreatedAt)
}

// corrupt reports a record the store cannot read: callers fail closed.
func corrupt(what string, err error) error {
	return fmt.Errorf("%w: corrupt %s record: %v", ErrUnavailable, what, err)
}

// grantMeta is a grant's fields as read from Redis ("" when absent).
type grantMeta struct{ g, c, w, o string }

// metaOf reads grant fields from a reply slice (nil entries are absent).
func metaOf(vals []any) grantMeta {
	s := func(i int) string {
		if i < len(vals) {
			v, _ := vals[i].(string)
			return v
		}
		return ""
	}
	return grantMeta{s(0), s(1), s(2), s(3)}
}

// decodeGrant parses a grant's fields. It also returns the grant's scope
// set ID, which token records leave out when they share it.
func (r *Redis) decodeGrant(ctx context.Context, id string, m grantMeta) (Grant, string, error) {
	g := m.g
	if len(g) != grantFieldLen || (g[6] != '0' && g[6] != '1') {
		return Grant{}, "", corrupt("grant", fmt.Errorf("bad field g %q", g))
	}
	ssid := g[grantHeaderLen:]
	set, err := r.scopeSet(ctx, ssid)
	if err != nil {
		return Grant{}, "", err
	}
	return Grant{
		ID:         id,
		ClientID:   m.c,
		WebsiteID:  m.w,
		OperatorID: m.o,
		Scopes:     set,
		CreatedAt:  u48(g[7:13]),
		ExpiresAt:  u48(g[0:6]),
		Revoked:    g[6] == '1',
	}, ssid, nil
}

// tokenHeader is the part of a token record Go writes; the issuing script
// appends the scope set ID unless it is the grant's.
func tokenHeader(t Token) string {
	return string(rune(t.Kind)) + b48(t.ExpiresAt) + b48(t.IssuedAt)
}

// recordState classifies a token record.
type recordState int

const (
	recLive recordState = iota
	recUsed
)

// decodeToken parses a token record of grant g, whose scope set ID is
// gssid.
func (r *Redis) decodeToken(ctx context.Context, rec string, g Grant, gssid string) (Token, recordState, error) {
	if len(rec) < usedLen {
		return Token{}, 0, corrupt("token", fmt.Errorf("too short"))
	}
	exp := u48(rec[1:7])
	switch k := token.Kind(rec[0]); k {
	case token.Access, token.Refresh, token.Code:
	case 'C', 'R':
		if len(rec) != usedLen {
			return Token{}, 0, corrupt("token", fmt.Errorf("bad length %d", len(rec)))
		}
		return Token{Kind: token.Kind(rec[0] + ('a' - 'A')), GrantID: g.ID, ClientID: g.ClientID,
			ExpiresAt: exp}, recUsed, nil
	default:
		return Token{}, 0, corrupt("token", fmt.Errorf("bad kind %q", rec[0]))
	}
	if len(rec) != tokenHeaderLen && len(rec) != tokenHeaderLen+ssidLen {
		return Token{}, 0, corrupt("token", fmt.Errorf("bad length %d", len(rec)))
	}
	iat := u48(rec[7:13])
	var err error
	set := g.Scopes
	if ssid := rec[tokenHeaderLen:]; ssid != "" && ssid != gssid {
		if set, err = r.scopeSet(ctx, ssid); err != nil {
			return Token{}, 0, err
		}
	}
	return Token{
		Kind:      token.Kind(rec[0]),
		GrantID:   g.ID,
		ClientID:  g.ClientID,
		Scopes:    set,
		IssuedAt:  iat,
		ExpiresAt: exp,
	}, recLive, nil
}

// codeParams is what a code carries besides its record: kept in its own
// short-lived key so the grant's hash stays compact.
type codeParams struct {
	RedirectURI         string `json:"r,omitempty"`
	CodeChallenge       string `json:"c,omitempty"`
	CodeChallengeMethod string `json:"m,omitempty"`
}

func encodeCodeParams(t Token) string {
	return mustJSON(codeParams{t.RedirectURI, t.CodeChallenge, t.CodeChallengeMethod})
}

func decodeCodeParams(s string, t *Token) error {
	var p codeParams
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return corrupt("code", err)
	}
	t.RedirectURI, t.CodeChallenge, t.CodeChallengeMethod = p.RedirectURI, p.CodeChallenge, p.CodeChallengeMethod
	return nil
}
