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
// Not for production: no persistence, no replication, one process.
package embedded

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Tick is how often Start moves TTLs forward.
const Tick = time.Second

// Start starts miniredis on 127.0.0.1 and a free port and returns a client
// to it and a function that stops both (safe to call more than once; it
// tolerates the client having been closed already, e.g. by the store's
// Close). logger gets one WARN saying that data is lost on exit.
func Start(logger *slog.Logger) (redis.UniversalClient, func() error, error) {
	return start(logger, Tick)
}

func start(logger *slog.Logger, tick time.Duration) (redis.UniversalClient, func() error, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("embedded: start: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	logger.Warn("no Redis configured: using an embedded in-memory store; ALL DATA (clients, grants, tokens, audit trail) IS LOST WHEN THE PROCESS EXITS; configure --redis for anything but a trial",
		slog.String("addr", m.Addr()))

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
		close(stop)
		<-done
		err := rdb.Close()
		if errors.Is(err, redis.ErrClosed) {
			err = nil
		}
		m.Close()
		return err
	})
	return rdb, closeFn, nil
}
