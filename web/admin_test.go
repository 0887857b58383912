package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
)

// testClock is real time plus an offset the test moves forward. The store,
// the provider and the web server share it, so "later" is consistent
// everywhere while Redis TTLs stay sane.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// adminEnv is a running server (real redis-server, real store, provider
// and web server over loopback) with an admin token.
type adminEnv struct {
	*testEnv
	Redis      *redistest.Server
	RDB        *redis.Client
	Clock      *testClock
	AdminToken string
}

const testAdminToken = "sgadm_test-admin-token-0123456789abcdefghijklmnop"

func newAdminTestEnv(t testing.TB, opts ...func(*Options)) *adminEnv {
	t.Helper()
	rs := redistest.Start(t)
	clock := &testClock{}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	store := storage.NewRedis(rdb, storage.RedisOptions{Now: clock.Now})
	env := newTestEnvWithStore(t, store, append([]func(*Options){func(o *Options) { o.Now = clock.Now }}, opts...)...)
	if err := store.AddAdminToken(tbCtx(t), testAdminToken, "tester"); err != nil {
		t.Fatalf("AddAdminToken: %v", err)
	}
	return &adminEnv{
		testEnv: env,
		Redis:   rs, RDB: rdb, Clock: clock, AdminToken: testAdminToken,
	}
}

// tbCtx is testCtx for tests and benchmarks alike.
func tbCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// apiResp is an admin API answer.
type apiResp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r apiResp) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("not a JSON object (%v): %s", err, r.Body)
	}
	return m
}

func (r apiResp) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %T (%v): %s", v, err, r.Body)
	}
}

// raw sends a request with a raw body and content type.
func (e *adminEnv) raw(t testing.TB, method, path, contentType string, body []byte, hdr map[string]string) apiResp {
	t.Helper()
	req, err := http.NewRequestWithContext(tbCtx(t), method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// api calls the admin API as admin, with body marshalled to JSON (nil: no
// body).
func (e *adminEnv) api(t testing.TB, method, path string, body any) apiResp {
	t.Helper()
	var b []byte
	ct := ""
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
		ct = "application/json"
	}
	return e.raw(t, method, path, ct, b, map[string]string{"Authorization": "Bearer " + e.AdminToken})
}

// must checks the status and decodes the answer.
func (e *adminEnv) must(t testing.TB, want int, method, path string, body any) map[string]any {
	t.Helper()
	r := e.api(t, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r.JSON(t)
}

// createPlugin creates a confidential plugin (client credentials) with the
// approved scopes through the admin API and returns its ID and secret.
func (e *adminEnv) createPlugin(t testing.TB, approve ...string) (string, string) {
	t.Helper()
	body := map[string]any{"name": "Test Plugin", "grant_types": []string{"client_credentials"}}
	if len(approve) > 0 {
		body["approve"] = approve
	}
	m := e.must(t, http.StatusCreated, http.MethodPost, "/admin/v1/clients", body)
	return m["client_id"].(string), m["client_secret"].(string)
}

func (e *adminEnv) createResourceServer(t *testing.T) (string, string) {
	t.Helper()
	m := e.must(t, http.StatusCreated, http.MethodPost, "/admin/v1/clients", map[string]any{"name": "API", "role": "resource-server"})
	return m["client_id"].(string), m["client_secret"].(string)
}

func (e *adminEnv) ccConfig(id, secret string, scope ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.URL + "/oauth/token", Scopes: scope, AuthStyle: oauth2.AuthStyleInHeader}
}

// ccToken gets a client-credentials token or fails the test.
func (e *adminEnv) ccToken(t *testing.T, id, secret string, scope ...string) string {
	t.Helper()
	tok, err := e.ccConfig(id, secret, scope...).Token(testCtx(t))
	if err != nil {
		t.Fatalf("client credentials for %s: %v", id, err)
	}
	return tok.AccessToken
}

// ccError returns the RFC 6749 error code of a failing token request.
func (e *adminEnv) ccError(t *testing.T, id, secret string, scope ...string) (string, int) {
	t.Helper()
	_, err := e.ccConfig(id, secret, scope...).Token(testCtx(t))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("client credentials for %s: want an RFC 6749 error, got %v", id, err)
	}
	return re.ErrorCode, re.Response.StatusCode
}

func fields(t *testing.T, r apiResp) map[string]string {
	t.Helper()
	var e struct {
		Error  string            `json:"error"`
		Fields map[string]string `json:"fields"`
	}
	r.Decode(t, &e)
	if e.Error != "invalid_request" {
		t.Fatalf("error = %q, want invalid_request: %s", e.Error, r.Body)
	}
	return e.Fields
}

func TestAdminAuth(t *testing.T) {
	e := newAdminTestEnv(t)
	tests := []struct {
		name       string
		auth       string
		wantStatus int
		wantWWW    string
		wantError  string
	}{
		{"no token", "", 401, `Bearer realm="scopegate-admin"`, "invalid_token"},
		{"wrong token", "Bearer sgadm_wrong-token-0123456789abcdefghijklmnopq", 401, `Bearer realm="scopegate-admin", error="invalid_token"`, "invalid_token"},
		{"basic scheme", "Basic YWRtaW46YWRtaW4=", 400, `Bearer realm="scopegate-admin", error="invalid_request"`, "invalid_request"},
		{"empty bearer", "Bearer ", 400, `Bearer realm="scopegate-admin", error="invalid_request"`, "invalid_request"},
		{"right token", "Bearer " + testAdminToken, 200, "", ""},
		{"scheme is case-insensitive", "bearer " + testAdminToken, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.auth != "" {
				hdr["Authorization"] = tt.auth
			}
			r := e.raw(t, http.MethodGet, "/admin/v1/clients", "", nil, hdr)
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			if got := r.Header.Get("WWW-Authenticate"); got != tt.wantWWW {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantWWW)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if tt.wantError != "" {
				if got := r.JSON(t)["error"]; got != tt.wantError {
					t.Errorf("error = %v, want %s", got, tt.wantError)
				}
			} else if _, ok := r.JSON(t)["clients"]; !ok {
				t.Errorf("no clients in %s", r.Body)
			}
		})
	}
	// Every admin route is behind the token, not only the list.
	for _, rt := range e.Web.public.Routes() {
		if !strings.HasPrefix(rt.Path, "/admin/v1/") || rt.Path == "/admin/v1/openapi.yaml" {
			continue
		}
		path := strings.NewReplacer(":id", "x-id", ":line", "0").Replace(rt.Path)
		r := e.raw(t, rt.Method, path, "application/json", []byte(`{}`), nil)
		if r.Status != 401 {
			t.Errorf("%s %s without a token: status %d, want 401", rt.Method, rt.Path, r.Status)
		}
	}
}

func TestAdminStorageDown(t *testing.T) {
	e := newAdminTestEnv(t)
	e.Redis.Kill()
	r := e.api(t, http.MethodGet, "/admin/v1/clients", nil)
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", r.Status, r.Body)
	}
	if got := r.JSON(t)["error"]; got != "temporarily_unavailable" {
		t.Errorf("error = %v, want temporarily_unavailable", got)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
