package storage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
)

// testLimiter runs the Limiter contract on one store: peeks count nothing,
// charges count up to the burst, other keys are unaffected, and an
// unreachable backend is ErrUnavailable.
func testLimiter(t *testing.T, s *storage.Redis, down *storage.Redis) {
	ctx := t.Context()
	lim := storage.PerMinute(5)
	for i := range 50 {
		if ok, _, err := s.Peek(ctx, "k1", lim); err != nil || !ok {
			t.Fatalf("peek %d on a fresh key: %v %v", i, ok, err)
		}
	}
	for i := range 5 {
		if ok, _, err := s.Charge(ctx, "k1", lim); err != nil || !ok {
			t.Fatalf("charge %d within the burst: %v %v", i, ok, err)
		}
	}
	ok, retry, err := s.Peek(ctx, "k1", lim)
	if err != nil || ok {
		t.Fatalf("peek after 5 charges of 5/min: allowed=%v err=%v", ok, err)
	}
	// One event drains every 12 s at 5/min.
	if retry < time.Second || retry > 13*time.Second {
		t.Errorf("retryAfter %v, want about 12s", retry)
	}
	if ok, retry, err := s.Charge(ctx, "k1", lim); err != nil || ok || retry < time.Second {
		t.Fatalf("charge over the limit: allowed=%v retry=%v err=%v", ok, retry, err)
	}
	if ok, _, err := s.Peek(ctx, "k2", lim); err != nil || !ok {
		t.Fatalf("another key is affected: %v %v", ok, err)
	}
	if ok, _, err := s.Peek(ctx, "k1", storage.Limit{}); err != nil || !ok {
		t.Fatalf("a zero limit limits: %v %v", ok, err)
	}
	if _, _, err := down.Peek(ctx, "k1", lim); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("peek on a dead backend: %v, want ErrUnavailable", err)
	}
	if _, _, err := down.Charge(ctx, "k1", lim); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("charge on a dead backend: %v, want ErrUnavailable", err)
	}
}

func TestLimiterRedisServer(t *testing.T) {
	addr := redistest.StartServer(t)
	s := storage.NewRedis(redis.NewClient(&redis.Options{Addr: addr}), storage.RedisOptions{Prefix: "lim"})
	down := storage.NewRedis(redis.NewClient(noRetry(deadAddr(t))), storage.RedisOptions{})
	t.Cleanup(func() { _ = s.Close(); _ = down.Close() })
	testLimiter(t, s, down)
}

// redis_rate's Lua (redis.replicate_commands, TIME, SET EX) runs on the
// embedded miniredis too.
func TestLimiterEmbedded(t *testing.T) {
	rdb, _ := startEmbedded(t)
	s := storage.NewRedis(rdb, storage.RedisOptions{Prefix: "lim"})
	down := storage.NewRedis(redis.NewClient(noRetry(deadAddr(t))), storage.RedisOptions{})
	t.Cleanup(func() { _ = down.Close() })
	testLimiter(t, s, down)
}
