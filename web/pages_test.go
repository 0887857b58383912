package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
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

func TestPageAuthorizeUntrustedRequestShowsErrorPage(t *testing.T) {
	f := newPageFixture(t)
	good := url.Values{
		"response_type": {"code"}, "client_id": {pgPluginID}, "redirect_uri": {pgRedirect}, "state": {"st"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
	}
	with := func(edit func(url.Values)) string {
		v := url.Values{}
		for k, vs := range good {
			v[k] = slices.Clone(vs)
		}
		edit(v)
		return "/oauth/authorize?" + v.Encode()
	}
	tests := []struct {
		name     string
		url      string
		wantText string
	}{
		{"unknown client", with(func(v url.Values) { v.Set("client_id", "no-such-plugin") }), "unknown client_id"},
		{"missing client_id", with(func(v url.Values) { v.Del("client_id") }), "client_id is missing"},
		{"duplicated client_id", with(func(v url.Values) { v.Add("client_id", pgPluginID) }), "client_id is given more than once"},
		{"unregistered redirect_uri", with(func(v url.Values) { v.Set("redirect_uri", "https://evil.test/callback") }), "redirect_uri is not registered"},
		{"host suffix trick", with(func(v url.Values) { v.Set("redirect_uri", "https://attackerexample.com/callback") }), "redirect_uri is not registered"},
		{"subdomain", with(func(v url.Values) { v.Set("redirect_uri", "https://evil.example.com/callback") }), "redirect_uri is not registered"},
		{"longer path", with(func(v url.Values) { v.Set("redirect_uri", pgRedirect+"/../x") }), "redirect_uri is not registered"},
		{"extra query", with(func(v url.Values) { v.Set("redirect_uri", pgRedirect+"?next=https://evil.test") }), "redirect_uri is not registered"},
		{"missing redirect_uri", with(func(v url.Values) { v.Del("redirect_uri") }), "redirect_uri is required"},
		{"duplicated redirect_uri", with(func(v url.Values) { v.Add("redirect_uri", pgRedirect) }), "redirect_uri is given more than once"},
	}
	b := f.NewBrowser(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.Get(tt.url)
			if r.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body:\n%s", r.StatusCode, r.Body)
			}
			if loc := r.Header.Get("Location"); loc != "" {
				t.Fatalf("Location = %q: an untrusted request must never redirect", loc)
			}
			if !strings.Contains(r.Body, "This link cannot be used") || !strings.Contains(r.Body, tt.wantText) {
				t.Errorf("body lacks the explanation %q:\n%s", tt.wantText, r.Body)
			}
			assertPageHeaders(t, r)
		})
	}
	// The same holds for a signed-in operator and for the consent POST.
	_, consent := f.signedInConsent(t, f.authURL("s", oauth2.GenerateVerifier()))
	form := findForm(t, consent.Body, "/oauth/authorize").Values()
	form.Set("redirect_uri", "https://attackerexample.com/callback")
	form.Set("action", "approve")
	r := f.NewBrowser(t).Post("/oauth/authorize", form)
	if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
		t.Fatalf("POST with a foreign redirect_uri: status %d, Location %q; want 400 and none", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestPageAuthorizeInvalidScopeRedirects(t *testing.T) {
	f := newPageFixture(t)
	tests := []struct {
		name, scope, wantDesc string
	}{
		{"beyond the approved maximum", "website:people:data:read website:visitors:read", "website:visitors:read"},
		{"unknown scope", "website:people:data:read website:nope:read", "website:nope:read"},
		{"plugin scope", "plugin:subscription:bill:write", "plugin:subscription:bill:write"},
		{"missing permission", "website:people:data", "website:people:data"},
	}
	b := f.NewBrowser(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.Get(f.authURL("state-42", oauth2.GenerateVerifier(), tt.scope))
			q := callbackParams(t, r)
			if q.Get("error") != "invalid_scope" || q.Get("state") != "state-42" || q.Get("iss") != f.URL {
				t.Fatalf("callback query = %v, want error=invalid_scope, state=state-42, iss=%s", q, f.URL)
			}
			if !strings.Contains(q.Get("error_description"), tt.wantDesc) {
				t.Errorf("error_description %q does not name %q", q.Get("error_description"), tt.wantDesc)
			}
			if q.Has("code") {
				t.Errorf("a code was issued: %v", q)
			}
		})
	}
}

func TestPageLoginWrongPassword(t *testing.T) {
	f := newPageFixture(t)
	for _, tt := range []struct{ name, email, password string }{
		{"wrong password", pgEmail, "not the password"},
		{"unknown e-mail", "nobody@example.com", pgPassword},
		{"empty password", pgEmail, ""},
		{"over bcrypt's 72 bytes", pgEmail, pgPassword + strings.Repeat("x", 80)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := f.NewBrowser(t)
			login := b.Get("/login")
			r := b.SignIn(login, tt.email, tt.password)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422; body:\n%s", r.StatusCode, r.Body)
			}
			if !strings.Contains(r.Body, "Wrong e-mail or password.") {
				t.Errorf("body lacks the generic message:\n%s", r.Body)
			}
			if b.Cookie(sessionCookie) != nil {
				t.Errorf("a session cookie was set after a failed sign-in")
			}
			assertPageHeaders(t, r)
		})
	}
	t.Run("right password", func(t *testing.T) {
		b := f.NewBrowser(t)
		r := b.SignIn(b.Get("/login"), strings.ToUpper(pgEmail), pgPassword)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("status %d Location %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
		}
		ck := findSetCookie(r, sessionCookie)
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || len(ck.Value) != 43 {
			t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, 43-char secret", ck)
		}
		home := b.Get("/")
		if !strings.Contains(home.Body, "Signed in as <strong>"+pgEmail+"</strong>") {
			t.Errorf("home page does not show the operator:\n%s", home.Body)
		}
	})
}

func TestPageSecureCookies(t *testing.T) {
	f := newPageFixture(t, func(o *Options) { o.SecureCookies = true })
	// The test server is plain HTTP, so the jar would drop Secure cookies:
	// read the Set-Cookie headers directly.
	b := f.NewBrowser(t)
	login := b.Get("/login")
	ck := findSetCookie(login, loginCSRFCookie)
	if ck == nil || !ck.Secure || !ck.HttpOnly {
		t.Fatalf("login CSRF cookie = %+v, want Secure and HttpOnly", ck)
	}
	form := findForm(t, login.Body, "/login").Values()
	form.Set("email", pgEmail)
	form.Set("password", pgPassword)
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: loginCSRFCookie, Value: ck.Value})
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sc := findSetCookie(testResponse{Response: resp}, sessionCookie)
	if resp.StatusCode != http.StatusSeeOther || sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
		t.Fatalf("status %d, session cookie %+v; want 303 and a Secure, HttpOnly, SameSite=Lax cookie", resp.StatusCode, sc)
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

func TestPageLoginCSRF(t *testing.T) {
	f := newPageFixture(t)
	b := f.NewBrowser(t)
	login := b.Get("/login")
	form := findForm(t, login.Body, "/login").Values()
	form.Set("email", pgEmail)
	form.Set("password", pgPassword)
	for _, tt := range []struct {
		name string
		csrf string
	}{
		{"missing", ""},
		{"wrong", strings.Repeat("A", 43)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range form {
				v[k] = vs
			}
			v.Set("csrf", tt.csrf)
			r := b.Post("/login", v)
			if r.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403; body:\n%s", r.StatusCode, r.Body)
			}
			if b.Cookie(sessionCookie) != nil {
				t.Fatal("signed in despite a bad CSRF token")
			}
		})
	}
	t.Run("no cookie", func(t *testing.T) {
		r := f.NewBrowser(t).Post("/login", form) // right token, other browser
		if r.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", r.StatusCode)
		}
	})
}

func TestPageLoginReturnToStaysLocal(t *testing.T) {
	f := newPageFixture(t)
	authz := "/oauth/authorize?client_id=helpdesk&response_type=code"
	tests := []struct{ returnTo, want string }{
		{"", "/"},
		{"https://evil.test/oauth/authorize?x=1", "/"},
		{"//evil.test/oauth/authorize?x=1", "/"},
		{"/\\evil.test", "/"},
		{"/oauth/authorize?x=1\r\nLocation: https://evil.test", "/"},
		{"javascript:alert(1)", "/"},
		{"/admin/v1/clients", "/"},
		{"/oauth/authorize", "/"},
		{"/oauth/authorize/../../evil", "/"},
		{authz, "/oauth/authorize?client_id=helpdesk&response_type=code"},
		{"/account/plugins?website=site-1&x=https://evil.test", "/account/plugins?website=site-1"},
	}
	for _, tt := range tests {
		t.Run(tt.returnTo, func(t *testing.T) {
			if got := safeReturnTo(tt.returnTo); got != tt.want {
				t.Errorf("safeReturnTo(%q) = %q, want %q", tt.returnTo, got, tt.want)
			}
			b := f.NewBrowser(t)
			login := b.Get("/login")
			form := findForm(t, login.Body, "/login").Values()
			form.Set("email", pgEmail)
			form.Set("password", pgPassword)
			form.Set("return_to", tt.returnTo)
			r := b.Post("/login", form)
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != tt.want {
				t.Fatalf("status %d Location %q, want 303 to %q", r.StatusCode, r.Header.Get("Location"), tt.want)
			}
		})
	}
	// The login form rendered in place on /oauth/authorize carries the
	// request back, and only that.
	au := f.authURL("s1", oauth2.GenerateVerifier())
	b := f.NewBrowser(t)
	login := b.Get(au)
	rt := findForm(t, login.Body, "/login").Values().Get("return_to")
	u, _ := url.Parse(au)
	if want := "/oauth/authorize?" + u.Query().Encode(); rt != want {
		t.Fatalf("return_to = %q, want %q", rt, want)
	}
}

func TestPageConsentShowsScopesInPlainWords(t *testing.T) {
	f := newPageFixture(t)
	_, page := f.signedInConsent(t, f.authURL("s", oauth2.GenerateVerifier(), pgRequested))
	assertPageHeaders(t, page)
	body := page.Body
	for _, want := range []string{
		// Name escaped, never raw HTML.
		"Connect <span class=\"client\">Helpdesk &lt;b&gt;Pro&lt;/b&gt; &amp; &#34;Co&#34;</span>",
		"Shop One",
		"See conversation metadata", "Send messages in conversations",
		"Note: it can change conversation messages but not read them.",
		`<span class="badge read">READ</span> <span class="perm-text">See data stored in CRM profiles</span> <code class="scope-code">website:people:data:read</code>`,
		`<span class="badge write">WRITE</span> <span class="perm-text">Save data into CRM profiles</span> <code class="scope-code">website:people:data:write</code>`,
		`value="approve"`, `value="deny"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>Pro</b>") {
		t.Error("the client name is not escaped")
	}
	// Neither the source descriptions (which name both permissions) nor
	// raw API route titles are shown.
	for _, bad := range []string{"Read and update conversations", "Get Conversation Metas", "Example:", "did not name the permissions"} {
		if strings.Contains(body, bad) {
			t.Errorf("consent page shows %q", bad)
		}
	}
	if strings.Contains(body, "people data but not read") {
		t.Error("write-only note shown for a scope asked with read")
	}
	form := findForm(t, body, "/oauth/authorize")
	all, checked := form.Checkboxes(consentScopeField)
	want := strings.Fields(pgRequested)
	if !slices.Equal(all, want) || !slices.Equal(checked, want) {
		t.Errorf("checkboxes %v (ticked %v), want all of %v ticked", all, checked, want)
	}
	v := form.Values()
	if v.Get("csrf") == "" || v.Get("website_id") != "site-1" || v.Get("client_id") != pgPluginID || v.Get("scope") != pgRequested ||
		v.Get("code_challenge_method") != "S256" || v.Get("state") != "s" || v.Get("redirect_uri") != pgRedirect {
		t.Errorf("hidden fields = %v", v)
	}
}

func TestPageConsentOmittedScopeShowsApprovedWebsiteScopes(t *testing.T) {
	f := newPageFixture(t)
	_, page := f.signedInConsent(t, f.authURL("s", oauth2.GenerateVerifier()))
	all, _ := findForm(t, page.Body, "/oauth/authorize").Checkboxes(consentScopeField)
	if want := strings.Fields(pgRequested); !slices.Equal(all, want) {
		t.Errorf("checkboxes %v, want the approved website scopes %v", all, want)
	}
}

func TestPageConsentCSRF(t *testing.T) {
	f := newPageFixture(t)
	b, page := f.signedInConsent(t, f.authURL("s", oauth2.GenerateVerifier(), pgRequested))
	for _, tt := range []struct {
		name string
		edit func(url.Values)
	}{
		{"missing", func(v url.Values) { v.Del("csrf") }},
		{"empty", func(v url.Values) { v.Set("csrf", "") }},
		{"wrong", func(v url.Values) { v.Set("csrf", token.NewRandom()) }},
	} {
		for _, action := range []string{"approve", "deny"} {
			t.Run(tt.name+"/"+action, func(t *testing.T) {
				r := submitConsent(b, page, action, strings.Fields(pgRequested), tt.edit)
				if r.StatusCode != http.StatusForbidden {
					t.Fatalf("status %d, want 403; body:\n%s", r.StatusCode, r.Body)
				}
				if loc := r.Header.Get("Location"); loc != "" {
					t.Fatalf("Location = %q", loc)
				}
				assertPageHeaders(t, r)
			})
		}
	}
	// Another browser (no session) posting the same form gets the sign-in
	// form, not a code.
	r := submitConsent(f.NewBrowser(t), page, "approve", strings.Fields(pgRequested), nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `action="/login"`) || r.Header.Get("Location") != "" {
		t.Fatalf("no session: status %d Location %q; want the sign-in form", r.StatusCode, r.Header.Get("Location"))
	}
	if gs := f.grants(t, "site-1"); len(gs) != 0 {
		t.Fatalf("grants were created: %+v", gs)
	}
}

func TestPageConsentWebsiteNotAllowed(t *testing.T) {
	f := newPageFixture(t)
	au := f.authURL("s", oauth2.GenerateVerifier(), pgRequested)
	b, page := f.signedInConsent(t, au)
	r := b.Get(au + "&website_id=site-2")
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "Not your website") {
		t.Fatalf("GET for another's website: status %d, want 403:\n%s", r.StatusCode, r.Body)
	}
	for _, site := range []string{"site-2", "", "no-such-site"} {
		r := submitConsent(b, page, "approve", strings.Fields(pgRequested), func(v url.Values) { v.Set("website_id", site) })
		if r.StatusCode != http.StatusForbidden || r.Header.Get("Location") != "" {
			t.Fatalf("POST for website %q: status %d Location %q, want 403", site, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if gs := f.grants(t, "site-2"); len(gs) != 0 {
		t.Fatalf("grants were created on site-2: %+v", gs)
	}
}

func TestPageConsentDeny(t *testing.T) {
	f := newPageFixture(t)
	b, page := f.signedInConsent(t, f.authURL("deny-state", oauth2.GenerateVerifier(), pgRequested))
	q := callbackParams(t, submitConsent(b, page, "deny", nil, nil))
	if q.Get("error") != "access_denied" || q.Get("state") != "deny-state" || q.Get("iss") != f.URL || q.Has("code") {
		t.Fatalf("callback query = %v, want error=access_denied, state, iss and no code", q)
	}
	if gs := f.grants(t, "site-1"); len(gs) != 0 {
		t.Fatalf("grants were created: %+v", gs)
	}
}

func TestPageConsentNothingTicked(t *testing.T) {
	f := newPageFixture(t)
	b, page := f.signedInConsent(t, f.authURL("s", oauth2.GenerateVerifier(), pgRequested))
	r := submitConsent(b, page, "approve", nil, nil)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Tick at least one permission") {
		t.Fatalf("status %d, want 422 with the consent page and an error:\n%s", r.StatusCode, r.Body)
	}
	if all, checked := findForm(t, r.Body, "/oauth/authorize").Checkboxes(consentScopeField); len(all) != 4 || len(checked) != 0 {
		t.Errorf("re-rendered checkboxes %v ticked %v", all, checked)
	}
	for _, tt := range []struct {
		name   string
		ticked []string
	}{
		{"not requested", []string{"website:people:data:read", "website:visitors:read"}},
		{"not a scope", []string{"website:people:data:read website:people:data:write"}},
		{"twice", []string{"website:people:data:read", "website:people:data:read"}},
	} {
		r := submitConsent(b, page, "approve", tt.ticked, nil)
		if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
			t.Errorf("%s: status %d Location %q, want 400", tt.name, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if gs := f.grants(t, "site-1"); len(gs) != 0 {
		t.Fatalf("grants were created: %+v", gs)
	}
}

func TestPageConsentApproveSubsetAndExchange(t *testing.T) {
	f := newPageFixture(t)
	verifier := oauth2.GenerateVerifier()
	b, page := f.signedInConsent(t, f.authURL("approve-state", verifier, pgRequested))
	ticked := []string{"website:conversation:messages:write", "website:people:data:read"}
	q := callbackParams(t, submitConsent(b, page, "approve", ticked, nil))
	if q.Get("state") != "approve-state" || q.Get("iss") != f.URL || q.Get("code") == "" || q.Has("error") {
		t.Fatalf("callback query = %v", q)
	}
	ctx := testCtx(t)
	tok, err := f.Config().Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if got := tok.Extra("scope"); got != strings.Join(ticked, " ") {
		t.Fatalf("token scope = %q, want exactly the ticked %q", got, strings.Join(ticked, " "))
	}
	in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken)
	if !in.Active || in.Scope != strings.Join(ticked, " ") || in.WebsiteID != "site-1" || in.ClientID != pgPluginID || in.OperatorID != f.Op.ID {
		t.Fatalf("introspection = %+v", in)
	}
	// The code is single-use.
	if _, err := f.Config().Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("the code was accepted twice")
	}
}

func TestPageWebsitePicker(t *testing.T) {
	f := newPageFixture(t)
	f.AddWebsite(t, "site-3", "Bob's Blog")
	f.AddOperator(t, "bob@example.com", pgPassword, "site-2", "site-3")
	b := f.NewBrowser(t)
	au := f.authURL("s", oauth2.GenerateVerifier(), pgRequested)
	picker := b.FollowSignIn(b.Get(au), "bob@example.com", pgPassword)
	if picker.StatusCode != http.StatusOK || !strings.Contains(picker.Body, "Choose a website") {
		t.Fatalf("status %d, want the website picker:\n%s", picker.StatusCode, picker.Body)
	}
	assertPageHeaders(t, picker)
	form := findForm(t, picker.Body, "/oauth/authorize")
	v := form.Values()
	if v.Get("website_id") != "site-2" || !strings.Contains(picker.Body, "Bob&#39;s Blog") {
		t.Fatalf("picker fields %v", v)
	}
	v.Set("website_id", "site-3")
	consent := b.Get("/oauth/authorize?" + v.Encode())
	if consent.StatusCode != http.StatusOK || !strings.Contains(consent.Body, "Bob&#39;s Blog") || !strings.Contains(consent.Body, "Choose another website") {
		t.Fatalf("consent for site-3: status %d:\n%s", consent.StatusCode, consent.Body)
	}
	if got := findForm(t, consent.Body, "/oauth/authorize").Values().Get("website_id"); got != "site-3" {
		t.Fatalf("website_id = %q, want site-3", got)
	}
}

func TestPageConnectedPluginsDisconnect(t *testing.T) {
	f := newPageFixture(t)
	verifier := oauth2.GenerateVerifier()
	b, page := f.signedInConsent(t, f.authURL("s", verifier, pgRequested))
	ticked := []string{"website:conversation:messages:write", "website:people:data:read"}
	q := callbackParams(t, submitConsent(b, page, "approve", ticked, nil))
	tok, err := f.Config().Exchange(testCtx(t), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}

	list := b.Get("/account/plugins?website=site-1")
	if list.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", list.StatusCode, list.Body)
	}
	assertPageHeaders(t, list)
	for _, want := range []string{
		"Helpdesk &lt;b&gt;Pro&lt;/b&gt;", "Shop One", "Send messages in conversations", "See data stored in CRM profiles",
		`title="website:people:data:read">READ</span>`, `title="website:conversation:messages:write">WRITE</span>`,
		"can change conversation messages but not read them", "Connected on <time datetime=",
	} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("connected plugins page lacks %q", want)
		}
	}
	if strings.Contains(list.Body, "website:conversation:sessions:read") {
		t.Error("the page lists a scope that was not granted")
	}
	gs := f.grants(t, "site-1")
	if len(gs) != 1 {
		t.Fatalf("grants = %+v, want 1", gs)
	}
	form := findForm(t, list.Body, "/account/plugins/disconnect").Values()
	if form.Get("grant_id") != gs[0].ID || form.Get("website") != "site-1" || form.Get("csrf") == "" {
		t.Fatalf("disconnect form = %v", form)
	}

	// Another operator cannot disconnect it, neither through their own
	// website nor through site-1.
	f.AddOperator(t, "eve@example.com", pgPassword, "site-2")
	eve := f.NewBrowser(t)
	eveHome := eve.FollowSignIn(eve.Get("/login"), "eve@example.com", pgPassword)
	eveCSRF := findForm(t, eveHome.Body, "/logout").Values().Get("csrf")
	for _, site := range []string{"site-1", "site-2"} {
		r := eve.Post("/account/plugins/disconnect", url.Values{"csrf": {eveCSRF}, "website": {site}, "grant_id": {gs[0].ID}})
		want := map[string]int{"site-1": http.StatusForbidden, "site-2": http.StatusNotFound}[site]
		if r.StatusCode != want {
			t.Fatalf("eve disconnecting via %s: status %d, want %d", site, r.StatusCode, want)
		}
	}
	// Wrong CSRF.
	bad := url.Values{"csrf": {token.NewRandom()}, "website": {"site-1"}, "grant_id": {gs[0].ID}}
	if r := b.Post("/account/plugins/disconnect", bad); r.StatusCode != http.StatusForbidden {
		t.Fatalf("bad CSRF: status %d, want 403", r.StatusCode)
	}
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); !in.Active {
		t.Fatal("token inactive before Disconnect")
	}

	// The first POST only asks for confirmation: nothing is revoked yet.
	ask := b.Post("/account/plugins/disconnect", form)
	if ask.StatusCode != http.StatusOK || !strings.Contains(ask.Body, "Disconnect Helpdesk &lt;b&gt;Pro&lt;/b&gt; &amp; &#34;Co&#34;?") ||
		!strings.Contains(ask.Body, "Send messages in conversations") {
		t.Fatalf("disconnect without confirm: status %d, want 200 with the confirmation page:\n%s", ask.StatusCode, ask.Body)
	}
	assertPageHeaders(t, ask)
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); !in.Active {
		t.Fatal("token inactive after the unconfirmed Disconnect")
	}
	confirm := findForm(t, ask.Body, "/account/plugins/disconnect").Values()
	if confirm.Get("confirm") != "yes" || confirm.Get("grant_id") != gs[0].ID || confirm.Get("csrf") != form.Get("csrf") {
		t.Fatalf("confirmation form = %v", confirm)
	}
	r := b.Post("/account/plugins/disconnect", confirm)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/plugins?website=site-1&disconnected=1" {
		t.Fatalf("disconnect: status %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	after := b.Get(r.Header.Get("Location"))
	if !strings.Contains(after.Body, "The plugin was disconnected.") || !strings.Contains(after.Body, "No plugin is connected") ||
		strings.Contains(after.Body, gs[0].ID) {
		t.Fatalf("page after disconnect:\n%s", after.Body)
	}
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); in.Active {
		t.Fatalf("access token still active after Disconnect: %+v", in)
	}
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.RefreshToken); in.Active {
		t.Fatalf("refresh token still active after Disconnect: %+v", in)
	}
	evs, err := f.Store.ListEvents(testCtx(t), storage.EventFilter{Kind: "grant.revoked"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Actor != "operator:"+f.Op.ID || evs[0].GrantID != gs[0].ID || evs[0].WebsiteID != "site-1" || evs[0].ClientID != pgPluginID {
		t.Fatalf("audit events = %+v", evs)
	}
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

func TestPageLogout(t *testing.T) {
	f := newPageFixture(t)
	au := f.authURL("s", oauth2.GenerateVerifier(), pgRequested)
	b, page := f.signedInConsent(t, au)
	secret := b.Cookie(sessionCookie).Value
	logout := findForm(t, page.Body, "/logout").Values()
	if r := b.Post("/logout", url.Values{"csrf": {"wrong"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with a bad CSRF token: status %d, want 403", r.StatusCode)
	}
	r := b.Post("/logout", logout)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("logout: status %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	if b.Cookie(sessionCookie) != nil {
		t.Error("session cookie kept after logout")
	}
	if _, err := f.Store.GetSession(testCtx(t), secret); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetSession after logout: err = %v, want ErrNotFound", err)
	}
	if r := b.Get(au); !strings.Contains(r.Body, `action="/login"`) {
		t.Error("authorize after logout does not ask to sign in")
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

func TestPageDemo(t *testing.T) {
	f := newPageFixture(t, func(o *Options) { o.Demo = true })
	f.AddPlugin(t, demoClientID, "Demo Helpdesk Plugin", []string{f.URL + "/demo/callback"}, pgApproved)
	b := f.NewBrowser(t)
	demo := b.Get("/demo")
	if demo.StatusCode != http.StatusOK || !strings.Contains(demo.Body, "Connect the demo plugin") {
		t.Fatalf("/demo: status %d", demo.StatusCode)
	}
	connect := b.Get("/demo/connect")
	if connect.StatusCode != http.StatusFound {
		t.Fatalf("/demo/connect: status %d", connect.StatusCode)
	}
	ck := findSetCookie(connect, demoCookie)
	if ck == nil || !ck.HttpOnly || ck.Path != "/demo" {
		t.Fatalf("demo cookie = %+v", ck)
	}
	loc, _ := url.Parse(connect.Header.Get("Location"))
	q := loc.Query()
	if loc.Path != "/oauth/authorize" || q.Get("client_id") != demoClientID || q.Get("redirect_uri") != f.URL+"/demo/callback" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") == "" {
		t.Fatalf("demo authorize URL = %s", loc)
	}
	page := b.FollowSignIn(b.Get(loc.String()), pgEmail, pgPassword)
	cb := submitConsent(b, page, "approve", []string{"website:people:data:read"}, nil)
	if cb.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: status %d, want 303", cb.StatusCode)
	}
	res := b.Get(cb.Header.Get("Location"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/demo/callback: status %d", res.StatusCode)
	}
	state, verifier, _ := strings.Cut(ck.Value, ".")
	if state != q.Get("state") {
		t.Fatalf("demo cookie state %q, authorize state %q", state, q.Get("state"))
	}
	code := mustQuery(t, cb.Header.Get("Location")).Get("code")
	for _, want := range []string{
		"-d code=" + code, "-d code_verifier=" + verifier, "--data-urlencode redirect_uri=" + f.URL + "/demo/callback",
		`-u &#34;demo-plugin:$DEMO_PLUGIN_SECRET&#34;`, "<code>state</code> matches",
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("callback page lacks %q:\n%s", want, res.Body)
		}
	}
	assertPageHeaders(t, res)

	// Without --demo there are no demo pages.
	off := newPageFixture(t)
	if r := off.NewBrowser(t).Get("/demo"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("/demo without Demo: status %d, want 404", r.StatusCode)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestPageLoginRateLimited(t *testing.T) {
	f := newPageFixture(t)
	b := f.NewBrowser(t)
	login := b.Get("/login")
	for i := range DefaultLoginPerAccount {
		if r := b.SignIn(login, pgEmail, "wrong"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: status %d, want 422", i+1, r.StatusCode)
		}
	}
	// Over the limit even the right password is refused, with the same
	// answer whatever the account.
	r := b.SignIn(login, pgEmail, pgPassword)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "Too many failed sign-in attempts") {
		t.Fatalf("status %d Retry-After %q, want 429:\n%s", r.StatusCode, r.Header.Get("Retry-After"), r.Body)
	}
	if b.Cookie(sessionCookie) != nil {
		t.Fatal("signed in over the rate limit")
	}
}
