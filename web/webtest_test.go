package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web/webtest"
)

// testEnv is a running scopegate web server for tests of package web: a
// real redis-server (storage/redistest), the real storage, oauth.Provider
// and web.Server, served by httptest over loopback. URL is also the issuer.
type testEnv struct {
	Store    storage.Store
	Provider *oauth.Provider
	Web      *Server
	Server   *httptest.Server
	URL      string
}

// newTestEnv starts a test environment. opts may adjust the web Options
// (Demo, SecureCookies, ...) before the server is built.
func newTestEnv(t *testing.T, opts ...func(*Options)) *testEnv {
	t.Helper()
	addr := redistest.StartServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	t.Cleanup(func() { _ = store.Close() })
	return newTestEnvWithStore(t, store, opts...)
}

// newTestEnvWithStore starts the web server over a given store. The
// Provider, unless opts set one, is built after opts with their Now.
func newTestEnvWithStore(t testing.TB, store storage.Store, opts ...func(*Options)) *testEnv {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	o := Options{Store: store}
	for _, f := range opts {
		f(&o)
	}
	if o.Provider == nil {
		o.Provider = oauth.New(oauth.Config{Issuer: base, Now: o.Now}, store)
	}
	w := New(o)
	srv.Config.Handler = w.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &testEnv{Store: store, Provider: o.Provider, Web: w, Server: srv, URL: base}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// AddWebsite stores a website.
func (e *testEnv) AddWebsite(t *testing.T, id, name string) {
	t.Helper()
	if err := e.Store.PutWebsite(testCtx(t), storage.Website{ID: id, Name: name}); err != nil {
		t.Fatalf("PutWebsite(%s): %v", id, err)
	}
}

// AddOperator stores an operator (ID "op-" + the e-mail's local part) who
// manages the given websites.
func (e *testEnv) AddOperator(t *testing.T, email, password string, websites ...string) storage.Operator {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	local, _, _ := strings.Cut(email, "@")
	op := storage.Operator{ID: "op-" + local, Email: email, PasswordHash: hash, Websites: websites, CreatedAt: time.Now()}
	if err := e.Store.CreateOperator(testCtx(t), op); err != nil {
		t.Fatalf("CreateOperator(%s): %v", email, err)
	}
	return op
}

// AddPlugin stores an active confidential plugin client allowed the code
// and refresh grants, and returns its secret.
func (e *testEnv) AddPlugin(t *testing.T, id, name string, redirectURIs []string, approved string) string {
	t.Helper()
	secret := token.NewSecret()
	now := time.Now()
	c := storage.Client{
		ID: id, Name: name, Type: storage.Confidential,
		Secrets:      []storage.SecretHash{oauth.HashSecret(secret)},
		RedirectURIs: redirectURIs,
		GrantTypes:   []string{"authorization_code", "refresh_token"},
		Role:         storage.RolePlugin, Status: storage.Active,
		Approved: scopes.MustParse(approved), CreatedAt: now, UpdatedAt: now,
	}
	if err := e.Store.CreateClient(testCtx(t), c); err != nil {
		t.Fatalf("CreateClient(%s): %v", id, err)
	}
	return secret
}

// AddResourceServer stores a resource-server client and returns its secret.
func (e *testEnv) AddResourceServer(t *testing.T, id string) string {
	t.Helper()
	secret := token.NewSecret()
	now := time.Now()
	c := storage.Client{
		ID: id, Name: id, Type: storage.Confidential, Secrets: []storage.SecretHash{oauth.HashSecret(secret)},
		Role: storage.RoleResourceServer, Status: storage.Active, CreatedAt: now, UpdatedAt: now,
	}
	if err := e.Store.CreateClient(testCtx(t), c); err != nil {
		t.Fatalf("CreateClient(%s): %v", id, err)
	}
	return secret
}

// OAuthConfig is the golang.org/x/oauth2 configuration a plugin would use
// against this server.
func (e *testEnv) OAuthConfig(clientID, secret, redirectURI string, scope ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.URL + "/oauth/authorize",
			TokenURL:  e.URL + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: redirectURI,
		Scopes:      scope,
	}
}

// Introspect asks /oauth/introspect about tok as resource server rsID.
func (e *testEnv) Introspect(t *testing.T, rsID, rsSecret, tok string) oauth.Introspection {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, e.URL+"/oauth/introspect",
		strings.NewReader(url.Values{"token": {tok}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rsID, rsSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: status %d: %s", resp.StatusCode, body)
	}
	var out oauth.Introspection
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("introspect: %v: %s", err, body)
	}
	return out
}

// testBrowser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see every 302/303 and its Location.
type testBrowser struct {
	t    *testing.T
	c    *http.Client
	base string
}

// NewBrowser returns a fresh cookie-keeping client for the server.
func (e *testEnv) NewBrowser(t *testing.T) *testBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testBrowser{t: t, base: e.URL, c: &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// testResponse is a response with its body read.
type testResponse struct {
	*http.Response
	Body string
}

func (b *testBrowser) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return b.base + u
	}
	return u
}

// Get fetches u (absolute, or a path on the server).
func (b *testBrowser) Get(u string) testResponse {
	b.t.Helper()
	return b.do(http.MethodGet, u, nil)
}

// Post posts a URL-encoded form.
func (b *testBrowser) Post(u string, form url.Values) testResponse {
	b.t.Helper()
	return b.do(http.MethodPost, u, form)
}

func (b *testBrowser) do(method, u string, form url.Values) testResponse {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.abs(u), body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return testResponse{Response: resp, Body: string(data)}
}

// Cookie returns the browser's cookie for the server's root path.
func (b *testBrowser) Cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base + "/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SignIn submits the login form found in page (a response that rendered
// it) and returns the response to the POST.
func (b *testBrowser) SignIn(page testResponse, email, password string) testResponse {
	b.t.Helper()
	return b.Post("/login", loginValues(b.t, page, email, password))
}

// loginValues is the login form found in page (its hidden fields kept),
// filled in with email and password.
func loginValues(t *testing.T, page testResponse, email, password string) url.Values {
	t.Helper()
	v := findForm(t, page.Body, "/login").Values()
	v.Set("email", email)
	v.Set("password", password)
	return v
}

// FollowSignIn signs in from page and follows the 303 back to the page
// that asked for it.
func (b *testBrowser) FollowSignIn(page testResponse, email, password string) testResponse {
	b.t.Helper()
	r := b.SignIn(page, email, password)
	if r.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in: status %d, want 303; body:\n%s", r.StatusCode, r.Body)
	}
	return b.Get(r.Header.Get("Location"))
}

// htmlForm and findForm are webtest's Form and FindForm.
type htmlForm = webtest.Form

func findForm(t *testing.T, page, action string) htmlForm {
	t.Helper()
	return webtest.FindForm(t, page, action)
}
