package storage

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions configures NewRedis. The zero value is usable.
type RedisOptions struct {
	// Prefix starts every key ("sg" when empty). It must not contain '{',
	// '}', whitespace or control characters. Two stores with different
	// prefixes share a Redis without seeing each other's data.
	Prefix string
	// Now is the clock (time.Now when nil). Every expiry decision is taken
	// against it, not only against Redis TTLs.
	Now func() time.Time
	// AuditRetention is how long audit events are kept (400 days when
	// zero). The audit stream is trimmed by time only: no amount of
	// traffic evicts an event younger than this.
	AuditRetention time.Duration
	// ReplicaWait makes revocations and code/refresh consumption wait for
	// replicas (durable.go). The zero value does not wait.
	ReplicaWait ReplicaWait
}

// Default values of RedisOptions and fixed lifetimes of the store.
const (
	DefaultPrefix         = "sg"
	DefaultAuditRetention = 400 * 24 * time.Hour
	// EmptyGrantTTL is how long CreateGrant keeps a grant given a zero (or
	// past) ExpiresAt: long enough for its first tokens to be issued.
	EmptyGrantTTL = 10 * time.Minute
	// UsedCodeRetention is the least time a redeemed code is remembered
	// as used, so that a replay is detected and revokes the grant.
	UsedCodeRetention = 10 * time.Minute
	// UsedRefreshRetention is the most time a rotated refresh token is
	// remembered as used (never past its own expiry). A thief's use is
	// detected when the real client next refreshes, about one access-token
	// lifetime later; remembering every generation for 30 days would keep
	// ~720 markers per hourly-refreshed grant.
	UsedRefreshRetention = 24 * time.Hour
	// updateRetries bounds optimistic (WATCH/MULTI) updates; then
	// ErrConflict.
	updateRetries = 20
)

// Redis is the Redis implementation of Store over go-redis's UniversalClient:
// the same code runs on a standalone Redis, Sentinel or Redis Cluster. The
// key schema, TTL policy and atomicity are described in the package
// documentation. A Redis is safe for concurrent use.
type Redis struct {
	rdb       redis.UniversalClient
	k         keys
	now       func() time.Time
	retention time.Duration
	sets      scopeCache
	shards    shardCounts
	cc        ccGrants
	wait      ReplicaWait
	feed      failureFeed
	sent      sync.Map // names of the scripts this store has sent in full
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store over rdb. The store owns rdb from then on: Close
// closes it. NewRedis does no I/O. It panics when opt.Prefix is invalid (a
// programming or configuration error that callers validate first).
func NewRedis(rdb redis.UniversalClient, opt RedisOptions) *Redis {
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if !validID(opt.Prefix) {
		panic(fmt.Sprintf("storage: invalid key prefix %q", opt.Prefix))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.AuditRetention <= 0 {
		opt.AuditRetention = DefaultAuditRetention
	}
	return &Redis{rdb: rdb, k: keys{p: opt.Prefix}, now: opt.Now, retention: opt.AuditRetention, wait: opt.ReplicaWait}
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close closes the Redis client given to NewRedis.
func (r *Redis) Close() error { return r.rdb.Close() }

// unavailable wraps a Redis or network error as ErrUnavailable, keeping the
// cause visible to errors.Is / errors.As.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// notFound wraps ErrNotFound with what was looked up.
func notFound(what string) error { return fmt.Errorf("%w: %s", ErrNotFound, what) }

// isNil reports whether err is Redis's "no such key".
func isNil(err error) bool { return errors.Is(err, redis.Nil) }

// validID reports whether s can be part of a key: 1 to 200 printable ASCII
// characters other than space, '{' and '}' (which would break Redis Cluster
// hash tags). IDs are minted by the server (token.NewID) or by admins.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

func checkID(what, id string) error {
	if !validID(id) {
		return fmt.Errorf("storage: invalid %s ID %q", what, id)
	}
	return nil
}

// keys builds every key of the schema (see doc.go). The part in braces is
// the Redis Cluster hash tag: keys sharing it live in one slot.
type keys struct{ p string }

// Grant slot {g:<grantID>}: the grant and its tokens in one hash.
func (k keys) grant(id string) string { return k.p + ":{g:" + id + "}" }
func (k keys) codeParams(id string, h [32]byte) string {
	return k.p + ":{g:" + id + "}:c:" + b64(h[:])
}

// Client slot {c:<clientID>}.
func (k keys) client(id string) string       { return k.p + ":{c:" + id + "}" }
func (k keys) clientGrants(id string) string { return k.p + ":{c:" + id + "}:g" }
func (k keys) clientCC(id string) string     { return k.p + ":{c:" + id + "}:cc" }
func (k keys) clientReviews(id string) string {
	return k.p + ":{c:" + id + "}:rs"
}
func (k keys) review(clientID, id string) string { return k.p + ":{c:" + clientID + "}:r:" + id }

// Website slot {w:<websiteID>}.
func (k keys) website(id string) string       { return k.p + ":{w:" + id + "}" }
func (k keys) websiteGrants(id string) string { return k.p + ":{w:" + id + "}:g" }

// Operator slot {o:<operatorID>}.
func (k keys) operator(id string) string { return k.p + ":{o:" + id + "}" }

// Global keys, each in its own slot.
func (k keys) clients() string        { return k.p + ":clients" }
func (k keys) scopeSets() string      { return k.p + ":scopesets" }
func (k keys) emails() string         { return k.p + ":emails" }
func (k keys) reviews() string        { return k.p + ":reviews" }
func (k keys) pendingReviews() string { return k.p + ":reviews:pending" }
func (k keys) audit() string          { return k.p + ":audit" }
func (k keys) clientChanges() string  { return k.p + ":clients:changed" } // a pub/sub channel
func (k keys) adminTokens() string    { return k.p + ":admin" }
func (k keys) session(h [32]byte) string {
	return k.p + ":session:" + b64(h[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// ttlMillis is the relative TTL for something that must live until exp, at
// least one second (a key given a TTL <= 0 would vanish at once).
func ttlMillis(exp, now time.Time) int64 {
	d := exp.Sub(now).Milliseconds()
	if d < 1000 {
		d = 1000
	}
	return d
}

// hasControl reports whether s holds a byte that the compact records use
// as a separator.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 })
}
