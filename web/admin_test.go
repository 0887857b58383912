package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
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
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p := oauth.New(oauth.Config{Issuer: base, Now: clock.Now}, store)
	o := Options{Provider: p, Store: store, Now: clock.Now}
	for _, f := range opts {
		f(&o)
	}
	w := New(o)
	srv.Config.Handler = w.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	if err := store.AddAdminToken(tbCtx(t), testAdminToken, "tester"); err != nil {
		t.Fatalf("AddAdminToken: %v", err)
	}
	return &adminEnv{
		testEnv: &testEnv{Store: store, Provider: p, Web: w, Server: srv, URL: base},
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

func TestAdminValidation(t *testing.T) {
	e := newAdminTestEnv(t)
	e.must(t, 201, http.MethodPost, "/admin/v1/websites", map[string]any{"id": "site-1", "name": "Site"})
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		ct         string
		wantStatus int
		wantFields map[string]string // exact keys; values checked by prefix
	}{
		{"client: every bad field named", "POST", "/admin/v1/clients",
			`{"name":"","redirect_uris":["https://ok.example/cb","http://evil.example/cb","https://x.example/cb#frag","/relative"],"grant_types":["password"],"approve":["website:people:data:write","website:nope:read"]}`, "", 400,
			map[string]string{
				"name":             "is required",
				"redirect_uris[1]": "must be https (http only for loopback hosts)",
				"redirect_uris[2]": "must not have a fragment",
				"redirect_uris[3]": "must be an absolute URL",
				"grant_types[0]":   "must be one of: authorization_code, refresh_token, client_credentials",
				"approve[1]":       "must be a scope NAME:read or NAME:write from the catalogue",
			}},
		{"client: unknown field", "POST", "/admin/v1/clients", `{"name":"x","client_secret":"mine"}`, "", 400,
			map[string]string{"client_secret": "is not a known field"}},
		{"client: wrong type", "POST", "/admin/v1/clients", `{"name":5}`, "", 400, map[string]string{"name": "must be a string"}},
		{"client: wrong array type", "POST", "/admin/v1/clients", `{"name":"x","redirect_uris":"https://a.example/cb"}`, "", 400,
			map[string]string{"redirect_uris": "must be an array of strings"}},
		{"client: resource server with grants", "POST", "/admin/v1/clients", `{"name":"api","role":"resource-server","grant_types":["client_credentials"]}`, "", 400,
			map[string]string{"grant_types": "must be empty for a resource-server client"}},
		{"client: public with client credentials", "POST", "/admin/v1/clients", `{"name":"p","type":"public","redirect_uris":["http://127.0.0.1:9/cb"],"grant_types":["authorization_code","client_credentials"]}`, "", 400,
			map[string]string{"grant_types": "client_credentials needs a confidential client"}},
		{"client: code without redirect", "POST", "/admin/v1/clients", `{"name":"p","grant_types":["authorization_code"]}`, "", 400,
			map[string]string{"redirect_uris": "at least one is required for authorization_code"}},
		{"client: bad id", "POST", "/admin/v1/clients", `{"id":"a b{","name":"p"}`, "", 400, map[string]string{"id": "must be 3 to 64 characters"}},
		{"malformed JSON", "POST", "/admin/v1/clients", `{"name":`, "", 400, nil},
		{"trailing data", "POST", "/admin/v1/clients", `{"name":"x"} {"name":"y"}`, "", 400, nil},
		{"not an object", "POST", "/admin/v1/clients", `["x"]`, "", 400, nil},
		{"empty body", "POST", "/admin/v1/clients", ``, "", 400, nil},
		{"form content type", "POST", "/admin/v1/clients", `name=x`, "application/x-www-form-urlencoded", 415, nil},
		{"too large", "POST", "/admin/v1/clients", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, "", 413, nil},
		{"review: short justification and bad scope", "POST", "/admin/v1/reviews",
			`{"client_id":"nope","lines":[{"scope":"website:people:data:write","justification":"need it"},{"scope":"website:people:data","justification":"We sync contact records from the CRM into the website."}]}`, "", 400,
			map[string]string{"lines[0].justification": "must be a real sentence", "lines[1].scope": "must be a scope NAME:read or NAME:write from the catalogue (missing permission"}},
		{"review: no lines", "POST", "/admin/v1/reviews", `{"client_id":"plg_x","lines":[]}`, "", 400, map[string]string{"lines": "must have at least 1 items"}},
		{"review: unknown client", "POST", "/admin/v1/reviews",
			`{"client_id":"plg_missing","lines":[{"scope":"bucket:url:write","justification":"We upload generated invoices for the operator."}]}`, "", 400,
			map[string]string{"client_id": "no such client"}},
		{"operator: every field", "POST", "/admin/v1/operators", `{"email":"not-an-email","password":"short","websites":["site-1","missing-site"]}`, "", 400,
			map[string]string{"email": "must be an e-mail address", "password": "must be at least 12 characters", "websites[1]": "no such website"}},
		{"website: missing name", "POST", "/admin/v1/websites", `{"id":"site-2"}`, "", 400, map[string]string{"name": "is required"}},
		{"revoke: two at once", "POST", "/admin/v1/revoke", `{"client_id":"plg_a","website_id":"site-1"}`, "", 400,
			map[string]string{"client_id": "give exactly one of", "website_id": "give exactly one of"}},
		{"revoke: none", "POST", "/admin/v1/revoke", `{}`, "", 400, nil},
		{"revoke: not a token", "POST", "/admin/v1/revoke", `{"token":"ghp_notours"}`, "", 400, map[string]string{"token": "is not a scopegate token"}},
		{"rotate: grace too long", "POST", "/admin/v1/clients/plg_x/rotate-secret", `{"grace_seconds":604801}`, "", 400, map[string]string{"grace_seconds": "must be at most 604800"}},
		{"decide: bad decision", "POST", "/admin/v1/reviews/0123456789012345678901/lines/0", `{"decision":"maybe"}`, "", 400, map[string]string{"decision": "must be one of: approve, reject"}},
		{"audit: bad parameters", "GET", "/admin/v1/audit?since=yesterday&limit=0&after=x&color=red", ``, "", 400,
			map[string]string{"color": "is not a known parameter"}},
		{"audit: bad values", "GET", "/admin/v1/audit?since=yesterday&limit=0&after=x", ``, "", 400,
			map[string]string{"since": "must be an RFC 3339 time", "limit": "must be an integer from 1 to 1000", "after": "must be the next value"}},
		{"grants: neither", "GET", "/admin/v1/grants", ``, "", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.ct
			if ct == "" && tt.body != "" {
				ct = "application/json"
			}
			r := e.raw(t, tt.method, tt.path, ct, []byte(tt.body), map[string]string{"Authorization": "Bearer " + testAdminToken})
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			m := r.JSON(t)
			if m["error"] != "invalid_request" || m["error_description"] == "" {
				t.Errorf("want invalid_request with a description: %s", r.Body)
			}
			if tt.wantFields == nil {
				return
			}
			got := fields(t, r)
			if len(got) != len(tt.wantFields) {
				t.Errorf("fields = %v, want keys of %v", got, tt.wantFields)
			}
			for k, want := range tt.wantFields {
				if !strings.HasPrefix(got[k], want) {
					t.Errorf("fields[%q] = %q, want prefix %q", k, got[k], want)
				}
			}
		})
	}
	// Nothing was created by any of it.
	if m := e.must(t, 200, http.MethodGet, "/admin/v1/clients", nil); len(m["clients"].([]any)) != 0 {
		t.Errorf("clients were created: %v", m["clients"])
	}
}

func TestAdminUnknownRoutesAndMethods(t *testing.T) {
	e := newAdminTestEnv(t)
	if r := e.api(t, http.MethodGet, "/admin/v1/clients/plg_missing", nil); r.Status != 404 || r.JSON(t)["error"] != "not_found" {
		t.Errorf("missing client: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodGet, "/admin/v1/clients/%7Bbad%7D", nil); r.Status != 404 {
		t.Errorf("impossible client id: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodGet, "/admin/v1/reviews/nope", nil); r.Status != 404 {
		t.Errorf("bad review id: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPut, "/admin/v1/clients", nil); r.Status != 405 {
		t.Errorf("PUT /admin/v1/clients: %d %s", r.Status, r.Body)
	}
}

// dumpRedis returns every key and value in Redis as text.
func dumpRedis(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	ctx := testCtx(t)
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\n")
		typ, _ := rdb.Type(ctx, k).Result()
		var v any
		switch typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "list":
			v, err = rdb.LRange(ctx, k, 0, -1).Result()
		case "set":
			v, err = rdb.SMembers(ctx, k).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "stream":
			v, err = rdb.XRange(ctx, k, "-", "+").Result()
		}
		if err != nil {
			t.Fatalf("dump %s: %v", k, err)
		}
		j, _ := json.Marshal(v)
		b.Write(j)
		b.WriteString("\n")
	}
	return b.String()
}

func TestAdminCreateClientSecretOnce(t *testing.T) {
	e := newAdminTestEnv(t)
	r := e.api(t, http.MethodPost, "/admin/v1/clients", map[string]any{
		"name": "Helpdesk", "redirect_uris": []string{"https://plugin.example/cb", "http://127.0.0.1:8765/cb"},
		"approve": []string{"website:people:data:write", "plugin:subscription:bill:write"},
	})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var created struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Type         string   `json:"type"`
		Role         string   `json:"role"`
		Status       string   `json:"status"`
		GrantTypes   []string `json:"grant_types"`
		Approved     []string `json:"approved"`
		ReviewID     string   `json:"review_id"`
	}
	r.Decode(t, &created)
	if !strings.HasPrefix(created.ClientID, "plg_") || len(created.ClientID) != 20 {
		t.Errorf("client_id = %q, want plg_ + 16", created.ClientID)
	}
	if !strings.HasPrefix(created.ClientSecret, "sgs_") {
		t.Errorf("client_secret = %q", created.ClientSecret)
	}
	if got := r.Header.Get("Location"); got != "/admin/v1/clients/"+created.ClientID {
		t.Errorf("Location = %q", got)
	}
	if created.Type != "confidential" || created.Role != "plugin" || created.Status != "active" {
		t.Errorf("created = %+v", created)
	}
	if strings.Join(created.GrantTypes, " ") != "authorization_code refresh_token client_credentials" {
		t.Errorf("default grant types = %v", created.GrantTypes)
	}
	if strings.Join(created.Approved, " ") != "website:people:data:write plugin:subscription:bill:write" {
		t.Errorf("approved = %v", created.Approved)
	}
	// The shortcut is an admin-filed review, approved, in the history.
	rv := e.must(t, 200, http.MethodGet, "/admin/v1/reviews/"+created.ReviewID, nil)
	if rv["filed_by"] != "admin:tester" || rv["status"] != "decided" {
		t.Errorf("review = %v", rv)
	}
	for _, l := range rv["lines"].([]any) {
		if l.(map[string]any)["status"] != "approved" || l.(map[string]any)["reviewer"] != "admin:tester" {
			t.Errorf("line = %v", l)
		}
	}

	// GET never shows it, nor does the list; Redis never holds it.
	for _, path := range []string{"/admin/v1/clients/" + created.ClientID, "/admin/v1/clients"} {
		g := e.api(t, http.MethodGet, path, nil)
		if g.Status != 200 || bytes.Contains(g.Body, []byte(created.ClientSecret)) || bytes.Contains(g.Body, []byte("client_secret")) {
			t.Errorf("GET %s shows the secret: %s", path, g.Body)
		}
	}
	if dump := dumpRedis(t, e.RDB); strings.Contains(dump, created.ClientSecret) || strings.Contains(dump, strings.TrimPrefix(created.ClientSecret, "sgs_")) {
		t.Error("Redis holds the client secret in the clear")
	}
	// The secret works, for the approved plugin scope only.
	e.ccToken(t, created.ClientID, created.ClientSecret, "plugin:subscription:bill:write")

	// A public client has no secret; an explicit ID is used as given and
	// is unique.
	m := e.must(t, 201, http.MethodPost, "/admin/v1/clients", map[string]any{
		"id": "my-spa", "name": "SPA", "type": "public", "redirect_uris": []string{"http://localhost:3000/cb"}})
	if _, ok := m["client_secret"]; ok || m["client_id"] != "my-spa" {
		t.Errorf("public client: %v", m)
	}
	if got := strings.Join(toStrings(m["grant_types"]), " "); got != "authorization_code refresh_token" {
		t.Errorf("public default grant types = %s", got)
	}
	dup := e.api(t, http.MethodPost, "/admin/v1/clients", map[string]any{"id": "my-spa", "name": "Again", "grant_types": []string{"client_credentials"}})
	if dup.Status != 409 || dup.JSON(t)["fields"].(map[string]any)["id"] != "is taken" {
		t.Errorf("duplicate id: %d %s", dup.Status, dup.Body)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestAdminUpdateClient(t *testing.T) {
	e := newAdminTestEnv(t)
	id, _ := e.createPlugin(t, "bucket:url:write")
	m := e.must(t, 200, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{
		"name": "Renamed", "redirect_uris": []string{"https://new.example/cb"}, "grant_types": []string{"authorization_code", "client_credentials"}})
	if m["name"] != "Renamed" || strings.Join(toStrings(m["redirect_uris"]), " ") != "https://new.example/cb" ||
		strings.Join(toStrings(m["grant_types"]), " ") != "authorization_code client_credentials" {
		t.Errorf("updated = %v", m)
	}
	r := e.api(t, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{"redirect_uris": []string{}})
	if r.Status != 400 || fields(t, r)["redirect_uris"] != "at least one is required for authorization_code" {
		t.Errorf("removing the redirect URIs of a code client: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{}); r.Status != 400 {
		t.Errorf("empty patch: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{"status": "active"}); r.Status != 400 || fields(t, r)["status"] != "is not a known field" {
		t.Errorf("patching status: %d %s", r.Status, r.Body)
	}
}

func TestAdminRotateSecret(t *testing.T) {
	e := newAdminTestEnv(t)
	id, old := e.createPlugin(t, "bucket:url:write")
	m := e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/rotate-secret", map[string]any{"grace_seconds": 60})
	fresh := m["client_secret"].(string)
	if fresh == old || !strings.HasPrefix(fresh, "sgs_") {
		t.Fatalf("new secret = %q", fresh)
	}
	if n := len(m["client"].(map[string]any)["secrets"].([]any)); n != 2 {
		t.Errorf("secrets during grace = %d, want 2", n)
	}
	// During the grace period both work.
	e.ccToken(t, id, old)
	e.ccToken(t, id, fresh)
	// After it, only the new one.
	e.Clock.Advance(61 * time.Second)
	if code, status := e.ccError(t, id, old); code != "invalid_client" || status != 401 {
		t.Errorf("old secret after grace: %s %d, want invalid_client 401", code, status)
	}
	e.ccToken(t, id, fresh)
	// The expired secret is gone from the view.
	if n := len(e.must(t, 200, http.MethodGet, "/admin/v1/clients/"+id, nil)["secrets"].([]any)); n != 1 {
		t.Errorf("secrets after grace = %d, want 1", n)
	}
	// grace 0 ends the old one at once; an empty body means the default.
	m = e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/rotate-secret", map[string]any{"grace_seconds": 0})
	third := m["client_secret"].(string)
	if code, _ := e.ccError(t, id, fresh); code != "invalid_client" {
		t.Errorf("secret after rotation with grace 0: %s", code)
	}
	e.ccToken(t, id, third)
	r := e.raw(t, http.MethodPost, "/admin/v1/clients/"+id+"/rotate-secret", "", nil, map[string]string{"Authorization": "Bearer " + testAdminToken})
	var rot struct {
		Expire time.Time `json:"old_secrets_expire_at"`
	}
	r.Decode(t, &rot)
	if d := rot.Expire.Sub(e.Clock.Now()); r.Status != 200 || d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("default grace: %d, expires in %v", r.Status, d)
	}
	// A public client has no secret to rotate.
	e.must(t, 201, http.MethodPost, "/admin/v1/clients", map[string]any{"id": "pub-1", "name": "P", "type": "public", "redirect_uris": []string{"http://127.0.0.1:1/cb"}})
	if r := e.api(t, http.MethodPost, "/admin/v1/clients/pub-1/rotate-secret", nil); r.Status != 409 {
		t.Errorf("rotating a public client: %d %s", r.Status, r.Body)
	}
}

func TestAdminSuspendResume(t *testing.T) {
	e := newAdminTestEnv(t)
	id, secret := e.createPlugin(t, "bucket:url:write")
	rsID, rsSecret := e.createResourceServer(t)
	tok := e.ccToken(t, id, secret)

	// A second instance over the same Redis, with its own client cache
	// (default TTL 500 ms): it must catch up without being told.
	p2 := oauth.New(oauth.Config{Issuer: e.URL}, e.Store)
	other := httptest.NewServer(New(Options{Provider: p2, Store: e.Store}).Handler())
	t.Cleanup(other.Close)
	e2 := &testEnv{Store: e.Store, Provider: p2, URL: other.URL}
	if !e2.Introspect(t, rsID, rsSecret, tok).Active {
		t.Fatal("token inactive on the second instance before suspension")
	}

	m := e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/suspend", nil)
	if m["status"] != "suspended" {
		t.Fatalf("suspend: %v", m)
	}
	if code, status := e.ccError(t, id, secret); code != "invalid_client" || status != 401 {
		t.Errorf("token request of a suspended client: %s %d", code, status)
	}
	if got := e.Introspect(t, rsID, rsSecret, tok); got.Active {
		t.Errorf("suspended client's token active on this instance: %+v", got)
	}
	deadline := time.Now().Add(3 * time.Second)
	for e2.Introspect(t, rsID, rsSecret, tok).Active {
		if time.Now().After(deadline) {
			t.Fatal("suspended client's token still active on the other instance after 3 s (design: within 1 s)")
		}
	}

	e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/resume", nil)
	if !e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("token inactive after resume")
	}
	e.ccToken(t, id, secret)
	evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?client_id="+id+"&kind=client.suspended", nil)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["actor"] != "admin:tester" {
		t.Errorf("suspension audit = %v", evs)
	}
}

func TestAdminLowerMaximumNarrowsLiveToken(t *testing.T) {
	e := newAdminTestEnv(t)
	id, secret := e.createPlugin(t, "bucket:url:write", "plugin:subscription:bill:read", "plugin:subscription:bill:write")
	rsID, rsSecret := e.createResourceServer(t)
	tok := e.ccToken(t, id, secret)
	if got := e.Introspect(t, rsID, rsSecret, tok).Scope; got != "bucket:url:write plugin:subscription:bill:read plugin:subscription:bill:write" {
		t.Fatalf("scope before = %q", got)
	}
	m := e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/lower", map[string]any{"scopes": []string{"plugin:subscription:bill:write"}})
	if got := strings.Join(toStrings(m["approved"]), " "); got != "bucket:url:write plugin:subscription:bill:read" {
		t.Errorf("approved = %s", got)
	}
	if got := e.Introspect(t, rsID, rsSecret, tok).Scope; got != "bucket:url:write plugin:subscription:bill:read" {
		t.Errorf("scope after lowering = %q", got)
	}
	if code, _ := e.ccError(t, id, secret, "plugin:subscription:bill:write"); code != "invalid_scope" {
		t.Errorf("token request for the removed scope: %s", code)
	}
	// Lowering something not in the maximum names it.
	r := e.api(t, http.MethodPost, "/admin/v1/clients/"+id+"/lower", map[string]any{"scopes": []string{"bucket:url:write", "website:people:data:read"}})
	if r.Status != 400 || len(fields(t, r)) != 1 || fields(t, r)["scopes[1]"] != "is not in the approved maximum" {
		t.Errorf("lowering a scope not approved: %d %s", r.Status, r.Body)
	}
	// PUT: a subset is fine, a wider set is refused.
	r = e.api(t, http.MethodPut, "/admin/v1/clients/"+id+"/approved", map[string]any{"scopes": []string{"plugin:subscription:bill:read", "bucket:url:read"}})
	if r.Status != 400 || fields(t, r)["scopes[1]"] != "is not in the approved maximum; widening needs a review" {
		t.Errorf("widening with PUT: %d %s", r.Status, r.Body)
	}
	m = e.must(t, 200, http.MethodPut, "/admin/v1/clients/"+id+"/approved", map[string]any{"scopes": []string{"plugin:subscription:bill:read"}})
	if got := strings.Join(toStrings(m["approved"]), " "); got != "plugin:subscription:bill:read" {
		t.Errorf("approved after PUT = %s", got)
	}
	if got := e.Introspect(t, rsID, rsSecret, tok).Scope; got != "plugin:subscription:bill:read" {
		t.Errorf("scope after PUT = %q", got)
	}
	e.must(t, 200, http.MethodPut, "/admin/v1/clients/"+id+"/approved", map[string]any{"scopes": []string{}})
	if got := e.Introspect(t, rsID, rsSecret, tok); got.Active {
		t.Errorf("token active with an empty maximum: %+v", got)
	}
}

// revokeFixture: two plugins A and B, two websites w1 and w2; A and B each
// hold a grant on each website (an access and a refresh token) and a
// client-credentials token.
type revokeFixture struct {
	e              *adminEnv
	rsID, rsSecret string
	toks           map[string]string // name -> token value
	grants         map[string]string // name -> grant ID
}

func newRevokeFixture(t *testing.T) *revokeFixture {
	e := newAdminTestEnv(t)
	f := &revokeFixture{e: e, toks: map[string]string{}, grants: map[string]string{}}
	f.rsID, f.rsSecret = e.createResourceServer(t)
	for _, w := range []string{"w1", "w2"} {
		e.must(t, 201, http.MethodPost, "/admin/v1/websites", map[string]any{"id": "site-" + w, "name": w})
	}
	ctx := testCtx(t)
	now := e.Clock.Now()
	for _, c := range []string{"A", "B"} {
		m := e.must(t, 201, http.MethodPost, "/admin/v1/clients", map[string]any{
			"id": "plugin-" + c, "name": c, "redirect_uris": []string{"https://" + c + ".example/cb"},
			"approve": []string{"website:people:data:read", "bucket:url:write"}})
		f.toks[c+"cc"] = e.ccToken(t, m["client_id"].(string), m["client_secret"].(string))
		// Website grants as the consent flow stores them (the flow itself
		// is tested in pages_test.go and browser_test.go).
		for _, w := range []string{"w1", "w2"} {
			g := storage.Grant{ID: token.NewID(), ClientID: "plugin-" + c, WebsiteID: "site-" + w, OperatorID: "op-1",
				Scopes: scopes.MustParse("website:people:data:read"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := e.Store.CreateGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
			access, refresh := token.New(token.Access, g.ID), token.New(token.Refresh, g.ID)
			rec := storage.Token{GrantID: g.ID, ClientID: g.ClientID, Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			ra, rr := rec, rec
			ra.Kind, rr.Kind = token.Access, token.Refresh
			if err := e.Store.IssueTokens(ctx, storage.NewToken{Value: access, Token: ra}, storage.NewToken{Value: refresh, Token: rr}); err != nil {
				t.Fatal(err)
			}
			f.toks[c+w] = access
			f.toks[c+w+"r"] = refresh
			f.grants[c+w] = g.ID
		}
	}
	for name, tok := range f.toks {
		if !e.Introspect(t, f.rsID, f.rsSecret, tok).Active {
			t.Fatalf("token %s inactive before any revocation", name)
		}
	}
	return f
}

func TestAdminRevokeKillsExactly(t *testing.T) {
	tests := []struct {
		name       string
		body       func(f *revokeFixture) map[string]any
		wantDead   []string
		wantCounts storage.Revocation
		wantKind   string
	}{
		{"leaked access token kills its grant", func(f *revokeFixture) map[string]any { return map[string]any{"token": f.toks["Aw1"]} },
			[]string{"Aw1", "Aw1r"}, storage.Revocation{Grants: 1, Tokens: 2}, "revoke.token"},
		{"leaked refresh token kills its grant", func(f *revokeFixture) map[string]any { return map[string]any{"token": f.toks["Bw2r"]} },
			[]string{"Bw2", "Bw2r"}, storage.Revocation{Grants: 1, Tokens: 2}, "revoke.token"},
		{"grant", func(f *revokeFixture) map[string]any { return map[string]any{"grant_id": f.grants["Bw1"]} },
			[]string{"Bw1", "Bw1r"}, storage.Revocation{Grants: 1, Tokens: 2}, "revoke.grant"},
		{"client", func(f *revokeFixture) map[string]any { return map[string]any{"client_id": "plugin-A"} },
			[]string{"Aw1", "Aw1r", "Aw2", "Aw2r", "Acc"}, storage.Revocation{Grants: 3, Tokens: 5}, "revoke.client"},
		{"website", func(f *revokeFixture) map[string]any { return map[string]any{"website_id": "site-w1"} },
			[]string{"Aw1", "Aw1r", "Bw1", "Bw1r"}, storage.Revocation{Grants: 2, Tokens: 4}, "revoke.website"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRevokeFixture(t)
			body := tt.body(f)
			r := f.e.api(t, http.MethodPost, "/admin/v1/revoke", body)
			if r.Status != 200 {
				t.Fatalf("revoke: %d %s", r.Status, r.Body)
			}
			var got storage.Revocation
			r.Decode(t, &got)
			if got != tt.wantCounts {
				t.Errorf("counts = %+v, want %+v", got, tt.wantCounts)
			}
			dead := map[string]bool{}
			for _, n := range tt.wantDead {
				dead[n] = true
			}
			for name, tok := range f.toks {
				if active := f.e.Introspect(t, f.rsID, f.rsSecret, tok).Active; active == dead[name] {
					t.Errorf("token %s: active = %v, want %v", name, active, !dead[name])
				}
			}
			if tv, ok := body["token"].(string); ok && bytes.Contains(r.Body, []byte(tv)) {
				t.Error("the answer echoes the token")
			}
			a := f.e.api(t, http.MethodGet, "/admin/v1/audit?kind="+tt.wantKind, nil)
			var page struct {
				Events []storage.Event `json:"events"`
			}
			a.Decode(t, &page)
			if len(page.Events) != 1 || page.Events[0].Actor != "admin:tester" ||
				page.Events[0].Detail["grants"] != itoa(tt.wantCounts.Grants) || page.Events[0].Detail["tokens"] != itoa(tt.wantCounts.Tokens) {
				t.Errorf("audit = %+v", page.Events)
			}
			dump := dumpRedis(t, f.e.RDB)
			for name, tok := range f.toks {
				if strings.Contains(dump, tok) {
					t.Fatalf("token %s is stored in the clear", name)
				}
			}
		})
	}
}

func TestAdminRevokeEdgeCases(t *testing.T) {
	e := newAdminTestEnv(t)
	// A well-formed unknown token counts zero; unknown IDs are 404.
	var got storage.Revocation
	r := e.api(t, http.MethodPost, "/admin/v1/revoke", map[string]any{"token": token.New(token.Access, token.NewID())})
	r.Decode(t, &got)
	if r.Status != 200 || got != (storage.Revocation{}) {
		t.Errorf("unknown token: %d %s", r.Status, r.Body)
	}
	for _, body := range []map[string]any{{"grant_id": token.NewID()}, {"client_id": "plg_missing"}, {"website_id": "site-missing"}} {
		if r := e.api(t, http.MethodPost, "/admin/v1/revoke", body); r.Status != 404 || r.JSON(t)["error"] != "not_found" {
			t.Errorf("revoke %v: %d %s", body, r.Status, r.Body)
		}
	}
	// Delete revokes everything of the client, then the client is gone.
	id, secret := e.createPlugin(t, "bucket:url:write")
	rsID, rsSecret := e.createResourceServer(t)
	tok := e.ccToken(t, id, secret)
	m := e.must(t, 200, http.MethodDelete, "/admin/v1/clients/"+id, nil)
	if m["deleted"] != true || m["grants"] != 1.0 || m["tokens"] != 1.0 {
		t.Errorf("delete = %v", m)
	}
	if e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("deleted client's token active")
	}
	if r := e.api(t, http.MethodGet, "/admin/v1/clients/"+id, nil); r.Status != 404 {
		t.Errorf("GET deleted client: %d", r.Status)
	}
	if code, _ := e.ccError(t, id, secret); code != "invalid_client" {
		t.Errorf("deleted client's token request: %s", code)
	}
	// Grants listing.
	id2, secret2 := e.createPlugin(t, "bucket:url:write")
	e.ccToken(t, id2, secret2)
	gs := e.must(t, 200, http.MethodGet, "/admin/v1/grants?client_id="+id2, nil)["grants"].([]any)
	if len(gs) != 1 || gs[0].(map[string]any)["client_id"] != id2 {
		t.Errorf("grants = %v", gs)
	}
}

// pluginRequest files a scope request as the plugin (HTTP Basic).
func (e *adminEnv) pluginRequest(t *testing.T, id, secret string, body string) apiResp {
	t.Helper()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodPost, e.URL+"/plugin/v1/scope-requests", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func TestReviewFlow(t *testing.T) {
	e := newAdminTestEnv(t)
	id, secret := e.createPlugin(t)
	rsID, rsSecret := e.createResourceServer(t)
	request := `{"lines":[
		{"scope":"bucket:url:write","justification":"We upload the PDF invoices the plugin generates for the operator."},
		{"scope":"plugin:subscription:bill:write","justification":"We would like to report usage for metered billing every hour."}]}`

	// Client authentication is required and checked.
	r := e.pluginRequest(t, "", "", request)
	if r.Status != 401 || r.JSON(t)["error"] != "invalid_client" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("no auth: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := e.pluginRequest(t, id, "sgs_wrong", request); r.Status != 401 || r.JSON(t)["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %s", r.Status, r.Body)
	}
	if r := e.pluginRequest(t, rsID, rsSecret, request); r.Status != 403 || r.JSON(t)["error"] != "unauthorized_client" {
		t.Fatalf("resource server filing: %d %s", r.Status, r.Body)
	}
	if r := e.pluginRequest(t, id, secret, `{"lines":[{"scope":"bucket:url:write","justification":"pls"}]}`); r.Status != 400 ||
		!strings.HasPrefix(fields(t, r)["lines[0].justification"], "must be a real sentence") {
		t.Fatalf("short justification: %d %s", r.Status, r.Body)
	}
	r = e.pluginRequest(t, id, secret, request)
	if r.Status != 201 {
		t.Fatalf("file: %d %s", r.Status, r.Body)
	}
	var rv struct {
		ID      string `json:"id"`
		FiledBy string `json:"filed_by"`
		Status  string `json:"status"`
		Lines   []struct {
			Scope, Permission, Kind, Description, Status string
		} `json:"lines"`
	}
	r.Decode(t, &rv)
	if rv.FiledBy != "client" || rv.Status != "pending" || len(rv.Lines) != 2 || rv.Lines[0].Permission != "write" ||
		rv.Lines[0].Kind != "plugin" || rv.Lines[0].Description != "Generate file upload URLs" {
		t.Fatalf("review = %+v", rv)
	}
	// Nothing is approved yet.
	if code, _ := e.ccError(t, id, secret, "bucket:url:write"); code != "invalid_scope" {
		t.Errorf("before the decision: %s", code)
	}
	queue := e.must(t, 200, http.MethodGet, "/admin/v1/reviews", nil)["reviews"].([]any)
	if len(queue) != 1 || queue[0].(map[string]any)["id"] != rv.ID {
		t.Fatalf("queue = %v", queue)
	}

	// Approve line 0, reject line 1.
	m := e.must(t, 200, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/0", map[string]any{"decision": "approve", "note": "fine"})
	if got := strings.Join(toStrings(m["client"].(map[string]any)["approved"]), " "); got != "bucket:url:write" {
		t.Errorf("approved after line 0 = %s", got)
	}
	e.must(t, 200, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/1", map[string]any{"decision": "reject", "note": "billing needs a contract"})
	if r := e.api(t, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/1", map[string]any{"decision": "approve"}); r.Status != 409 {
		t.Errorf("deciding twice: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/2", map[string]any{"decision": "approve"}); r.Status != 404 {
		t.Errorf("line out of range: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/-1", map[string]any{"decision": "approve"}); r.Status != 404 {
		t.Errorf("negative line: %d %s", r.Status, r.Body)
	}

	// Beyond the approved lines: invalid_scope; within: a token.
	if code, status := e.ccError(t, id, secret, "plugin:subscription:bill:write"); code != "invalid_scope" || status != 400 {
		t.Errorf("rejected scope: %s %d", code, status)
	}
	if code, _ := e.ccError(t, id, secret, "bucket:url:write", "plugin:subscription:bill:write"); code != "invalid_scope" {
		t.Errorf("approved + rejected scope: %s", code)
	}
	tok := e.ccToken(t, id, secret, "bucket:url:write")
	if got := e.Introspect(t, rsID, rsSecret, tok).Scope; got != "bucket:url:write" {
		t.Errorf("token scope = %q", got)
	}

	got := e.must(t, 200, http.MethodGet, "/admin/v1/reviews/"+rv.ID, nil)
	lines := got["lines"].([]any)
	if got["status"] != "decided" || lines[0].(map[string]any)["status"] != "approved" || lines[1].(map[string]any)["status"] != "rejected" ||
		lines[1].(map[string]any)["note"] != "billing needs a contract" || lines[1].(map[string]any)["reviewer"] != "admin:tester" {
		t.Errorf("review after decisions = %v", got)
	}
	if q := e.must(t, 200, http.MethodGet, "/admin/v1/reviews", nil)["reviews"].([]any); len(q) != 0 {
		t.Errorf("queue after decisions = %v", q)
	}
	if h := e.must(t, 200, http.MethodGet, "/admin/v1/reviews?status=decided&client_id="+id, nil)["reviews"].([]any); len(h) != 1 {
		t.Errorf("decided reviews = %v", h)
	}
	// Filing an approved scope again is refused; an admin can file too.
	r = e.pluginRequest(t, id, secret, `{"lines":[{"scope":"bucket:url:write","justification":"We upload the PDF invoices the plugin generates."}]}`)
	if r.Status != 400 || fields(t, r)["lines[0].scope"] != "is already approved for this client" {
		t.Errorf("re-filing an approved scope: %d %s", r.Status, r.Body)
	}
	adm := e.must(t, 201, http.MethodPost, "/admin/v1/reviews", map[string]any{"client_id": id, "lines": []map[string]string{
		{"scope": "bucket:url:read", "justification": "The plugin lists the files it uploaded before."}}})
	if adm["filed_by"] != "admin:tester" || adm["status"] != "pending" {
		t.Errorf("admin-filed review = %v", adm)
	}
	kinds := map[string]int{}
	evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?client_id="+id, nil)["events"].([]any)
	for _, ev := range evs {
		kinds[ev.(map[string]any)["kind"].(string)]++
	}
	if kinds["review.filed"] != 2 || kinds["review.line_approved"] != 1 || kinds["review.line_rejected"] != 1 {
		t.Errorf("audit kinds = %v", kinds)
	}
}

func TestAdminAuditPaging(t *testing.T) {
	e := newAdminTestEnv(t)
	for _, w := range []string{"s-1", "s-2", "s-3", "s-4", "s-5"} {
		e.must(t, 201, http.MethodPost, "/admin/v1/websites", map[string]any{"id": w, "name": w})
	}
	id, _ := e.createPlugin(t)
	var seen []string
	after := ""
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatal("too many pages")
		}
		q := url.Values{"kind": {"website.created"}, "limit": {"2"}}
		if after != "" {
			q.Set("after", after)
		}
		var p struct {
			Events []storage.Event `json:"events"`
			Next   string          `json:"next"`
		}
		e.api(t, http.MethodGet, "/admin/v1/audit?"+q.Encode(), nil).Decode(t, &p)
		for _, ev := range p.Events {
			if ev.Kind != "website.created" {
				t.Errorf("kind filter: %+v", ev)
			}
			seen = append(seen, ev.WebsiteID)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if got := strings.Join(seen, " "); got != "s-5 s-4 s-3 s-2 s-1" {
		t.Errorf("pages newest first = %q", got)
	}
	evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?client_id="+id, nil)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["kind"] != "client.created" {
		t.Errorf("client filter = %v", evs)
	}
	future := e.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?since="+future, nil)["events"].([]any); len(evs) != 0 {
		t.Errorf("since the future = %v", evs)
	}
	if evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?until="+future+"&website_id=s-3", nil)["events"].([]any); len(evs) != 1 {
		t.Errorf("website + until filter = %v", evs)
	}
}

func TestAdminOperators(t *testing.T) {
	e := newAdminTestEnv(t)
	e.must(t, 201, http.MethodPost, "/admin/v1/websites", map[string]any{"id": "site-a", "name": "A"})
	if r := e.api(t, http.MethodPost, "/admin/v1/websites", map[string]any{"id": "site-a", "name": "Other"}); r.Status != 409 {
		t.Errorf("duplicate website: %d %s", r.Status, r.Body)
	}
	if w := e.must(t, 200, http.MethodGet, "/admin/v1/websites/site-a", nil); w["name"] != "A" {
		t.Errorf("website changed by the duplicate: %v", w)
	}
	const pw = "correct horse battery"
	m := e.must(t, 201, http.MethodPost, "/admin/v1/operators", map[string]any{"email": "Ops@Example.com", "password": pw, "websites": []string{"site-a"}})
	if !strings.HasPrefix(m["operator_id"].(string), "op_") || m["email"] != "ops@example.com" {
		t.Errorf("operator = %v", m)
	}
	if r := e.api(t, http.MethodPost, "/admin/v1/operators", map[string]any{"email": "ops@example.com", "password": pw, "websites": []string{"site-a"}}); r.Status != 409 {
		t.Errorf("duplicate e-mail: %d %s", r.Status, r.Body)
	}
	if strings.Contains(dumpRedis(t, e.RDB), pw) {
		t.Error("Redis holds the password")
	}
	// The operator can sign in on the operator pages.
	b := e.NewBrowser(t)
	page := b.Get("/login")
	if r := b.SignIn(page, "ops@example.com", pw); r.StatusCode != http.StatusSeeOther {
		t.Errorf("operator sign-in: %d", r.StatusCode)
	}
}

// TestAdminSeparateListener: with SeparateAdmin the public handler has no
// /admin/ route, while the plugin API stays public.
func TestAdminSeparateListener(t *testing.T) {
	e := newAdminTestEnv(t, func(o *Options) { o.SeparateAdmin = true })
	if r := e.api(t, http.MethodGet, "/admin/v1/clients", nil); r.Status != 404 {
		t.Errorf("admin API on the public handler: %d", r.Status)
	}
	for _, p := range []string{"/admin", "/admin/review", "/admin/clients", "/admin/audit"} {
		if r := e.raw(t, http.MethodGet, p, "", nil, nil); r.Status != 404 {
			t.Errorf("admin page %s on the public handler: %d", p, r.Status)
		}
	}
	admin := httptest.NewServer(e.Web.AdminHandler())
	t.Cleanup(admin.Close)
	req, _ := http.NewRequest(http.MethodGet, admin.URL+"/admin/v1/clients", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("admin API on the admin handler: %d", resp.StatusCode)
	}
	if r := e.pluginRequest(t, "", "", `{}`); r.Status != 401 {
		t.Errorf("plugin API on the public handler: %d %s", r.Status, r.Body)
	}
}
