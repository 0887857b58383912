package storage_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage"
)

// BenchmarkRedisMetricsHook is what the metrics hook adds to each Redis
// command, without the round trip (the next hook does nothing):
//
//	go test -run='^$' -bench=RedisMetricsHook -benchmem ./storage/
func BenchmarkRedisMetricsHook(b *testing.B) {
	m, err := storage.NewRedisMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	process := m.ProcessHook(func(context.Context, redis.Cmder) error { return nil })
	cmd := redis.NewStringCmd(context.Background(), "evalsha", "x", 1, "k")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = process(ctx, cmd)
	}
}
