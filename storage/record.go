package storage

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage/token"
)

// Compact records. Grants and tokens are the bulk of what is stored, so
// they are short fixed-width strings that Lua scripts read with string.sub,
// kept together in one hash per grant (P:{g:<id>}) that Redis stores in its
// compact listpack encoding as long as every value is at most 64 bytes:
//
//	field "g"   <expires:13><revoked:1><created:13><scopeset:16>   (43 bytes)
//	field "c"   client ID
//	field "w"   website ID (absent for client credentials)
//	field "o"   operator ID (absent for client credentials)
//	field "p"   prune bookkeeping (hash length after the last prune)
//	32 bytes    SHA-256 of a token → <kind:1><expires:13><issued:13>[<scopeset:16>]
//
// Times are 13-digit Unix milliseconds; revoked is '0' or '1'. kind is 'a',
// 'r' or 'c' for a live access token, refresh token or code; the token's
// scope set ID is left out when it is the grant's (the common case: 27
// bytes a token). A used refresh token or code becomes the marker
// <KIND:1><keep:13> ('R' or 'C'), kept until keep.
//
// A scope set ID is base64url of the first 12 bytes of the SHA-256 of the
// set's canonical string; P:scopesets maps it back. Scope sets are few and
// immutable, so a store caches them in memory: a 6-scope grant costs 16
// bytes instead of some 200, and no token ever carries a scope string.

const (
	grantHeaderLen = 27 // expires, revoked, created
	ssidLen        = 16
	grantFieldLen  = grantHeaderLen + ssidLen
	tokenHeaderLen = 27 // kind, expires, issued
)

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
	return ms13(g.ExpiresAt) + rev + ms13(g.CreatedAt)
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
	if len(g) != grantFieldLen || (g[13] != '0' && g[13] != '1') {
		return Grant{}, "", corrupt("grant", fmt.Errorf("bad field g %q", g))
	}
	exp, err1 := strconv.ParseInt(g[0:13], 10, 64)
	created, err2 := strconv.ParseInt(g[14:27], 10, 64)
	if err1 != nil || err2 != nil {
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
		CreatedAt:  time.UnixMilli(created),
		ExpiresAt:  time.UnixMilli(exp),
		Revoked:    g[13] == '1',
	}, ssid, nil
}

// tokenHeader is the part of a token record Go writes; the issuing script
// appends the scope set ID unless it is the grant's.
func tokenHeader(t Token) string {
	return string(rune(t.Kind)) + ms13(t.ExpiresAt) + ms13(t.IssuedAt)
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
	if len(rec) < 14 {
		return Token{}, 0, corrupt("token", fmt.Errorf("too short"))
	}
	exp, err := strconv.ParseInt(rec[1:14], 10, 64)
	if err != nil {
		return Token{}, 0, corrupt("token", err)
	}
	switch k := token.Kind(rec[0]); k {
	case token.Access, token.Refresh, token.Code:
	case 'C', 'R':
		return Token{Kind: token.Kind(rec[0] + ('a' - 'A')), GrantID: g.ID, ClientID: g.ClientID,
			ExpiresAt: time.UnixMilli(exp)}, recUsed, nil
	default:
		return Token{}, 0, corrupt("token", fmt.Errorf("bad kind %q", rec[0]))
	}
	if len(rec) != tokenHeaderLen && len(rec) != tokenHeaderLen+ssidLen {
		return Token{}, 0, corrupt("token", fmt.Errorf("bad length %d", len(rec)))
	}
	iat, err := strconv.ParseInt(rec[14:27], 10, 64)
	if err != nil {
		return Token{}, 0, corrupt("token", err)
	}
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
		IssuedAt:  time.UnixMilli(iat),
		ExpiresAt: time.UnixMilli(exp),
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
