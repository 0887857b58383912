package resource_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scopegate/scopegate/oauth/resource"
)

func activeBody(scope, website string, exp time.Time) map[string]any {
	return map[string]any{"active": true, "scope": scope, "client_id": "p1", "sub": "op-1", "website_id": website, "exp": exp.Unix(), "token_type": "Bearer"}
}

func TestCacheExpiry(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name      string
		cacheTTL  time.Duration
		negTTL    time.Duration
		exp       time.Duration // token exp from t0; 0: inactive token
		advance   time.Duration
		wantCalls int64 // after two lookups separated by advance
	}{
		{"reused within the TTL", 2 * time.Second, 0, time.Hour, 1900 * time.Millisecond, 1},
		{"asked again after the TTL", 2 * time.Second, 0, time.Hour, 2 * time.Second, 2},
		{"never past the token's exp", 2 * time.Second, 0, time.Second, time.Second, 2},
		{"inactive reused for the negative TTL", 5 * time.Second, 500 * time.Millisecond, 0, 400 * time.Millisecond, 1},
		{"inactive asked again after it", 5 * time.Second, 500 * time.Millisecond, 0, 500 * time.Millisecond, 2},
		{"default negative TTL is 1 s", 5 * time.Second, 0, 0, time.Second, 2},
		{"negative caching off", 5 * time.Second, -1, 0, 0, 2},
		{"cache off", -1, 0, time.Hour, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newFakeAS(t)
			if tt.exp != 0 {
				as.set("tok", activeBody("bucket:url:read", "", t0.Add(tt.exp)))
			}
			clk := &clock{now: t0}
			in := resource.New(resource.Config{IntrospectionURL: as.url(), ClientID: "api", ClientSecret: "secret",
				CacheTTL: tt.cacheTTL, NegativeTTL: tt.negTTL, Now: clk.Now})
			for i := range 2 {
				got, err := in.Introspect(context.Background(), "tok")
				if err != nil || got.Active != (tt.exp != 0) {
					t.Fatalf("lookup %d: %+v %v", i, got, err)
				}
				clk.add(tt.advance)
			}
			if n := as.calls.Load(); n != tt.wantCalls {
				t.Fatalf("%d introspection calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

// TestCacheIsBounded: with room for 2, a third token evicts the least
// recently used one.
func TestCacheIsBounded(t *testing.T) {
	as := newFakeAS(t)
	exp := time.Now().Add(time.Hour)
	for _, tok := range []string{"a", "b", "c"} {
		as.set(tok, activeBody("bucket:url:read", "", exp))
	}
	in := resource.New(resource.Config{IntrospectionURL: as.url(), ClientID: "api", ClientSecret: "secret", CacheTTL: time.Hour, CacheSize: 2})
	for _, tok := range []string{"a", "b", "a", "c", "a", "b"} {
		if _, err := in.Introspect(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	// a (miss), b (miss), a (hit), c (miss, evicts b), a (hit), b (miss).
	if n := as.calls.Load(); n != 4 {
		t.Fatalf("%d introspection calls, want 4", n)
	}
}

// TestUnavailableIsNotCached: an error answer is never remembered; the next
// request asks again and gets the real answer.
func TestUnavailableIsNotCached(t *testing.T) {
	as := newFakeAS(t)
	as.set("tok", activeBody("bucket:url:read", "", time.Now().Add(time.Hour)))
	in := resource.New(resource.Config{IntrospectionURL: as.url(), ClientID: "api", ClientSecret: "bad", CacheTTL: time.Hour})
	if _, err := in.Introspect(context.Background(), "tok"); !errors.Is(err, resource.ErrUnavailable) {
		t.Fatalf("wrong resource-server secret: %v, want ErrUnavailable", err)
	}
	if _, err := in.Introspect(context.Background(), "tok"); !errors.Is(err, resource.ErrUnavailable) {
		t.Fatalf("second call: %v", err)
	}
	if n := as.calls.Load(); n != 2 {
		t.Fatalf("%d calls: an unavailable answer was cached", n)
	}
}

// TestCallerCancelDoesNotFailOthers: the first caller of a shared
// introspection gives up; the others still get the answer.
func TestCallerCancelDoesNotFailOthers(t *testing.T) {
	as := newFakeAS(t)
	as.set("tok", activeBody("bucket:url:read", "", time.Now().Add(time.Hour)))
	gate := make(chan struct{})
	as.gate = gate
	in := resource.New(resource.Config{IntrospectionURL: as.url(), ClientID: "api", ClientSecret: "secret", CacheTTL: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := in.Introspect(ctx, "tok"); first <- err }()
	second := make(chan error, 1)
	// Wait until the shared call is at the server before the second caller
	// joins and the first gives up.
	for as.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	go func() {
		tok, err := in.Introspect(context.Background(), "tok")
		if err == nil && !tok.Active {
			err = errors.New("inactive")
		}
		second <- err
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v", err)
	}
	close(gate)
	if err := <-second; err != nil {
		t.Fatalf("second caller: %v", err)
	}
	if n := as.calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

// TestWebsiteBinding: a website scope route demands the token's website in
// the path; a plugin scope route has no website.
func TestWebsiteBinding(t *testing.T) {
	as := newFakeAS(t)
	exp := time.Now().Add(time.Hour)
	as.set("site-a", activeBody("website:people:data:read website:people:data:write", "site-a", exp))
	as.set("plugin", activeBody("plugin:subscription:bill:write", "", exp))
	in := resource.New(resource.Config{IntrospectionURL: as.url(), ClientID: "api", ClientSecret: "secret"})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := resource.FromContext(r.Context())
		fmt.Fprint(w, t.WebsiteID+"|"+t.Subject+"|"+t.ClientID+"|"+t.Scope.String())
	})
	m := http.NewServeMux()
	m.Handle("/v1/website/{website_id}/people/data", in.Require("website:people:data")(ok))
	m.Handle("/v1/site/{site}/people/data", in.Require("website:people:data", resource.WebsiteParam("site"))(ok))
	m.Handle("/v1/people/data", in.Require("website:people:data")(ok)) // no website in the path: nothing passes
	m.Handle("/v1/plugins/{website_id}/bill", in.Require("plugin:subscription:bill")(ok))
	m.Handle("/v1/website/{website_id}/realtime", in.Authenticate(resource.WebsiteParam("website_id"))(ok))
	tests := []struct {
		tok, method, path string
		want              int
		wantBody          string
	}{
		{"site-a", "GET", "/v1/website/site-a/people/data", 200, "site-a|op-1|p1|website:people:data:read website:people:data:write"},
		{"site-a", "PATCH", "/v1/website/site-a/people/data", 200, ""},
		{"site-a", "GET", "/v1/website/site-b/people/data", 403, ""},
		{"site-a", "GET", "/v1/site/site-a/people/data", 200, ""},
		{"site-a", "GET", "/v1/site/site-b/people/data", 403, ""},
		{"site-a", "GET", "/v1/people/data", 403, ""},
		{"plugin", "GET", "/v1/website/site-a/people/data", 403, ""},
		{"plugin", "POST", "/v1/plugins/site-a/bill", 200, "|op-1|p1|plugin:subscription:bill:write"},
		{"site-a", "POST", "/v1/plugins/site-a/bill", 403, ""},
		{"site-a", "GET", "/v1/website/site-a/realtime", 200, ""},
		{"site-a", "GET", "/v1/website/site-b/realtime", 403, ""},
		{"gone", "GET", "/v1/website/site-a/realtime", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.tok+" "+tt.method+" "+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+tt.tok)
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d (%s, %s)", rec.Code, tt.want, rec.Header().Get("WWW-Authenticate"), rec.Body)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Fatalf("handler saw %q, want %q", rec.Body, tt.wantBody)
			}
		})
	}
}

func TestNewRulePanicsOnUnknownScope(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for an unknown scope")
		}
	}()
	resource.NewRule("website:people:dat")
}
