package storage

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// RedisMetrics is a go-redis hook that measures every round trip to Redis
// (one command, or one pipeline or MULTI) and counts the failed ones.
// Add it to the client given to NewRedis with AddHook. Labels are command
// names (or "pipeline", "multi"): never keys or values.
//
//	scopegate_redis_round_trip_seconds{cmd}  histogram
//	scopegate_redis_errors_total{cmd}        counter: errors other than a
//	                                         missing key, a lost WATCH race
//	                                         or a script not yet loaded
type RedisMetrics struct {
	// One observer and counter per label, made up front: the hot path
	// reads a map nobody writes, without the vectors' locks and hashing.
	latency map[string]prometheus.Observer
	errs    map[string]prometheus.Counter
}

// NewRedisMetrics registers the Redis metrics on reg.
func NewRedisMetrics(reg prometheus.Registerer) (*RedisMetrics, error) {
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "scopegate_redis_round_trip_seconds",
		Help:    "Time of one Redis round trip (a command, a pipeline or a MULTI), by command.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 11), // 0.1 ms to about 1 s
	}, []string{"cmd"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scopegate_redis_errors_total",
		Help: "Failed Redis round trips (network, timeout, server errors), by command.",
	}, []string{"cmd"})
	for _, c := range []prometheus.Collector{latency, errs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// The commands scopegate sends, the two kinds of batch, dials, and
	// "other".
	labels := []string{
		"get", "set", "del", "hget", "hset", "hmget", "hlen", "exists", "expire", "pexpire",
		"evalsha", "eval", "script", "zadd", "zrem", "zrange", "zrangebyscore", "zcard",
		"sadd", "srem", "smembers", "sscan", "scan", "mget", "xadd", "xrevrange", "xrange",
		"publish", "subscribe", "ping", "watch", "unwatch", "setnx", "info", "cluster", "hello", "client",
		"pipeline", "multi", "dial", "other",
	}
	m := &RedisMetrics{latency: map[string]prometheus.Observer{}, errs: map[string]prometheus.Counter{}}
	for _, l := range labels {
		m.latency[l] = latency.WithLabelValues(l)
		m.errs[l] = errs.WithLabelValues(l)
	}
	return m, nil
}

// DialHook passes dials through.
func (m *RedisMetrics) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			m.errs["dial"].Inc()
		}
		return c, err
	}
}

// ProcessHook measures one command.
func (m *RedisMetrics) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		m.done(cmd.Name(), start, err)
		return err
	}
}

// ProcessPipelineHook measures one pipeline or MULTI.
func (m *RedisMetrics) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		label := "pipeline"
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			label = "multi"
		}
		m.done(label, start, err)
		return err
	}
}

func (m *RedisMetrics) done(label string, start time.Time, err error) {
	if _, ok := m.latency[label]; !ok {
		label = "other"
	}
	m.latency[label].Observe(time.Since(start).Seconds())
	if err != nil && !expectedRedisError(err) {
		m.errs[label].Inc()
	}
}

// expectedRedisError reports answers that are no fault: a missing key, a
// WATCH race lost (retried), a script to load (go-redis then sends EVAL).
func expectedRedisError(err error) bool {
	return errors.Is(err, redis.Nil) || errors.Is(err, redis.TxFailedErr) || strings.HasPrefix(err.Error(), "NOSCRIPT")
}
