package storage

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The failure feed keeps the rate limits off the success path.
//
// Limits count failures only, so a key that has not failed within its
// period cannot be over its limit, and peeking at it in Redis costs a round
// trip for nothing on every token, introspection and revocation request.
// Each Charge (a failure) is therefore also announced on the pub/sub channel
// P:rl:failed (payload: the hashed limit key and the limit's period); every
// instance that follows the feed (FollowRateLimits) marks that key "hot"
// for one period, and Peek asks Redis only about hot keys. While the feed is
// not followed, or after its subscription was lost and re-established
// (messages may have been missed), every key is treated as hot: Peek always
// asks Redis, which is the exact, shared answer.
//
// The one window left is the pub/sub delivery time between a failure
// charged on one instance and the message reaching another (well under a
// millisecond on a LAN): a guess made on that other instance within that
// window is not refused before it runs, but it is still charged if it fails.

// failureFeed is an instance's local view of which limit keys failed
// recently anywhere.
type failureFeed struct {
	mu          sync.Mutex
	live        bool      // subscription confirmed and not lost since
	allHotUntil time.Time // after a re-subscription: peek everything until then
	hot         map[string]time.Time
	lastSweep   time.Time
}

// maxFeedPeriod bounds a period taken from a message.
const maxFeedPeriod = 24 * time.Hour

// needsPeek reports whether Redis must be asked about rate key rk.
func (f *failureFeed) needsPeek(rk string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.live || now.Before(f.allHotUntil) {
		return true
	}
	until, ok := f.hot[rk]
	if !ok {
		return false
	}
	if now.Before(until) {
		return true
	}
	delete(f.hot, rk)
	return false
}

// markHot records a failure on rate key rk, hot for period.
func (f *failureFeed) markHot(rk string, period time.Duration, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hot == nil {
		f.hot = make(map[string]time.Time)
	}
	if until := now.Add(period); until.After(f.hot[rk]) {
		f.hot[rk] = until
	}
	// Sweep expired keys now and then so an attack from many addresses
	// leaves nothing behind once it stops.
	if now.Sub(f.lastSweep) > time.Minute {
		f.lastSweep = now
		for k, until := range f.hot {
			if !now.Before(until) {
				delete(f.hot, k)
			}
		}
	}
}

func (f *failureFeed) setLive(live bool, allHotUntil time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live = live
	if allHotUntil.After(f.allHotUntil) {
		f.allHotUntil = allHotUntil
	}
}

func (k keys) rateFailures() string { return k.p + ":rl:failed" }

// announceFailure publishes a charged failure to every instance.
func (r *Redis) announceFailure(ctx context.Context, rk string, period time.Duration) error {
	r.feed.markHot(rk, period, r.now())
	msg := rk + " " + strconv.FormatInt(period.Milliseconds(), 10)
	if err := r.rdb.Publish(ctx, r.k.rateFailures(), msg).Err(); err != nil {
		return unavailable("rate failure announce", err)
	}
	return nil
}

// FollowRateLimits subscribes this store to the failure feed until ctx is
// done or stop is called, so that Peek skips Redis for keys that have not
// failed recently. It returns once the subscription is confirmed. Without
// it, Peek always asks Redis.
func (r *Redis) FollowRateLimits(ctx context.Context) (stop func(), err error) {
	stop, err = r.follow(ctx, r.k.rateFailures(), "rate-limit failures", func(payload string) {
		rk, ms, found := strings.Cut(payload, " ")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !found || err != nil || n <= 0 {
			return
		}
		r.feed.markHot(rk, min(time.Duration(n)*time.Millisecond, maxFeedPeriod), r.now())
	}, func() {
		// Failures may have been missed: every key is hot for the longest
		// period we use.
		r.feed.setLive(true, r.now().Add(time.Hour))
	}, func() { r.feed.setLive(false, time.Time{}) })
	if err != nil {
		return nil, err
	}
	r.feed.setLive(true, time.Time{})
	return stop, nil
}
