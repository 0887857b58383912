package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// Resubmitting the consent form after success (same cookies, same hidden
// fields) mints no second code: the second answer is an error page and no
// redirect (RFC 6749 §10.12).
func TestPageConsentReplayRefused(t *testing.T) {
	f := newPageFixture(t)
	b, page := f.signedInConsent(t, f.authURL("s1", oauth2.GenerateVerifier(), pgRequested))
	first := submitConsent(b, page, "approve", strings.Fields(pgRequested), nil)
	if q := callbackParams(t, first); q.Get("code") == "" {
		t.Fatalf("first answer: no code in %v", q)
	}
	for _, action := range []string{"approve", "deny"} {
		r := submitConsent(b, page, action, strings.Fields(pgRequested), nil)
		if r.StatusCode != http.StatusConflict || r.Header.Get("Location") != "" || !strings.Contains(r.Body, "already submitted") {
			t.Fatalf("replayed %s: status %d Location %q, want 409 error page:\n%s", action, r.StatusCode, r.Header.Get("Location"), r.Body)
		}
		if strings.Contains(r.Body, "code=") {
			t.Fatal("the refusal carries a code")
		}
	}
	if gs := f.grants(t, "site-1"); len(gs) != 1 {
		t.Fatalf("%d grants after a replayed consent, want 1", len(gs))
	}
	// A denied page cannot be approved afterwards either.
	b2, page2 := f.signedInConsent(t, f.authURL("s2", oauth2.GenerateVerifier(), pgRequested))
	if q := callbackParams(t, submitConsent(b2, page2, "deny", nil, nil)); q.Get("error") != "access_denied" {
		t.Fatalf("deny: %v", q)
	}
	if r := submitConsent(b2, page2, "approve", strings.Fields(pgRequested), nil); r.StatusCode != http.StatusConflict {
		t.Fatalf("approve after deny: status %d, want 409", r.StatusCode)
	}
	if gs := f.grants(t, "site-1"); len(gs) != 1 {
		t.Fatalf("%d grants, want 1", len(gs))
	}
}

// A consent transaction belongs to the session and request it was shown
// for: carried into another session's form, or without one, it approves
// nothing.
func TestPageConsentTransactionBound(t *testing.T) {
	f := newPageFixture(t)
	au := f.authURL("s", oauth2.GenerateVerifier(), pgRequested)
	_, victimPage := f.signedInConsent(t, au)
	victimTx := findForm(t, victimPage.Body, "/oauth/authorize").Values().Get(consentIDField)
	if victimTx == "" {
		t.Fatal("the consent form has no consent_id")
	}
	b, page := f.signedInConsent(t, au)
	for name, edit := range map[string]func(url.Values){
		"another session's transaction": func(v url.Values) { v.Set(consentIDField, victimTx) },
		"no transaction":                func(v url.Values) { v.Del(consentIDField) },
		"junk transaction":              func(v url.Values) { v.Set(consentIDField, "../../etc") },
	} {
		r := submitConsent(b, page, "approve", strings.Fields(pgRequested), edit)
		if r.StatusCode < 400 || r.StatusCode >= 500 || r.Header.Get("Location") != "" {
			t.Fatalf("%s: status %d Location %q, want a 4xx page", name, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if gs := f.grants(t, "site-1"); len(gs) != 0 {
		t.Fatalf("grants were created: %+v", gs)
	}
	// The session's own transaction still works.
	if q := callbackParams(t, submitConsent(b, page, "approve", strings.Fields(pgRequested), nil)); q.Get("code") == "" {
		t.Fatalf("own transaction: %v", q)
	}
}
