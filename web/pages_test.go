package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/storage"
)

const (
	pgPluginID  = "helpdesk"
	pgPluginNm  = `Helpdesk <b>Pro</b> & "Co"`
	pgRedirect  = "https://example.com/callback"
	pgEmail     = "ann@example.com"
	pgPassword  = "correct horse battery staple"
	pgRSID      = "rest-api"
	pgApproved  = "website:conversation:sessions:read website:conversation:messages:write website:people:data:read website:people:data:write plugin:subscription:bill:write"
	pgRequested = "website:conversation:sessions:read website:conversation:messages:write website:people:data:read website:people:data:write"
)

// pageFixture: a plugin, a resource server, and operator Ann who manages
// site-1 only; site-2 belongs to nobody she knows.
type pageFixture struct {
	*testEnv
	Secret   string
	RSSecret string
	Op       storage.Operator
}

func newPageFixture(t *testing.T, opts ...func(*Options)) *pageFixture {
	t.Helper()
	env := newTestEnv(t, opts...)
	env.AddWebsite(t, "site-1", "Shop One")
	env.AddWebsite(t, "site-2", "Someone Else's Shop")
	f := &pageFixture{testEnv: env}
	f.Op = env.AddOperator(t, pgEmail, pgPassword, "site-1")
	f.Secret = env.AddPlugin(t, pgPluginID, pgPluginNm, []string{pgRedirect}, pgApproved)
	f.RSSecret = env.AddResourceServer(t, pgRSID)
	return f
}

func (f *pageFixture) Config(scope ...string) *oauth2.Config {
	return f.OAuthConfig(pgPluginID, f.Secret, pgRedirect, scope...)
}

// authURL is the plugin's authorization request, as golang.org/x/oauth2
// builds it, with PKCE S256.
func (f *pageFixture) authURL(state, verifier string, scope ...string) string {
	return f.Config(scope...).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// signedInConsent opens the authorization URL in a fresh browser, signs in
// and returns the browser and the consent page.
func (f *pageFixture) signedInConsent(t *testing.T, authURL string) (*testBrowser, testResponse) {
	t.Helper()
	b := f.NewBrowser(t)
	login := b.Get(authURL)
	if login.StatusCode != http.StatusOK || !strings.Contains(login.Body, `action="/login"`) {
		t.Fatalf("authorize (signed out): status %d, want 200 with the login form:\n%s", login.StatusCode, login.Body)
	}
	page := b.FollowSignIn(login, pgEmail, pgPassword)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `name="consent_scope"`) {
		t.Fatalf("after sign-in: status %d, want 200 with the consent page:\n%s", page.StatusCode, page.Body)
	}
	return b, page
}

// connection is an operator's approved consent: the signed-in browser, the
// callback query and the PKCE verifier, and the plugin's redeemed token.
type connection struct {
	b        *testBrowser
	q        url.Values
	verifier string
	tok      *oauth2.Token
}

// connect signs Ann in, approves the consent for state with exactly the
// ticked scopes and redeems the code as the plugin.
func (f *pageFixture) connect(t *testing.T, state string, ticked []string) connection {
	t.Helper()
	c := connection{verifier: oauth2.GenerateVerifier()}
	var page testResponse
	c.b, page = f.signedInConsent(t, f.authURL(state, c.verifier, pgRequested))
	c.q = callbackParams(t, submitConsent(c.b, page, "approve", ticked, nil))
	var err error
	if c.tok, err = f.Config().Exchange(testCtx(t), c.q.Get("code"), oauth2.VerifierOption(c.verifier)); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return c
}

func (f *pageFixture) grants(t *testing.T, website string) []storage.Grant {
	t.Helper()
	gs, err := f.Store.ListGrants(testCtx(t), "", website)
	if err != nil {
		t.Fatalf("ListGrants: %v", err)
	}
	return gs
}

// submitConsent posts the consent form with exactly the given scopes
// ticked and the given action; edit may change the form before posting.
func submitConsent(b *testBrowser, page testResponse, action string, ticked []string, edit func(url.Values)) testResponse {
	b.t.Helper()
	form := findForm(b.t, page.Body, "/oauth/authorize")
	v := form.Values()
	v.Del(consentScopeField)
	for _, s := range ticked {
		v.Add(consentScopeField, s)
	}
	v.Set("action", action)
	if edit != nil {
		edit(v)
	}
	return b.Post("/oauth/authorize", v)
}

// callbackParams checks a redirect to the plugin and returns its query.
func callbackParams(t *testing.T, r testResponse) url.Values {
	t.Helper()
	want := http.StatusFound // 302 answering GET, 303 answering the consent POST
	if r.Request.Method == http.MethodPost {
		want = http.StatusSeeOther
	}
	if r.StatusCode != want {
		t.Fatalf("status %d, want %d; body:\n%s", r.StatusCode, want, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != pgRedirect {
		t.Fatalf("redirected to %q, want the registered %q", got, pgRedirect)
	}
	return loc.Query()
}

func assertPageHeaders(t *testing.T, r testResponse) {
	t.Helper()
	h := r.Header
	if got := h.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := h.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if got := h.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	for _, bad := range []string{"style=", "<style", "<script", "http://", "https://"} {
		if bad == "https://" || bad == "http://" {
			// No external assets: no absolute URL in src or href of a
			// stylesheet.
			if strings.Contains(r.Body, `<link rel="stylesheet" href="`+bad) {
				t.Errorf("page links an external stylesheet")
			}
			continue
		}
		if strings.Contains(r.Body, bad) {
			t.Errorf("page contains %q (the CSP forbids inline styles and scripts)", bad)
		}
	}
}

func findSetCookie(r testResponse, name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestPageAccountPagesNeedSignIn(t *testing.T) {
	f := newPageFixture(t)
	b := f.NewBrowser(t)
	r := b.Get("/account/plugins?website=site-1")
	if r.StatusCode != http.StatusOK || findForm(t, r.Body, "/login").Values().Get("return_to") != "/account/plugins?website=site-1" {
		t.Fatalf("signed out: status %d, want the sign-in form back to the page:\n%s", r.StatusCode, r.Body)
	}
	page := b.FollowSignIn(r, pgEmail, pgPassword)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "<h1>Connected plugins</h1>") {
		t.Fatalf("after sign-in: status %d:\n%s", page.StatusCode, page.Body)
	}
	if r := b.Get("/account/plugins?website=site-2"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("another's website: status %d, want 403", r.StatusCode)
	}
	if r := b.Get("/account/plugins?website=site-1&website=site-2"); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("website twice: status %d, want 400", r.StatusCode)
	}
	if r := b.Get("/account/plugins"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "<h1>Connected plugins</h1>") {
		t.Fatalf("one website, none given: status %d", r.StatusCode)
	}
	home := b.Get("/")
	if !strings.Contains(home.Body, `href="/account/plugins?website=site-1"`) || strings.Contains(home.Body, `href="/demo"`) {
		t.Fatalf("home page:\n%s", home.Body)
	}
}

func TestPageSecurityHeadersAndAssets(t *testing.T) {
	f := newPageFixture(t, func(o *Options) { o.Demo = true })
	b := f.NewBrowser(t)
	for _, p := range []string{"/", "/login", "/demo", "/oauth/authorize?client_id=nope"} {
		r := b.Get(p)
		if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusBadRequest {
			t.Fatalf("GET %s: status %d", p, r.StatusCode)
		}
		assertPageHeaders(t, r)
	}
	css := b.Get("/static/app.css")
	if css.StatusCode != http.StatusOK || css.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css.Body, ".badge.write") {
		t.Fatalf("stylesheet: status %d, type %q", css.StatusCode, css.Header.Get("Content-Type"))
	}
}

func TestPageStorageUnavailable(t *testing.T) {
	// A store whose Redis is not there: every call fails as unavailable.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	t.Cleanup(func() { _ = store.Close() })
	env := newTestEnvWithStore(t, store)
	b := env.NewBrowser(t)
	r := b.Get("/oauth/authorize?response_type=code&client_id=helpdesk&redirect_uri=" + url.QueryEscape(pgRedirect))
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Location") != "" || !strings.Contains(r.Body, "Temporarily unavailable") {
		t.Fatalf("status %d Location %q, want a 503 page:\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	if got := r.Header.Get("Retry-After"); got != "1" {
		t.Errorf("503 page: Retry-After = %q, want 1 as on the API", got)
	}
	assertPageHeaders(t, r)
	login := b.Get("/login")
	if login.StatusCode != http.StatusOK {
		t.Fatalf("/login without a session cookie: status %d", login.StatusCode)
	}
	if r := b.SignIn(login, pgEmail, pgPassword); r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("sign-in with storage down: status %d Retry-After %q, want 503 and 1", r.StatusCode, r.Header.Get("Retry-After"))
	}
}
