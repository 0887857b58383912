package storage_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
)

// testConsents: a consent transaction is taken once, by exactly one of
// many concurrent takers; unknown IDs are ErrNotFound.
func testConsents(t *testing.T, s *storage.Redis) {
	ctx := t.Context()
	want := storage.ConsentTx{Session: "s", Request: "r"}
	if err := s.CreateConsent(ctx, "tx-1", want, time.Minute); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 20 {
		wg.Go(func() {
			got, err := s.TakeConsent(ctx, "tx-1")
			switch {
			case err == nil:
				if got != want {
					t.Errorf("took %+v, want %+v", got, want)
				}
				mu.Lock()
				won++
				mu.Unlock()
			case !errors.Is(err, storage.ErrNotFound):
				t.Errorf("take: %v", err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of 20 concurrent takes succeeded, want exactly 1", won)
	}
	if _, err := s.TakeConsent(ctx, "never-made"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}

func TestConsentsRedisServer(t *testing.T) {
	addr := redistest.StartServer(t)
	s := storage.NewRedis(redis.NewClient(&redis.Options{Addr: addr}), storage.RedisOptions{Prefix: "consent"})
	t.Cleanup(func() { _ = s.Close() })
	testConsents(t, s)
}

func TestConsentsEmbedded(t *testing.T) {
	rdb, _ := startEmbedded(t)
	testConsents(t, storage.NewRedis(rdb, storage.RedisOptions{Prefix: "consent"}))
}
