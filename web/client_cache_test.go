package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// newInstance starts one scopegate instance (its own Redis client, store,
// provider with a one-minute client cache, web server) on a shared Redis.
// follow says whether it subscribes to client changes, as serve does.
func newInstance(t *testing.T, addr string, follow bool) *testEnv {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	t.Cleanup(func() { _ = store.Close() })
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p := oauth.New(oauth.Config{Issuer: base, ClientCacheTTL: time.Minute}, store)
	if follow {
		stop, err := p.FollowClientChanges(t.Context(), store)
		if err != nil {
			t.Fatalf("FollowClientChanges: %v", err)
		}
		t.Cleanup(stop)
	}
	w := New(Options{Provider: p, Store: store})
	srv.Config.Handler = w.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &testEnv{Store: store, Provider: p, Web: w, Server: srv, URL: base}
}

// TestClientChangesReachEveryInstanceAtOnce is issue 8's cache test on two
// instances sharing one real Redis, with a client cache TTL of one minute
// (so the TTL cannot explain the result): a maximum lowered through
// instance A's admin API is enforced by instance B's very next refresh and
// introspection, and so is a suspension. Without the pub/sub subscription,
// B serves its cached record for a minute.
func TestClientChangesReachEveryInstanceAtOnce(t *testing.T) {
	addr := redistest.StartServer(t)
	a, b := newInstance(t, addr, true), newInstance(t, addr, true)
	ctx := testCtx(t)
	if err := a.Store.AddAdminToken(ctx, testAdminToken, "tester"); err != nil {
		t.Fatal(err)
	}
	const keep, drop = "website:people:data:read", "website:conversation:messages:read"
	secret := a.AddPlugin(t, "plg", "Plugin", []string{"https://plugin.example/cb"}, keep+" "+drop)
	rsSecret := a.AddResourceServer(t, "rs")

	// A consented grant holding an access and a refresh token, as the code
	// flow leaves it.
	now := time.Now()
	g := storage.Grant{ID: token.NewID(), ClientID: "plg", WebsiteID: "site-1", OperatorID: "op-1",
		Scopes: scopes.MustParse(keep + " " + drop), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := a.Store.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	access, refresh := token.New(token.Access, g.ID), token.New(token.Refresh, g.ID)
	if err := a.Store.IssueTokens(ctx,
		storage.NewToken{Value: access, Token: storage.Token{Kind: token.Access, GrantID: g.ID, ClientID: "plg", Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}},
		storage.NewToken{Value: refresh, Token: storage.Token{Kind: token.Refresh, GrantID: g.ID, ClientID: "plg", Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)}},
	); err != nil {
		t.Fatal(err)
	}

	// Both instances cache the client record.
	for _, inst := range []*testEnv{a, b} {
		if in := inst.Introspect(t, "rs", rsSecret, access); !in.Active || !strings.Contains(in.Scope, drop) {
			t.Fatalf("before: introspection = %+v, want active with %s", in, drop)
		}
	}

	adminA := &adminEnv{testEnv: a, AdminToken: testAdminToken}
	adminA.must(t, http.StatusOK, http.MethodPost, "/admin/v1/clients/plg/lower", map[string]any{"scopes": []string{drop}})

	// At once, on B: the refresh no longer grants the removed scope...
	conf := b.OAuthConfig("plg", secret, "https://plugin.example/cb")
	tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh, Expiry: now.Add(-time.Minute)}).Token()
	if err != nil {
		t.Fatalf("refresh on B: %v", err)
	}
	if got, _ := tok.Extra("scope").(string); got != keep {
		t.Errorf("refresh on B right after lowering on A: scope %q, want %q", got, keep)
	}
	// ... and introspection of the earlier access token drops it too.
	if in := b.Introspect(t, "rs", rsSecret, access); !in.Active || in.Scope != keep {
		t.Errorf("introspection on B right after lowering on A = %+v, want active with scope %q", in, keep)
	}

	adminA.must(t, http.StatusOK, http.MethodPost, "/admin/v1/clients/plg/suspend", nil)
	if in := b.Introspect(t, "rs", rsSecret, tok.AccessToken); in.Active {
		t.Errorf("introspection on B right after suspending on A = %+v, want inactive", in)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: now.Add(-time.Minute)}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("refresh on B right after suspending on A: %v, want invalid_client", err)
	}
}
