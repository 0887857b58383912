package storage

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Limit is a rate of events: Burst at once, then Rate per Period (GCRA, the
// generic cell rate algorithm, as in github.com/go-redis/redis_rate).
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// PerMinute is n events a minute with a burst of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute, Burst: n} }

// IsZero reports whether the limit is unset (no limit).
func (l Limit) IsZero() bool { return l.Rate <= 0 || l.Period <= 0 || l.Burst <= 0 }

// Limiter keeps rate limits shared by every instance of the server. Keys
// are free-form ("login:addr:192.0.2.1"); the store hashes them.
//
// Limits are meant to count failures only (wrong secrets, guessed codes):
// callers Peek before the expensive work, refuse when the key is over its
// limit, and Charge only when the attempt failed, so successful use never
// counts against a legitimate user.
type Limiter interface {
	// Peek reports whether one more event for key is within limit,
	// counting nothing. retryAfter is set when it is not.
	Peek(ctx context.Context, key string, limit Limit) (allowed bool, retryAfter time.Duration, err error)
	// Charge counts one event for key. allowed is false when the key was
	// already over its limit (the event is then not counted again).
	Charge(ctx context.Context, key string, limit Limit) (allowed bool, retryAfter time.Duration, err error)
}

var _ Limiter = (*Redis)(nil)

// limiter returns the redis_rate limiter over the store's client.
func (r *Redis) limiter() *redis_rate.Limiter { return redis_rate.NewLimiter(r.rdb) }

// rateKey is the Redis key of a limit key: redis_rate adds "rate:" before
// it. The caller's key is hashed, so addresses and client IDs of any shape
// give a short key of one Cluster slot.
func (k keys) rate(key string) string {
	h := sha256.Sum256([]byte(key))
	return k.p + ":rl:" + b64(h[:18])
}

// Quiet reports whether Peek would admit key without asking Redis: the
// store follows the failure feed and no instance has charged key within
// its period (or limit is off). Callers use it to skip the work of an
// asynchronous Peek on the common path.
func (r *Redis) Quiet(key string, limit Limit) bool {
	return limit.IsZero() || !r.feed.needsPeek(r.k.rate(key), r.now())
}

// Peek implements Limiter with redis_rate's GCRA at a cost of zero: the
// script then stores nothing new and reports how many events would still
// fit. One more fits when at least one remains. While the store follows the
// failure feed (FollowRateLimits, limiter_feed.go) it skips Redis for a key
// that no instance has charged within its period.
func (r *Redis) Peek(ctx context.Context, key string, limit Limit) (bool, time.Duration, error) {
	if limit.IsZero() {
		return true, 0, nil
	}
	rk := r.k.rate(key)
	if !r.feed.needsPeek(rk, r.now()) {
		return true, 0, nil // no failure anywhere within its period
	}
	rl := redis_rate.Limit{Rate: limit.Rate, Period: limit.Period, Burst: limit.Burst}
	res, err := r.limiter().AllowN(ctx, rk, rl, 0)
	if err != nil {
		return false, 0, unavailable("rate peek", err)
	}
	if res.Remaining >= 1 {
		return true, 0, nil
	}
	// ResetAfter is how long until the bucket is empty; one event fits
	// once it has drained to Burst-1 events.
	emission := limit.Period / time.Duration(limit.Rate)
	wait := res.ResetAfter - time.Duration(limit.Burst-1)*emission
	if wait < time.Second {
		wait = time.Second
	}
	return false, wait, nil
}

// Charge implements Limiter: one event through redis_rate's GCRA.
func (r *Redis) Charge(ctx context.Context, key string, limit Limit) (bool, time.Duration, error) {
	if limit.IsZero() {
		return true, 0, nil
	}
	rl := redis_rate.Limit{Rate: limit.Rate, Period: limit.Period, Burst: limit.Burst}
	rk := r.k.rate(key)
	res, err := r.limiter().AllowN(ctx, rk, rl, 1)
	if err != nil {
		return false, 0, unavailable("rate charge", err)
	}
	if err := r.announceFailure(ctx, rk, limit.Period); err != nil {
		return false, 0, err
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	wait := res.RetryAfter
	if wait < time.Second {
		wait = time.Second
	}
	return false, wait, nil
}
