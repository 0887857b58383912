package oauth

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkIntrospect measures IntrospectToken for an active access token
// against a real redis-server on loopback: token parse, one LookupToken
// round trip, the cached client record, re-capping. Compare it with
// BenchmarkRedisGetFloor, a bare GET on the same kind of server: the gap
// is what the protocol layer and the store add to one round trip.
//
//	go test -run '^$' -bench 'Introspect|RedisGetFloor' -benchmem ./oauth
func BenchmarkIntrospect(b *testing.B) {
	e := newEnv(b)
	tok := e.codeFlow(confID)
	ctx := context.Background()
	if in, err := e.p.IntrospectToken(ctx, tok.AccessToken); err != nil || !in.Active {
		b.Fatalf("IntrospectToken = %+v, %v", in, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		in, err := e.p.IntrospectToken(ctx, tok.AccessToken)
		if err != nil || !in.Active {
			b.Fatalf("IntrospectToken = %+v, %v", in, err)
		}
	}
}

// BenchmarkIntrospectParallel is BenchmarkIntrospect from GOMAXPROCS
// goroutines at once, as a busy resource server calls it.
func BenchmarkIntrospectParallel(b *testing.B) {
	e := newEnv(b)
	tok := e.codeFlow(confID)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			in, err := e.p.IntrospectToken(ctx, tok.AccessToken)
			if err != nil || !in.Active {
				b.Errorf("IntrospectToken = %+v, %v", in, err)
				return
			}
		}
	})
}

// BenchmarkRedisGetFloor is the floor for BenchmarkIntrospect: one go-redis
// GET of a 512-byte value from a redis-server on loopback.
func BenchmarkRedisGetFloor(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	if err := e.rdb.Set(ctx, "bench:floor", strings.Repeat("x", 512), 0).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.rdb.Get(ctx, "bench:floor").Result(); err != nil {
			b.Fatal(err)
		}
	}
}
