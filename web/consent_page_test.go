package web

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

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
	ticked := []string{"website:conversation:messages:write", "website:people:data:read"}
	c := f.connect(t, "approve-state", ticked)
	q, tok := c.q, c.tok
	if q.Get("state") != "approve-state" || q.Get("iss") != f.URL || q.Get("code") == "" || q.Has("error") {
		t.Fatalf("callback query = %v", q)
	}
	if got := tok.Extra("scope"); got != strings.Join(ticked, " ") {
		t.Fatalf("token scope = %q, want exactly the ticked %q", got, strings.Join(ticked, " "))
	}
	in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken)
	if !in.Active || in.Scope != strings.Join(ticked, " ") || in.WebsiteID != "site-1" || in.ClientID != pgPluginID || in.OperatorID != f.Op.ID {
		t.Fatalf("introspection = %+v", in)
	}
	// The code is single-use.
	if _, err := f.Config().Exchange(testCtx(t), q.Get("code"), oauth2.VerifierOption(c.verifier)); err == nil {
		t.Fatal("the code was accepted twice")
	}
}
