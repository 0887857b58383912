package resource_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/oauth/resource"
	"github.com/scopegate/scopegate/oauth/resource/resourcegin"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web"
)

// env is a real scopegate (real redis-server, real HTTP on loopback) and the
// same REST API protected twice: with the net/http middleware and with the
// Gin adapter.
type env struct {
	auth          *httptest.Server
	apis          map[string]*httptest.Server // "net/http", "gin"
	rs            *resource.Introspector
	store         storage.Store
	calls         atomic.Int64 // introspection calls that reached scopegate
	plugin        string       // plugin secret
	introspectURL string
	rsSecret      string
}

func newEnv(t testing.TB, cacheTTL time.Duration) *env {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redistest.StartServer(t)})
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	t.Cleanup(func() { store.Close() })
	e := &env{store: store, plugin: token.NewSecret(), rsSecret: token.NewSecret(), apis: map[string]*httptest.Server{}}
	ctx := context.Background()
	for _, c := range []storage.Client{
		{ID: "plugin", Name: "Plugin", Type: storage.Confidential, Role: storage.RolePlugin, Status: storage.Active,
			Secrets: []storage.SecretHash{oauth.HashSecret(e.plugin)}, GrantTypes: []string{"client_credentials"},
			Approved: scopes.MustParse("bucket:url:write plugin:subscription:bill:read")},
		{ID: "api", Name: "API", Type: storage.Confidential, Role: storage.RoleResourceServer, Status: storage.Active,
			Secrets: []storage.SecretHash{oauth.HashSecret(e.rsSecret)}},
	} {
		if err := store.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	e.auth = httptest.NewServer(mux)
	t.Cleanup(e.auth.Close)
	p := oauth.New(oauth.Config{Issuer: e.auth.URL}, store)
	h := web.New(web.Options{Provider: p, Store: store}).Handler()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/introspect" {
			e.calls.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	e.introspectURL = e.auth.URL + "/oauth/introspect"
	e.rs = resource.New(resource.Config{IntrospectionURL: e.introspectURL, ClientID: "api", ClientSecret: e.rsSecret, CacheTTL: cacheTTL})

	ok := func(w http.ResponseWriter, r *http.Request) {
		t, _ := resource.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]string{"client": t.ClientID})
	}
	m := http.NewServeMux()
	m.Handle("GET /bucket/url", e.rs.Require("bucket:url")(http.HandlerFunc(ok)))
	m.Handle("POST /bucket/url", e.rs.Require("bucket:url")(http.HandlerFunc(ok)))
	m.Handle("POST /bucket/url/check", e.rs.Require("bucket:url", resource.Permission(scopes.Read))(http.HandlerFunc(ok)))
	m.Handle("POST /bill", e.rs.Require("plugin:subscription:bill")(http.HandlerFunc(ok)))
	m.Handle("GET /websites/{website_id}/data", e.rs.Require("website:people:data")(http.HandlerFunc(ok)))
	e.apis["net/http"] = httptest.NewServer(m)

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	gok := func(c *gin.Context) { ok(c.Writer, c.Request) }
	r.GET("/bucket/url", resourcegin.Require(e.rs, "bucket:url"), gok)
	r.POST("/bucket/url", resourcegin.Require(e.rs, "bucket:url"), gok)
	r.POST("/bucket/url/check", resourcegin.Require(e.rs, "bucket:url", resource.Permission(scopes.Read)), gok)
	r.POST("/bill", resourcegin.Require(e.rs, "plugin:subscription:bill"), gok)
	r.GET("/websites/:website_id/data", resourcegin.Require(e.rs, "website:people:data"), gok)
	e.apis["gin"] = httptest.NewServer(r)
	for _, s := range e.apis {
		t.Cleanup(s.Close)
	}
	return e
}

func (e *env) token(t testing.TB, scope ...string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "plugin", ClientSecret: e.plugin, TokenURL: e.auth.URL + "/oauth/token", Scopes: scope}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

type answer struct {
	status int
	auth   string // WWW-Authenticate
	body   map[string]string
	header http.Header
}

func call(t *testing.T, method, url string, auth ...string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, auth: resp.Header.Get("WWW-Authenticate"), header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

func TestRequireEnforcesScopeByMethod(t *testing.T) {
	e := newEnv(t, -1)
	tok := e.token(t) // bucket:url:write plugin:subscription:bill:read
	tests := []struct {
		name, method, path string
		auth               []string
		wantStatus         int
		wantAuth           string // substring of WWW-Authenticate; "-" for none at all
		wantError          string // error in the body
	}{
		{"write scope allows POST", "POST", "/bucket/url", []string{"Bearer " + tok}, 200, "-", ""},
		{"write never implies read", "GET", "/bucket/url", []string{"Bearer " + tok}, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="the token lacks bucket:url:read", scope="bucket:url:read"`, "insufficient_scope"},
		{"explicit read permission beats the method", "POST", "/bucket/url/check", []string{"Bearer " + tok}, 403, `scope="bucket:url:read"`, "insufficient_scope"},
		{"read scope does not allow POST", "POST", "/bill", []string{"Bearer " + tok}, 403, `scope="plugin:subscription:bill:write"`, "insufficient_scope"},
		{"scheme is case-insensitive", "POST", "/bucket/url", []string{"bearer " + tok}, 200, "-", ""},
		{"no token: realm, no error code", "POST", "/bucket/url", nil, 401, `Bearer realm="api"`, ""},
		{"basic is not bearer: no error code", "POST", "/bucket/url", []string{"Basic Zm9vOmJhcg=="}, 401, `Bearer realm="api"`, ""},
		{"unknown token", "POST", "/bucket/url", []string{"Bearer nonsense"}, 401, `error="invalid_token"`, "invalid_token"},
		{"two tokens in one header", "POST", "/bucket/url", []string{"Bearer " + tok + " " + tok}, 400, `error="invalid_request"`, "invalid_request"},
		{"empty bearer", "POST", "/bucket/url", []string{"Bearer "}, 400, `error="invalid_request"`, "invalid_request"},
		{"not a b64token", "POST", "/bucket/url", []string{"Bearer a,b"}, 400, `error="invalid_request"`, "invalid_request"},
		{"two Authorization headers", "POST", "/bucket/url", []string{"Bearer " + tok, "Bearer " + tok}, 400, `error="invalid_request"`, "invalid_request"},
		{"website route with a token for no website", "GET", "/websites/site-a/data", []string{"Bearer " + tok}, 403,
			`error="insufficient_scope", error_description="the token is not for this website", scope="website:people:data:read"`, "insufficient_scope"},
	}
	for api, srv := range e.apis {
		for _, tt := range tests {
			t.Run(api+"/"+tt.name, func(t *testing.T) {
				a := call(t, tt.method, srv.URL+tt.path, tt.auth...)
				if a.status != tt.wantStatus {
					t.Fatalf("status %d, want %d (WWW-Authenticate %q, body %v)", a.status, tt.wantStatus, a.auth, a.body)
				}
				switch {
				case tt.wantAuth == "-" && a.auth != "":
					t.Fatalf("WWW-Authenticate %q on success", a.auth)
				case tt.wantAuth != "-" && !strings.Contains(a.auth, tt.wantAuth):
					t.Fatalf("WWW-Authenticate %q, want it to contain %q", a.auth, tt.wantAuth)
				}
				if tt.wantStatus == 401 && tt.wantError == "" && strings.Contains(a.auth, "error=") {
					t.Fatalf("RFC 6750 §3.1: no error code without credentials, got %q", a.auth)
				}
				if a.body["error"] != tt.wantError {
					t.Fatalf("body %v, want error %q", a.body, tt.wantError)
				}
				if tt.wantStatus == 200 && a.body["client"] != "plugin" {
					t.Fatalf("handler saw no token in its context: %v", a.body)
				}
			})
		}
	}
}

func TestRevocationWithoutCacheIsImmediate(t *testing.T) {
	e := newEnv(t, -1)
	tok := e.token(t)
	api := e.apis["net/http"].URL
	if a := call(t, "POST", api+"/bucket/url", "Bearer "+tok); a.status != 200 {
		t.Fatalf("status %d", a.status)
	}
	if _, err := e.store.RevokeToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if a := call(t, "POST", api+"/bucket/url", "Bearer "+tok); a.status != 401 || !strings.Contains(a.auth, "invalid_token") {
		t.Fatalf("revoked token: status %d %q", a.status, a.auth)
	}
}

func TestCacheAvoidsRepeatIntrospection(t *testing.T) {
	e := newEnv(t, time.Minute)
	tok := e.token(t)
	for range 5 {
		if a := call(t, "POST", e.apis["gin"].URL+"/bucket/url", "Bearer "+tok); a.status != 200 {
			t.Fatalf("status %d", a.status)
		}
	}
	if n := e.calls.Load(); n != 1 {
		t.Fatalf("%d introspection calls for 5 requests with a warm cache, want 1", n)
	}
}

// TestThousandConcurrentRequestsOneIntrospection: 1,000 requests carrying
// one token arrive at once on a cold cache; scopegate sees exactly one
// introspection (singleflight, and the cache filled before the flight ends).
func TestThousandConcurrentRequestsOneIntrospection(t *testing.T) {
	e := newEnv(t, time.Minute)
	tok := e.token(t)
	h := e.rs.Require("bucket:url")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	const n = 1000
	var wg sync.WaitGroup
	var okCount atomic.Int64
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			req := httptest.NewRequest("POST", "/bucket/url", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code == 200 {
				okCount.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if okCount.Load() != n {
		t.Fatalf("%d of %d requests allowed", okCount.Load(), n)
	}
	if c := e.calls.Load(); c != 1 {
		t.Fatalf("%d introspection calls for %d concurrent requests with one token, want 1", c, n)
	}
}

func TestIntrospectionDownFailsClosed(t *testing.T) {
	e := newEnv(t, -1)
	tok := e.token(t)
	e.auth.Close()
	for api, srv := range e.apis {
		a := call(t, "POST", srv.URL+"/bucket/url", "Bearer "+tok)
		if a.status != 503 || a.body["error"] != "temporarily_unavailable" || a.header.Get("Retry-After") == "" {
			t.Fatalf("%s: status %d body %v, want 503 temporarily_unavailable with Retry-After", api, a.status, a.body)
		}
	}
}

// TestWrongResourceServerSecretFailsClosed: introspection refusing this
// resource server (401) is no answer about the token: 503, never allowed.
func TestWrongResourceServerSecretFailsClosed(t *testing.T) {
	e := newEnv(t, -1)
	tok := e.token(t)
	rs := resource.New(resource.Config{IntrospectionURL: e.introspectURL, ClientID: "api", ClientSecret: "wrong", CacheTTL: -1})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/bucket/url", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rs.Require("bucket:url")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler reached") })).ServeHTTP(rec, req)
	if rec.Code != 503 {
		t.Fatalf("status %d, want 503", rec.Code)
	}
}
