package oauth

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// roundTrips counts the commands and pipelines a go-redis client sends:
// each is one round trip.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestHotPathRoundTrips counts the Redis round trips of a warm request on
// the paths resource servers and plugins call all the time: a
// client-credentials token and an introspection cost one each; nothing
// (no audit append) follows.
func TestHotPathRoundTrips(t *testing.T) {
	e := newEnv(t)
	h := &roundTrips{}
	e.rdb.AddHook(h)
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"bucket:url:read"}}
	// Warm: the script is loaded, the client cached, the grant created.
	r := e.tokenForm(cc, e.basicFor(confID))
	if r.status != http.StatusOK {
		t.Fatalf("client credentials: %d %s", r.status, r.body)
	}
	at, _ := r.json(t)["access_token"].(string)
	e.active(at)

	for _, tc := range []struct {
		name string
		call func()
		want int64
	}{
		{"client credentials", func() {
			if r := e.tokenForm(cc, e.basicFor(confID)); r.status != http.StatusOK {
				t.Fatalf("client credentials: %d %s", r.status, r.body)
			}
		}, 1},
		{"introspection", func() {
			if !e.active(at) {
				t.Fatal("token inactive")
			}
		}, 1},
	} {
		before := h.n.Load()
		tc.call()
		if got := h.n.Load() - before; got != tc.want {
			t.Errorf("%s: %d Redis round trips, want %d", tc.name, got, tc.want)
		}
	}
}
