package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisCommandsEndAtTheRequestDeadline: a Redis that accepts
// connections and never answers, with the URL's own timeouts disabled
// (read_timeout=-1): a command issued by a request still ends at the
// request's deadline, because serve gives every request one (withDeadline)
// and the Redis client honours contexts (ContextTimeoutEnabled; go-redis
// ignores context deadlines by default and would wait for ever here).
func TestRedisCommandsEndAtTheRequestDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	opts, err := redisOptions("redis://" + ln.Addr().String() + "?read_timeout=-1&write_timeout=-1")
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewUniversalClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })

	errc := make(chan error, 1)
	h := withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Deadline(); !ok {
			t.Error("the request's context has no deadline")
		}
		errc <- rdb.Ping(r.Context()).Err()
	}), 200*time.Millisecond)
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("PING to a silent server succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Redis command outlived its request's 200 ms deadline by 10 s")
	}
}
