package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/conformance"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// The fixtures every test provisions (see newEnv).
const (
	redirectURI = "https://plugin.example.com/callback"

	confID   = "plugin-conf"   // confidential plugin, all three grants
	pubID    = "plugin-public" // public plugin: code + refresh, PKCE only
	otherID  = "plugin-other"  // another confidential plugin
	noRefID  = "plugin-norefresh"
	rsID     = "api-resource-server" // may introspect
	operator = "op-1"
	website  = "site-1"
)

var (
	// approvedWeb and approvedPlugin are confID's approved maximum.
	approvedWeb    = scopes.MustParse("website:conversation:messages:read website:conversation:messages:write website:people:data:read website:people:data:write")
	approvedPlugin = scopes.MustParse("bucket:url:read plugin:subscription:bill:write")
	allGrants      = []string{"authorization_code", "client_credentials", "refresh_token"}
)

// env is one Provider over a real redis-server, served on loopback.
type env struct {
	t       testing.TB
	ctx     context.Context
	clk     *conformance.Clock // shared by the store and the Provider; moves only when a test advances it
	rdb     *redis.Client
	store   *storage.Redis
	p       *Provider
	srv     *httptest.Server
	secrets map[string]string // client ID → secret
}

// newEnv starts a redis-server, a store and a Provider served by an
// httptest server, and provisions the fixture clients.
func newEnv(t testing.TB) *env {
	t.Helper()
	addr := redistest.StartServer(t)
	return newEnvAt(t, addr, &redis.Options{Addr: addr})
}

// newEnvAt builds an env over the Redis reached with opts (addr is only
// for messages).
func newEnvAt(t testing.TB, addr string, opts *redis.Options) *env {
	t.Helper()
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis-server at %s does not answer: %v", addr, err)
	}
	clk := conformance.NewClock()
	store := storage.NewRedis(rdb, storage.RedisOptions{Now: clk.Now})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p := New(Config{Issuer: srv.URL, Now: clk.Now}, store)
	mux.HandleFunc("/oauth/token", p.Token)
	mux.HandleFunc("/oauth/introspect", p.Introspect)
	mux.HandleFunc("/oauth/revoke", p.Revoke)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
	e := &env{t: t, ctx: ctx, clk: clk, rdb: rdb, store: store, p: p, srv: srv, secrets: map[string]string{}}
	e.addClient(storage.Client{ID: confID, Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedWeb.Union(approvedPlugin)})
	e.addClient(storage.Client{ID: pubID, Type: storage.Public, GrantTypes: []string{"authorization_code", "refresh_token"}, Approved: approvedWeb})
	e.addClient(storage.Client{ID: otherID, Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedWeb.Union(approvedPlugin)})
	e.addClient(storage.Client{ID: noRefID, Type: storage.Confidential, GrantTypes: []string{"authorization_code"}, Approved: approvedWeb})
	e.addClient(storage.Client{ID: rsID, Type: storage.Confidential, Role: storage.RoleResourceServer})
	// The operator who consents, and the websites they act for (the web
	// layer checks that; the protocol layer records them in the grant).
	for _, w := range []string{website, "site-2"} {
		if err := store.PutWebsite(context.Background(), storage.Website{ID: w, Name: w}); err != nil {
			t.Fatalf("put website: %v", err)
		}
	}
	err := store.CreateOperator(context.Background(), storage.Operator{ID: operator, Email: "op@example.com",
		PasswordHash: []byte("not used by oauth"), Websites: []string{website, "site-2"}, CreatedAt: clk.Now()})
	if err != nil {
		t.Fatalf("create operator: %v", err)
	}
	return e
}

// addClient provisions c through the store, filling defaults; confidential
// clients get a fresh secret (stored hashed with HashSecret).
func (e *env) addClient(c storage.Client) {
	e.t.Helper()
	if c.Role == "" {
		c.Role = storage.RolePlugin
	}
	if c.Status == "" {
		c.Status = storage.Active
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if c.Role == storage.RolePlugin && c.RedirectURIs == nil {
		c.RedirectURIs = []string{redirectURI}
	}
	if c.Type == storage.Confidential {
		s := token.NewSecret()
		e.secrets[c.ID] = s
		c.Secrets = []storage.SecretHash{HashSecret(s)}
	}
	c.CreatedAt, c.UpdatedAt = e.clk.Now(), e.clk.Now()
	if err := e.store.CreateClient(context.Background(), c); err != nil {
		e.t.Fatalf("create client %s: %v", c.ID, err)
	}
}

// updateClient changes a client in the store and drops it from the
// Provider's cache, as the admin API does on the instance that made the
// change.
func (e *env) updateClient(id string, fn func(*storage.Client)) {
	e.t.Helper()
	_, err := e.store.UpdateClient(context.Background(), id, func(c storage.Client) (storage.Client, error) {
		fn(&c)
		return c, nil
	})
	if err != nil {
		e.t.Fatalf("update client %s: %v", id, err)
	}
	e.p.Forget(id)
}

// config is an x/oauth2 config for a plugin client.
func (e *env) config(id string, style oauth2.AuthStyle, scope ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     id,
		ClientSecret: e.secrets[id],
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.srv.URL + "/oauth/authorize",
			TokenURL:  e.srv.URL + "/oauth/token",
			AuthStyle: style,
		},
		RedirectURL: redirectURI,
		Scopes:      scope,
	}
}

// authorize plays the web layer for a GET /oauth/authorize URL: it parses
// the request and approves it with cs (cs.Scopes empty: everything
// requested). It fails the test on any error and returns the redirect.
func (e *env) authorize(authURL string, cs Consent) *url.URL {
	e.t.Helper()
	req, err := e.parseAuthorize(authURL)
	if err != nil {
		e.t.Fatalf("ParseAuthorize(%s): %v", authURL, err)
	}
	if cs.Scopes.IsEmpty() {
		cs.Scopes = req.Requested
	}
	if cs.OperatorID == "" {
		cs.OperatorID = operator
	}
	if cs.WebsiteID == "" {
		cs.WebsiteID = website
	}
	to, err := e.p.Approve(e.ctx, req, cs)
	if err != nil {
		e.t.Fatalf("Approve: %v", err)
	}
	u, err := url.Parse(to)
	if err != nil {
		e.t.Fatalf("Approve returned an unparsable redirect %q: %v", to, err)
	}
	return u
}

func (e *env) parseAuthorize(authURL string) (*AuthorizeRequest, error) {
	e.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		e.t.Fatalf("bad authorize URL %q: %v", authURL, err)
	}
	return e.p.ParseAuthorize(e.ctx, u.Query())
}

// codeFlow runs authorize + Exchange with PKCE for client id and returns
// the token x/oauth2 got.
func (e *env) codeFlow(id string, scope ...string) *oauth2.Token {
	e.t.Helper()
	cfg := e.config(id, oauth2.AuthStyleInHeader, scope...)
	v := oauth2.GenerateVerifier()
	u := e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)), Consent{})
	tok, err := cfg.Exchange(e.ctx, u.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		e.t.Fatalf("Exchange for %s: %v", id, err)
	}
	return tok
}

// codeFor returns a fresh code (and its verifier) for client id.
func (e *env) codeFor(id string) (code, verifier string) {
	e.t.Helper()
	cfg := e.config(id, oauth2.AuthStyleInHeader)
	verifier = oauth2.GenerateVerifier()
	u := e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), Consent{})
	return u.Query().Get("code"), verifier
}

// reply is one HTTP response, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as a JSON object, failing the test otherwise.
func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (status %d): %q", r.status, r.body)
	}
	return m
}

// basic is HTTP Basic credentials; the zero value sends none.
type basic struct{ id, secret string }

// post sends form as application/x-www-form-urlencoded to path.
func (e *env) post(path string, form url.Values, auth basic) reply {
	e.t.Helper()
	return e.raw(http.MethodPost, path, "application/x-www-form-urlencoded", form.Encode(), auth)
}

// raw sends body as is.
func (e *env) raw(method, path, contentType, body string, auth basic) reply {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != (basic{}) {
		req.SetBasicAuth(url.QueryEscape(auth.id), url.QueryEscape(auth.secret))
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) reply {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) basicFor(id string) basic { return basic{id, e.secrets[id]} }

// introspect asks as the resource server and returns the decoded answer.
func (e *env) introspect(tok string) map[string]any {
	e.t.Helper()
	r := e.post("/oauth/introspect", url.Values{"token": {tok}}, e.basicFor(rsID))
	if r.status != http.StatusOK {
		e.t.Fatalf("introspect: status %d, body %s", r.status, r.body)
	}
	wantNoStore(e.t, r)
	return r.json(e.t)
}

// active reports whether tok introspects active (and that an inactive
// answer is exactly {"active":false}: RFC 7662 §2.2 says nothing more).
func (e *env) active(tok string) bool {
	e.t.Helper()
	m := e.introspect(tok)
	if m["active"] == true {
		return true
	}
	if len(m) != 1 || m["active"] != false {
		e.t.Fatalf("inactive introspection must be exactly {\"active\":false}, got %v", m)
	}
	return false
}

// tokenForm posts to the token endpoint.
func (e *env) tokenForm(form url.Values, auth basic) reply {
	e.t.Helper()
	return e.post("/oauth/token", form, auth)
}

// refresh posts a refresh_token grant as client id (Basic).
func (e *env) refresh(id, rt string, extra ...string) reply {
	e.t.Helper()
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return e.tokenForm(f, e.basicFor(id))
}

// wantNoStore checks RFC 6749 §5.1's Cache-Control on a response.
func wantNoStore(t testing.TB, r reply) {
	t.Helper()
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store (status %d, body %s)", got, r.status, r.body)
	}
}

// leakMarkers are things that must never reach the wire: Go stack traces,
// runtime panics, backend names and internal error text.
var leakMarkers = []string{"goroutine ", ".go:", "panic", "runtime error", "redis", "storage:", "dial tcp", "connection refused", "127.0.0.1", "oauth: ", "sgs_"}

// wantClean checks a body carries no internal detail.
func wantClean(t testing.TB, r reply) {
	t.Helper()
	low := strings.ToLower(string(r.body))
	for _, m := range leakMarkers {
		if strings.Contains(low, m) {
			t.Errorf("response body leaks internal detail %q: %s", m, r.body)
		}
	}
}

// wantError checks an RFC 6749 §5.2 error response: status, error code,
// JSON content type, no-store, no internal detail, and WWW-Authenticate on
// 401 invalid_client. It returns error_description.
func wantError(t testing.TB, r reply, status int, code string) string {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	wantNoStore(t, r)
	wantClean(t, r)
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body is not JSON: %q", r.body)
	}
	if b.Error != code {
		t.Errorf("error = %q, want %q (description %q)", b.Error, code, b.Description)
	}
	if code == CodeInvalidClient {
		if wa := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Basic ") {
			t.Errorf("invalid_client without WWW-Authenticate: Basic (got %q)", wa)
		}
	}
	return b.Description
}

// wantRetrieveError checks an x/oauth2 error carries the RFC error code and
// status.
func wantRetrieveError(t testing.TB, err error, status int, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want *oauth2.RetrieveError %s, got %v", code, err)
	}
	if re.Response.StatusCode != status || re.ErrorCode != code {
		t.Errorf("got %d %q (%s), want %d %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, status, code)
	}
}

// findInRedis looks through every key and value in Redis for s and says
// where it found it ("" when nowhere): secrets, codes and tokens must only
// ever be stored hashed.
func (e *env) findInRedis(s string) string {
	e.t.Helper()
	ctx := context.Background()
	var all []string
	iter := e.rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		all = append(all, iter.Val())
	}
	if err := iter.Err(); err != nil {
		e.t.Fatalf("scan: %v", err)
	}
	if len(all) == 0 {
		e.t.Fatal("findInRedis: Redis is empty; is the store writing elsewhere?")
	}
	for _, k := range all {
		if strings.Contains(k, s) {
			return "key " + k
		}
		var vals []string
		switch typ := e.rdb.Type(ctx, k).Val(); typ {
		case "string":
			vals = []string{e.rdb.Get(ctx, k).Val()}
		case "hash":
			for f, v := range e.rdb.HGetAll(ctx, k).Val() {
				vals = append(vals, f, v)
			}
		case "set":
			vals = e.rdb.SMembers(ctx, k).Val()
		case "zset":
			vals = e.rdb.ZRange(ctx, k, 0, -1).Val()
		case "list":
			vals = e.rdb.LRange(ctx, k, 0, -1).Val()
		case "stream":
			for _, m := range e.rdb.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					vals = append(vals, f, fmt.Sprint(v))
				}
			}
		case "none":
		default:
			e.t.Fatalf("findInRedis: key %s has type %s", k, typ)
		}
		for _, v := range vals {
			if strings.Contains(v, s) {
				return "the value of " + k
			}
		}
	}
	return ""
}
