package storage_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// BenchmarkDurability prices Redis's persistence settings side by side in
// one run: the same writes (issuing an access token, revoking a grant) on a
// redis-server without persistence, with an append-only file fsynced every
// second, and fsynced before every reply (appendfsync always, what the
// README asks for). "seq" is one caller waiting for each write: the fsync
// is on its path. "par" is 16 concurrent callers: Redis fsyncs once per
// event-loop turn for all the writes of that turn, so throughput suffers
// less than latency. The AOF is in a temporary directory: run it on the
// disk Redis will use (TMPDIR) for figures that mean something.
//
//	go test -run='^$' -bench=Durability -benchtime=2000x ./storage/
func BenchmarkDurability(b *testing.B) {
	for _, m := range []struct {
		name string
		args []string
	}{
		{"aof-off", nil},
		{"everysec", []string{"--appendonly", "yes", "--appendfsync", "everysec"}},
		{"always", []string{"--appendonly", "yes", "--appendfsync", "always"}},
	} {
		b.Run(m.name+"/issue-seq", func(b *testing.B) {
			s := durabilityStore(b, m.args)
			gs := grants(b, s, 100, 10, 100)
			ctx := b.Context()
			i := 0
			for b.Loop() {
				if err := s.IssueTokens(ctx, newTok(token.Access, gs[i%len(gs)], time.Hour)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(m.name+"/issue-par", func(b *testing.B) {
			s := durabilityStore(b, m.args)
			gs := grants(b, s, 100, 10, 100)
			ctx := b.Context()
			var n atomic.Int64
			b.SetParallelism(8) // 8 × GOMAXPROCS (2 here) callers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if err := s.IssueTokens(ctx, newTok(token.Access, gs[int(i)%len(gs)], time.Hour)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(m.name+"/revoke-seq", func(b *testing.B) {
			s := durabilityStore(b, m.args)
			gs := grants(b, s, b.N, 10, 1000)
			parallel(b, b.N, func(i int) error {
				return s.IssueTokens(b.Context(), newTok(token.Access, gs[i], time.Hour))
			})
			ctx := b.Context()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.RevokeGrant(ctx, gs[i].ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func durabilityStore(b *testing.B, args []string) *storage.Redis {
	b.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(b, args...).Addr, PoolSize: 64})
	s := storage.NewRedis(rdb, storage.RedisOptions{})
	b.Cleanup(func() { _ = s.Close() })
	return s
}
