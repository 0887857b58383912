package storage

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage/redistest"
)

// TestRateLimitFailureFeed: an instance following the failure feed asks
// Redis nothing to admit a key that never failed (the success path stays
// at one round trip), yet refuses a key that failed past its limit on
// another instance; an instance not following the feed always asks Redis.
func TestRateLimitFailureFeed(t *testing.T) {
	addr := redistest.StartServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	newStore := func(h redis.Hook) *Redis {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		if h != nil {
			rdb.AddHook(h)
		}
		s := NewRedis(rdb, RedisOptions{})
		t.Cleanup(func() { s.Close() })
		return s
	}
	var bCmds, cCmds redistest.Counter
	a, b, c := newStore(nil), newStore(&bCmds), newStore(&cCmds)
	for name, s := range map[string]*Redis{"a": a, "b": b} {
		stop, err := s.FollowRateLimits(ctx)
		if err != nil {
			t.Fatalf("%s: FollowRateLimits: %v", name, err)
		}
		t.Cleanup(stop)
	}
	lim := PerMinute(3)

	before := bCmds.Commands.Load()
	for range 10 {
		if ok, _, err := b.Peek(ctx, "oauth_addr:192.0.2.1", lim); !ok || err != nil {
			t.Fatalf("cold key: Peek = %v, %v; want allowed", ok, err)
		}
	}
	if got := bCmds.Commands.Load() - before; got != 0 {
		t.Fatalf("following instance sent %d commands to admit a key that never failed; want 0", got)
	}

	before = cCmds.Commands.Load()
	if ok, _, err := c.Peek(ctx, "oauth_addr:192.0.2.1", lim); !ok || err != nil {
		t.Fatalf("not following: Peek = %v, %v; want allowed", ok, err)
	}
	if cCmds.Commands.Load() == before {
		t.Fatal("an instance not following the feed admitted a key without asking Redis")
	}

	for i := range 3 {
		if ok, _, err := a.Charge(ctx, "oauth_addr:192.0.2.66", lim); !ok || err != nil {
			t.Fatalf("charge %d on a: %v, %v", i+1, ok, err)
		}
	}
	// The instance that charged refuses at once.
	if ok, retry, err := a.Peek(ctx, "oauth_addr:192.0.2.66", lim); ok || err != nil || retry <= 0 {
		t.Fatalf("a after 3 failures: Peek = %v, %v, %v; want refused with a wait", ok, retry, err)
	}
	// The other follows as soon as the announcement arrives (pub/sub is
	// asynchronous: poll with a deadline).
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, _, err := b.Peek(ctx, "oauth_addr:192.0.2.66", lim)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b never refused a key that failed past its limit on a")
		}
		runtime.Gosched()
	}
	// And the not-following instance refuses too, from Redis.
	if ok, _, err := c.Peek(ctx, "oauth_addr:192.0.2.66", lim); ok || err != nil {
		t.Fatalf("c: Peek = %v, %v; want refused", ok, err)
	}
}

// TestRateLimitFeedReadsMessagesSafely: junk on the channel changes nothing.
func TestRateLimitFeedReadsMessagesSafely(t *testing.T) {
	s, rdb := testStore(t, RedisOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop, err := s.FollowRateLimits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, junk := range []string{"", "x", "x y", "x -5", "x 0", " 100"} {
		if err := rdb.Publish(ctx, s.k.rateFailures(), junk).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A real announcement after the junk proves the junk was read first.
	rk := s.k.rate("k")
	if err := rdb.Publish(ctx, s.k.rateFailures(), rk+" 60000").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !s.feed.needsPeek(rk, s.now()) {
		if time.Now().After(deadline) {
			t.Fatal("announcement never arrived")
		}
		runtime.Gosched()
	}
	if s.feed.needsPeek(s.k.rate("other"), s.now()) {
		t.Fatal("junk messages made another key hot")
	}
}
