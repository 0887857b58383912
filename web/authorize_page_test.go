package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/storage/token"
)

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
