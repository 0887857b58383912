package storage_test

import (
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/conformance"
	"github.com/scopegate/scopegate/storage/embedded"
	"github.com/scopegate/scopegate/storage/redistest"
)

// fixture builds a conformance fixture over rdb: a fresh key prefix per
// subtest, so subtests share one server and run in parallel.
func fixture(t *testing.T, n *atomic.Int64, rdb, raw redis.UniversalClient, down func(*testing.T) redis.UniversalClient) conformance.Fixture {
	return fixtureWaiting(t, n, rdb, raw, down, storage.ReplicaWait{})
}

// fixtureWaiting is fixture with a store that waits for replicas.
func fixtureWaiting(t *testing.T, n *atomic.Int64, rdb, raw redis.UniversalClient, down func(*testing.T) redis.UniversalClient, wait storage.ReplicaWait) conformance.Fixture {
	prefix := fmt.Sprintf("t%d", n.Add(1))
	clock := conformance.NewClock()
	s := storage.NewRedis(rdb, storage.RedisOptions{Prefix: prefix, Now: clock.Now, ReplicaWait: wait})
	t.Cleanup(func() { _ = s.Close(); _ = raw.Close() })
	return conformance.Fixture{Store: s, Clock: clock, AtRest: redisAtRest{raw: raw, prefix: prefix},
		Down: func(t *testing.T) storage.Store {
			return storage.NewRedis(down(t), storage.RedisOptions{Prefix: prefix, Now: clock.Now})
		}}
}

// noRetry fails fast once the backend is gone.
func noRetry(addr string) *redis.Options {
	return &redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1}
}

func TestRedisServer(t *testing.T) {
	addr := redistest.StartServer(t)
	var n atomic.Int64
	conformance.RunTests(t, func(t *testing.T) conformance.Fixture {
		return fixture(t, &n, redis.NewClient(&redis.Options{Addr: addr}), redis.NewClient(&redis.Options{Addr: addr}),
			func(t *testing.T) redis.UniversalClient { // a server that was up and died
				srv := redistest.Start(t)
				c := redis.NewClient(noRetry(srv.Addr))
				if err := c.Ping(t.Context()).Err(); err != nil {
					t.Fatal(err)
				}
				srv.Kill()
				return c
			})
	})
}

func TestRedisCluster(t *testing.T) {
	addrs := redistest.StartCluster(t)
	var n atomic.Int64
	conformance.RunTests(t, func(t *testing.T) conformance.Fixture {
		return fixture(t, &n, redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}), redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}),
			func(t *testing.T) redis.UniversalClient { // no node answers
				return redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{deadAddr(t)}, MaxRetries: -1, MaxRedirects: -1, DialerRetries: 1})
			})
	})
}

func TestEmbedded(t *testing.T) {
	var n atomic.Int64
	conformance.RunTests(t, func(t *testing.T) conformance.Fixture {
		rdb, _ := startEmbedded(t)
		// The embedded store has no address: other clients share its dialer.
		return fixture(t, &n, rdb, redis.NewClient(optionsOf(rdb)),
			func(t *testing.T) redis.UniversalClient { // the embedded server stopped
				rdb, stop := startEmbedded(t)
				o := optionsOf(rdb)
				o.MaxRetries, o.DialerRetries = -1, 1
				c := redis.NewClient(o)
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				return c
			})
	})
}

func startEmbedded(t *testing.T) (redis.UniversalClient, func() error) {
	rdb, stop, err := embedded.Start(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })
	return rdb, stop
}

// optionsOf copies a client's options, its Dialer included.
func optionsOf(rdb redis.UniversalClient) *redis.Options {
	o := *rdb.(*redis.Client).Options()
	return &o
}

// deadAddr is a local address nothing listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
