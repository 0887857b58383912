// Package embedded runs an in-process Redis-compatible server
// (github.com/alicebob/miniredis) for trying scopegate without a Redis: the
// server is given a go-redis client to it and uses exactly the same
// storage code as in production. Everything is lost when the process
// exits, which Start says loudly.
//
// miniredis does not expire keys by the wall clock on its own; Start runs a
// ticker that moves its TTLs forward with real time, once a second, so
// expired grants, tokens and sessions go away as they would in Redis. (The
// store checks every expiry against its own clock as well, so a key
// outliving its TTL by up to a second is never treated as live.)
//
// The store listens on no port and has no socket path: each connection of
// the go-redis client is one end of a Unix socket pair whose other end
// miniredis serves, so no other process or local user can connect to it,
// read it or change it.
//
// Not for production: no persistence, no replication, one process.
package embedded

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// errStopped is what a connection attempt gets once the store is stopped.
var errStopped = errors.New("embedded store: stopped")

// Tick is how often Start moves TTLs forward.
const Tick = time.Second

// Start starts miniredis in process, without a listener, and returns a
// client to it (connected through in-memory pipes) and a function that
// stops both (safe to call more than once; it tolerates the client having
// been closed already, e.g. by the store's Close). logger gets one WARN
// saying that data is lost on exit.
func Start(logger *slog.Logger) (redis.UniversalClient, func() error, error) {
	rdb, stop, _, err := start(logger, Tick)
	return rdb, stop, err
}

func start(logger *slog.Logger, tick time.Duration) (redis.UniversalClient, func() error, *miniredis.Miniredis, error) {
	m := miniredis.NewMiniRedis()
	// Dial starts miniredis without a listener; that first connection is
	// not used.
	first, err := m.Dial()
	if err != nil {
		return nil, nil, nil, err
	}
	first.Close()
	srv := m.Server()
	var stopped atomic.Bool
	rdb := redis.NewClient(&redis.Options{
		Addr: "embedded", // a name for logs only: Dialer never uses it
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			if stopped.Load() {
				return nil, errStopped
			}
			c, s, err := connPair()
			if err != nil {
				return nil, err
			}
			srv.ServeConn(s)
			return c, nil
		},
	})
	logger.Warn("no Redis configured: using an embedded in-memory store; ALL DATA (clients, grants, tokens, audit trail) IS LOST WHEN THE PROCESS EXITS; configure --redis for anything but a trial",
		slog.String("listener", "none (in-process pipes only; no other process can connect)"))

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(tick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	closeFn := sync.OnceValue(func() error {
		stopped.Store(true)
		close(stop)
		<-done
		err := rdb.Close()
		if errors.Is(err, redis.ErrClosed) {
			err = nil
		}
		m.Close()
		return err
	})
	return rdb, closeFn, m, nil
}
