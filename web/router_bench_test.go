package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// BenchmarkRouter measures what the web layer (Gin, the request logger,
// metrics, security headers, the cross-origin guard, the rate-limit peek and
// outcome writer) adds to the OAuth handlers: each endpoint is called once
// through the whole public router, configured as `scopegate serve` does it
// (info-level logger, a Prometheus registry, default rate limits with the
// failure feed followed), and once on the bare oauth.Provider handler, side
// by side in one run over one real redis-server. allocs/op is the figure to
// watch; ns/op includes the Redis round trip(s).
//
//	go test -run '^$' -bench Router -benchmem ./web
func BenchmarkRouter(b *testing.B) {
	ctx := context.Background()
	addr := redistest.StartServer(b)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	b.Cleanup(func() { _ = store.Close() })
	stop, err := store.FollowRateLimits(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	p := oauth.New(oauth.Config{Issuer: "http://127.0.0.1"}, store)
	w := New(Options{
		Provider: p, Store: store, Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})

	now := time.Now()
	plugin, pluginSecret := "bench-plugin", token.NewSecret()
	rs, rsSecret := "bench-rs", token.NewSecret()
	for _, c := range []storage.Client{
		{ID: plugin, Name: plugin, Type: storage.Confidential, Secrets: []storage.SecretHash{oauth.HashSecret(pluginSecret)},
			Role: storage.RolePlugin, GrantTypes: []string{"client_credentials"}, Approved: scopes.MustParse("bucket:url:read"), Status: storage.Active, CreatedAt: now, UpdatedAt: now},
		{ID: rs, Name: rs, Type: storage.Confidential, Secrets: []storage.SecretHash{oauth.HashSecret(rsSecret)},
			Role: storage.RoleResourceServer, Status: storage.Active, CreatedAt: now, UpdatedAt: now},
	} {
		if err := store.CreateClient(ctx, c); err != nil {
			b.Fatal(err)
		}
	}

	post := func(b *testing.B, h http.Handler, path, form, id, secret string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		req.RemoteAddr = "127.0.0.1:40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
		}
		return rec
	}
	ccForm := url.Values{"grant_type": {"client_credentials"}, "scope": {"bucket:url:read"}}.Encode()
	rec := post(b, w.Handler(), "/oauth/token", ccForm, plugin, pluginSecret)
	at := rec.Body.String()
	at = at[strings.Index(at, `"access_token":"`)+len(`"access_token":"`):]
	at = at[:strings.IndexByte(at, '"')]
	inForm := url.Values{"token": {at}}.Encode()
	if body := post(b, w.Handler(), "/oauth/introspect", inForm, rs, rsSecret).Body.String(); !strings.Contains(body, `"active":true`) {
		b.Fatalf("introspect: %s", body)
	}

	for _, sc := range []struct {
		name, path, form, id, secret string
		bare                         http.HandlerFunc
	}{
		{"introspect", "/oauth/introspect", inForm, rs, rsSecret, p.Introspect},
		{"client_credentials", "/oauth/token", ccForm, plugin, pluginSecret, p.Token},
	} {
		for _, h := range []struct {
			name string
			h    http.Handler
		}{{"router", w.Handler()}, {"bare", sc.bare}} {
			b.Run(sc.name+"/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					post(b, h.h, sc.path, sc.form, sc.id, sc.secret)
				}
			})
		}
	}
}
