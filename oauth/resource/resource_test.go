package resource_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/oauth/resource"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web"
)

// env is a real scopegate (real redis-server, real HTTP on loopback) and a
// REST API protected by the middleware.
type env struct {
	auth, api *httptest.Server
	store     storage.Store
	calls     atomic.Int64 // introspection calls that reached scopegate
	plugin    string       // plugin secret
}

func newEnv(t *testing.T, cacheTTL time.Duration) *env {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redistest.StartServer(t)})
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	t.Cleanup(func() { store.Close() })
	e := &env{store: store, plugin: token.NewSecret()}
	ctx := context.Background()
	rsSecret := token.NewSecret()
	for _, c := range []storage.Client{
		{ID: "plugin", Name: "Plugin", Type: storage.Confidential, Role: storage.RolePlugin, Status: storage.Active,
			Secrets: []storage.SecretHash{oauth.HashSecret(e.plugin)}, GrantTypes: []string{"client_credentials"},
			Approved: scopes.MustParse("bucket:url:write plugin:subscription:bill:read")},
		{ID: "api", Name: "API", Type: storage.Confidential, Role: storage.RoleResourceServer, Status: storage.Active,
			Secrets: []storage.SecretHash{oauth.HashSecret(rsSecret)}},
	} {
		if err := store.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	var p *oauth.Provider
	mux := http.NewServeMux()
	e.auth = httptest.NewServer(mux)
	t.Cleanup(e.auth.Close)
	p = oauth.New(oauth.Config{Issuer: e.auth.URL}, store)
	h := web.New(web.Options{Provider: p, Store: store}).Handler()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/introspect" {
			e.calls.Add(1)
		}
		h.ServeHTTP(w, r)
	}))

	rs := resource.New(resource.Config{IntrospectionURL: e.auth.URL + "/oauth/introspect", ClientID: "api", ClientSecret: rsSecret, CacheTTL: cacheTTL})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	ok := func(c *gin.Context) {
		res, _ := resource.FromContext(c)
		c.JSON(200, gin.H{"client": res.ClientID})
	}
	r.GET("/bucket/url", rs.Require("bucket:url", ""), ok)
	r.POST("/bucket/url", rs.Require("bucket:url", ""), ok)
	r.POST("/bill", rs.Require("plugin:subscription:bill", ""), ok)
	r.GET("/websites/:website_id/data", rs.Require("website:people:data", "website_id"), ok)
	e.api = httptest.NewServer(r)
	t.Cleanup(e.api.Close)
	return e
}

func (e *env) token(t *testing.T, scope ...string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "plugin", ClientSecret: e.plugin, TokenURL: e.auth.URL + "/oauth/token", Scopes: scope}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func call(t *testing.T, method, url, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

func TestRequireEnforcesScopeByMethod(t *testing.T) {
	e := newEnv(t, -1)
	tok := e.token(t) // bucket:url:write plugin:subscription:bill:read
	tests := []struct {
		name, method, path, auth string
		wantStatus               int
		wantAuth                 string // substring of WWW-Authenticate
	}{
		{"write scope allows POST", "POST", "/bucket/url", "Bearer " + tok, 200, ""},
		{"write never implies read", "GET", "/bucket/url", "Bearer " + tok, 403, `error="insufficient_scope", error_description="the token lacks bucket:url:read", scope="bucket:url:read"`},
		{"read scope does not allow POST", "POST", "/bill", "Bearer " + tok, 403, `scope="plugin:subscription:bill:write"`},
		{"scheme is case-insensitive", "POST", "/bucket/url", "bearer " + tok, 200, ""},
		{"no token: no error code", "POST", "/bucket/url", "", 401, `Bearer realm="api"`},
		{"malformed token", "POST", "/bucket/url", "Bearer nonsense", 401, `error="invalid_token"`},
		{"basic is not bearer", "POST", "/bucket/url", "Basic Zm9vOmJhcg==", 401, `Bearer realm="api"`},
		{"website-bound route with a token for no website", "GET", "/websites/site-a/data", "Bearer " + tok, 403, `error="insufficient_scope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, auth := call(t, tt.method, e.api.URL+tt.path, tt.auth)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d (WWW-Authenticate %q)", status, tt.wantStatus, auth)
			}
			if tt.wantAuth != "" && !strings.Contains(auth, tt.wantAuth) {
				t.Fatalf("WWW-Authenticate %q, want it to contain %q", auth, tt.wantAuth)
			}
			if tt.wantStatus == 401 && tt.auth == "" && strings.Contains(auth, "error=") {
				t.Fatalf("RFC 6750 §3.1: no error code without credentials, got %q", auth)
			}
		})
	}
}

func TestRevocationWithoutCacheIsImmediate(t *testing.T) {
	e := newEnv(t, -1)
	tok := e.token(t)
	if s, _ := call(t, "POST", e.api.URL+"/bucket/url", "Bearer "+tok); s != 200 {
		t.Fatalf("status %d", s)
	}
	if _, err := e.store.RevokeToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if s, auth := call(t, "POST", e.api.URL+"/bucket/url", "Bearer "+tok); s != 401 || !strings.Contains(auth, "invalid_token") {
		t.Fatalf("revoked token: status %d %q", s, auth)
	}
}

func TestCacheAvoidsRepeatIntrospection(t *testing.T) {
	e := newEnv(t, time.Minute)
	tok := e.token(t)
	for range 5 {
		if s, _ := call(t, "POST", e.api.URL+"/bucket/url", "Bearer "+tok); s != 200 {
			t.Fatalf("status %d", s)
		}
	}
	if n := e.calls.Load(); n != 1 {
		t.Fatalf("%d introspection calls for 5 requests with a warm cache, want 1", n)
	}
}

func TestIntrospectionDownFailsClosed(t *testing.T) {
	e := newEnv(t, -1)
	tok := e.token(t)
	e.auth.Close()
	req, _ := http.NewRequest("POST", e.api.URL+"/bucket/url", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 503 || body["error"] != "temporarily_unavailable" {
		t.Fatalf("status %d body %v, want 503 temporarily_unavailable", resp.StatusCode, body)
	}
}
