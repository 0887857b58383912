package integration

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/web/webtest"
)

// callback is a plugin's redirect URI on loopback; it hands each callback's
// query to the test.
func callback(t *testing.T) (*httptest.Server, <-chan url.Values) {
	got := make(chan url.Values, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r) // the browser also asks for /favicon.ico
			return
		}
		got <- r.URL.Query()
		w.Write([]byte("<!doctype html><title>callback</title><p id=done>done</p>"))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// TestAuthorizationCodeFlowInBrowser is the plugin's whole life through the
// built binary: provisioning through the CLI; golang.org/x/oauth2 builds the
// authorization URL with PKCE S256; Chromium logs the operator in, picks a
// website, unticks one scope and approves; the plugin exchanges the code
// with the verifier; the token carries exactly the ticked scopes, bound to
// the website; a TokenSource refreshes (rotation); the resource server
// introspects; revoking the refresh token kills the grant.
func TestAuthorizationCodeFlowInBrowser(t *testing.T) {
	s := startServer(t)
	cb, got := callback(t)
	redirect := cb.URL + "/callback"

	m := s.cliJSON(t, "correct horse battery staple\n", "operators", "create", "--email", "op@example.test",
		"--password-stdin", "--website", "site-a", "--website", "site-b")
	if m["operator_id"] == nil && m["id"] == nil {
		t.Fatalf("operators create: %v", m)
	}
	plugin := s.createClient(t, "--name", "Helpdesk Sync", "--redirect-uri", redirect,
		"--grant-type", "authorization_code", "--grant-type", "refresh_token",
		"--approve", "website:people:data:read", "--approve", "website:people:data:write",
		"--approve", "website:conversation:messages:write")
	rs := s.createClient(t, "--name", "REST API", "--role", "resource-server")

	conf := &oauth2.Config{
		ClientID: plugin.ID, ClientSecret: plugin.Secret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: s.URL + "/oauth/authorize", TokenURL: s.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"website:people:data:read", "website:people:data:write", "website:conversation:messages:write"},
	}
	verifier := oauth2.GenerateVerifier()
	state := oauth2.GenerateVerifier()[:16]
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	q := consentInBrowser(t, authURL, "site-b", "website:people:data:read", got)
	if q.Get("state") != state || q.Get("iss") != s.URL || q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("callback query: %v", q)
	}

	bg := context.Background()
	tok, err := conf.Exchange(bg, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	const ticked = "website:conversation:messages:write website:people:data:write"
	if tok.Extra("scope") != ticked || tok.RefreshToken == "" {
		t.Fatalf("token scope %v (refresh %t), want exactly %q", tok.Extra("scope"), tok.RefreshToken != "", ticked)
	}
	in := s.introspect(t, rs, tok.AccessToken)
	if !active(in) || in["scope"] != ticked || in["website_id"] != "site-b" || in["client_id"] != plugin.ID {
		t.Fatalf("introspection: %v", in)
	}
	// The code is single-use: a replay fails and revokes the grant.
	if _, err := conf.Exchange(bg, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("code redeemed twice")
	}
	if active(s.introspect(t, rs, tok.AccessToken)) {
		t.Fatal("code replay did not revoke the grant")
	}

	// Second consent (site-a), then refresh through a TokenSource.
	tok2 := consentAgain(t, s, conf, got)
	expired := *tok2
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(bg, &expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok2.AccessToken || fresh.RefreshToken == tok2.RefreshToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	if in := s.introspect(t, rs, fresh.AccessToken); !active(in) || in["website_id"] != "site-a" {
		t.Fatalf("refreshed token: %v", in)
	}
	// The old refresh token is used up; presenting it revokes the grant.
	_, err = conf.TokenSource(bg, &expired).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
		t.Fatalf("reused refresh token: %v", err)
	}
	if active(s.introspect(t, rs, fresh.AccessToken)) {
		t.Fatal("refresh-token reuse did not revoke the grant")
	}

	// A third grant: RFC 7009 revocation of its refresh token kills it.
	tok3 := consentAgain(t, s, conf, got)
	revoke(t, s, plugin, tok3.RefreshToken)
	if active(s.introspect(t, rs, tok3.AccessToken)) {
		t.Fatal("revoking the refresh token left its access token active")
	}
}

// consentAgain runs the operator's part again in a fresh browser, for
// site-a with every scope ticked, and exchanges the code.
func consentAgain(t *testing.T, s *server, conf *oauth2.Config, got <-chan url.Values) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := consentInBrowser(t, conf.AuthCodeURL("again", oauth2.S256ChallengeOption(verifier)), "site-a", "", got)
	if q.Get("state") != "again" || q.Get("code") == "" {
		t.Fatalf("callback query: %v", q)
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// consentInBrowser drives a fresh Chromium through the operator's part:
// sign in, pick website, untick one scope (unless untick is empty),
// approve; it returns the query the plugin's callback received.
func consentInBrowser(t *testing.T, authURL, website, untick string, got <-chan url.Values) url.Values {
	t.Helper()
	ctx, _ := webtest.Chrome(t, 40*time.Second)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), "op@example.test"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "correct horse battery staple"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		// Two websites: the picker.
		chromedp.WaitVisible(chromedp.CSS(`input[type=radio][value="` + website + `"]`)),
		chromedp.Click(chromedp.CSS(`input[type=radio][value="` + website + `"]`)),
		chromedp.Click(chromedp.CSS(`section form[method="get"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#approve`)),
	}
	if untick != "" {
		steps = append(steps, chromedp.Click(chromedp.CSS(`input[type=checkbox][value="`+untick+`"]`)))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(`#approve`)), chromedp.WaitVisible(chromedp.CSS(`#done`)))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
	select {
	case q := <-got:
		return q
	case <-time.After(10 * time.Second):
		t.Fatal("no callback")
		return nil
	}
}
