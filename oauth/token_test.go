package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// TestCodeFlow drives the authorization code grant with x/oauth2 as a
// plugin would: AuthCodeURL with S256, consent, Exchange with the
// verifier, a TokenSource that refreshes. The token is bound to the
// consented website and carries exactly the consented scopes.
func TestCodeFlow(t *testing.T) {
	e := newEnv(t)

	t.Run("omitted scope, basic auth, refresh", func(t *testing.T) {
		cfg := e.config(confID, oauth2.AuthStyleInHeader)
		v := oauth2.GenerateVerifier()
		u := e.authorize(cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(v)), Consent{})
		q := u.Query()
		if q.Get("state") != "state-1" || q.Get("iss") != e.srv.URL {
			t.Errorf("redirect query %v: want state and iss", q)
		}
		tok, err := cfg.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || !strings.HasPrefix(tok.AccessToken, "sga_") || !strings.HasPrefix(tok.RefreshToken, "sgr_") {
			t.Errorf("token = %+v", tok)
		}
		if got := tok.Extra("scope"); got != approvedWeb.String() {
			t.Errorf("scope = %v, want the approved website scopes %q", got, approvedWeb)
		}
		if got := tok.Extra("expires_in"); got != float64(3600) {
			t.Errorf("expires_in = %v, want 3600", got)
		}
		in := e.introspect(tok.AccessToken)
		if in["website_id"] != website || in["operator_id"] != operator || in["scope"] != approvedWeb.String() {
			t.Errorf("introspection %v: want website %s, operator %s, scope %q", in, website, operator, approvedWeb)
		}

		// The TokenSource refreshes an expired token and the refresh
		// token rotates.
		old := *tok
		expired := *tok
		expired.Expiry = time.Now().Add(-time.Minute)
		nt, err := cfg.TokenSource(e.ctx, &expired).Token()
		if err != nil {
			t.Fatal(err)
		}
		if nt.AccessToken == old.AccessToken || nt.RefreshToken == old.RefreshToken || !strings.HasPrefix(nt.RefreshToken, "sgr_") {
			t.Errorf("refresh did not rotate: %+v", nt)
		}
		if nt.Extra("scope") != approvedWeb.String() {
			t.Errorf("refreshed scope = %v", nt.Extra("scope"))
		}
		if !e.active(nt.AccessToken) || !e.active(old.AccessToken) {
			t.Error("access tokens of the live grant must stay active after a rotation")
		}
	})

	t.Run("operator narrows at consent", func(t *testing.T) {
		cfg := e.config(confID, oauth2.AuthStyleInParams, "website:people:data:read", "website:people:data:write", "website:conversation:messages:read")
		v := oauth2.GenerateVerifier()
		ticked := scopes.MustParse("website:people:data:write website:conversation:messages:read")
		u := e.authorize(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), Consent{Scopes: ticked, WebsiteID: "site-2"})
		tok, err := cfg.Exchange(e.ctx, u.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if tok.Extra("scope") != ticked.String() {
			t.Errorf("scope = %v, want exactly the ticked %q", tok.Extra("scope"), ticked)
		}
		in := e.introspect(tok.AccessToken)
		if in["scope"] != ticked.String() || in["website_id"] != "site-2" {
			t.Errorf("introspection %v: want scope %q bound to site-2", in, ticked)
		}
	})

	t.Run("public client, PKCE only", func(t *testing.T) {
		cfg := e.config(pubID, oauth2.AuthStyleInParams, "website:people:data:read")
		v := oauth2.GenerateVerifier()
		u := e.authorize(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), Consent{})
		tok, err := cfg.Exchange(e.ctx, u.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if tok.Extra("scope") != "website:people:data:read" || tok.RefreshToken == "" {
			t.Errorf("token = %+v scope %v", tok, tok.Extra("scope"))
		}
		r := e.tokenForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {pubID}}, basic{})
		if r.status != http.StatusOK {
			t.Fatalf("public refresh: %d %s", r.status, r.body)
		}
	})

	t.Run("no refresh token without the refresh grant", func(t *testing.T) {
		tok := e.codeFlow(noRefID)
		if tok.RefreshToken != "" || tok.Extra("refresh_token") != nil {
			t.Errorf("client without refresh_token grant got a refresh token")
		}
	})
}

// TestTokenPKCE: the verifier must match the S256 challenge.
//
// Engine default: manage.Manager.validateCodeChallenge accepts plain
// (verifier == challenge), trims '=' padding, never checks the verifier's
// length or alphabet, and a verifier sent for a code without a challenge
// returns ErrMissingCodeVerifier, which the engine's error table does not
// know: a 500 server_error for a client mistake.
func TestTokenPKCE(t *testing.T) {
	e := newEnv(t)
	exchange := func(code, verifier string) reply {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
		if verifier != "" {
			f.Set("code_verifier", verifier)
		}
		return e.tokenForm(f, e.basicFor(confID))
	}
	other := oauth2.GenerateVerifier()
	cases := []struct {
		name     string
		verifier func(v string) string
	}{
		{"wrong verifier", func(string) string { return other }},
		{"missing verifier", func(string) string { return "" }},
		{"plain: the challenge as verifier", func(v string) string { return oauth2.S256ChallengeFromVerifier(v) }},
		{"verifier with padding", func(v string) string { return v + "=" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, v := e.codeFor(confID)
			wantError(t, exchange(code, tc.verifier(v)), http.StatusBadRequest, CodeInvalidGrant)
		})
	}

	// RFC 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~]. Each of these
	// hashes to the challenge that was sent, so only the shape check can
	// refuse them.
	for name, v := range map[string]string{
		"verifier too short":   oauth2.GenerateVerifier()[:42],
		"verifier too long":    strings.Repeat("a", 129),
		"verifier bad charset": oauth2.GenerateVerifier()[:42] + "+",
		"verifier with space":  oauth2.GenerateVerifier()[:42] + " ",
		"verifier non-ASCII":   oauth2.GenerateVerifier()[:41] + "é",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := e.config(confID, oauth2.AuthStyleInHeader)
			u := e.authorize(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), Consent{})
			wantError(t, exchange(u.Query().Get("code"), v), http.StatusBadRequest, CodeInvalidGrant)
		})
	}

	t.Run("verifier of 128 characters", func(t *testing.T) {
		v := strings.Repeat("A1-._~", 21) + "zz" // 128, every allowed class
		cfg := e.config(confID, oauth2.AuthStyleInHeader)
		u := e.authorize(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), Consent{})
		if r := exchange(u.Query().Get("code"), v); r.status != http.StatusOK {
			t.Fatalf("128-character verifier: %d %s", r.status, r.body)
		}
	})

	t.Run("confidential without PKCE", func(t *testing.T) {
		cfg := e.config(confID, oauth2.AuthStyleInHeader)
		u := e.authorize(cfg.AuthCodeURL("s"), Consent{})
		tok, err := cfg.Exchange(e.ctx, u.Query().Get("code"))
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("confidential client without PKCE: %v", err)
		}
	})

	t.Run("downgrade: verifier without challenge", func(t *testing.T) {
		cfg := e.config(confID, oauth2.AuthStyleInHeader)
		u := e.authorize(cfg.AuthCodeURL("s"), Consent{})
		wantError(t, exchange(u.Query().Get("code"), oauth2.GenerateVerifier()), http.StatusBadRequest, CodeInvalidGrant)
	})

	t.Run("code of another client or redirect", func(t *testing.T) {
		code, v := e.codeFor(confID)
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
		wantError(t, e.tokenForm(f, e.basicFor(otherID)), http.StatusBadRequest, CodeInvalidGrant)
		f.Set("redirect_uri", redirectURI+"/")
		wantError(t, e.tokenForm(f, e.basicFor(confID)), http.StatusBadRequest, CodeInvalidGrant)
		f.Del("redirect_uri")
		wantError(t, e.tokenForm(f, e.basicFor(confID)), http.StatusBadRequest, CodeInvalidRequest)
	})
}

// TestPasswordGrantOff: grant_type=password is unsupported_grant_type, 400.
//
// Engine default: server.NewConfig allows the password grant, and the
// engine sends unsupported_grant_type as 401.
func TestPasswordGrantOff(t *testing.T) {
	e := newEnv(t)
	for _, gt := range []string{"password", "implicit", "token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer", "AUTHORIZATION_CODE"} {
		r := e.tokenForm(url.Values{"grant_type": {gt}, "username": {"op@example.com"}, "password": {"hunter2"}}, e.basicFor(confID))
		wantError(t, r, http.StatusBadRequest, CodeUnsupportedGrantType)
	}
	wantError(t, e.tokenForm(url.Values{"username": {"a"}}, e.basicFor(confID)), http.StatusBadRequest, CodeInvalidRequest)

	// Through x/oauth2's password helper too.
	_, err := e.config(confID, oauth2.AuthStyleInHeader).PasswordCredentialsToken(e.ctx, "op@example.com", "hunter2")
	wantRetrieveError(t, err, http.StatusBadRequest, CodeUnsupportedGrantType)
}

// TestRefreshAuthenticatesClient: the refresh grant authenticates the
// client and the refresh token must be the client's own; a failed attempt
// by another client leaves the owner's token working.
//
// Engine default: manage.Manager.RefreshAccessToken loads the refresh token
// and acts for the token's client: it never verifies the caller's secret
// nor compares the caller with the token's client.
func TestRefreshAuthenticatesClient(t *testing.T) {
	e := newEnv(t)
	tok := e.codeFlow(confID)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}

	wantError(t, e.tokenForm(form, basic{confID, "sgs_wrong"}), http.StatusUnauthorized, CodeInvalidClient)
	wantError(t, e.tokenForm(form, basic{}), http.StatusUnauthorized, CodeInvalidClient)
	f := url.Values{"client_id": {confID}}
	for k, v := range form {
		f[k] = v
	}
	wantError(t, e.tokenForm(f, basic{}), http.StatusUnauthorized, CodeInvalidClient) // confidential without secret
	f.Set("client_secret", "sgs_wrong")
	wantError(t, e.tokenForm(f, basic{}), http.StatusUnauthorized, CodeInvalidClient)
	f.Set("client_id", pubID) // a public client's ID with no secret: authenticated, but not the owner
	f.Del("client_secret")
	wantError(t, e.tokenForm(f, basic{}), http.StatusBadRequest, CodeInvalidGrant)

	// Another authenticated client presenting it.
	wantError(t, e.refresh(otherID, tok.RefreshToken), http.StatusBadRequest, CodeInvalidGrant)
	cfgOther := e.config(otherID, oauth2.AuthStyleInParams)
	_, err := cfgOther.TokenSource(e.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	wantRetrieveError(t, err, http.StatusBadRequest, CodeInvalidGrant)

	// The owner's token still works, and is not revoked by the attempts.
	if !e.active(tok.AccessToken) {
		t.Fatal("failed foreign refresh attempts revoked the owner's grant")
	}
	r := e.refresh(confID, tok.RefreshToken)
	if r.status != http.StatusOK {
		t.Fatalf("owner's refresh after foreign attempts: %d %s", r.status, r.body)
	}
	wantNoStore(t, r)
}

// TestRefreshScope: refresh narrows, never widens (RFC 6749 §6), and re-caps
// at the client's current approved maximum.
//
// Engine default: manage.Manager.RefreshAccessToken sets the new token's
// scope to whatever scope the request names, so a refresh can widen.
func TestRefreshScope(t *testing.T) {
	e := newEnv(t)
	tok := e.codeFlow(confID)

	wider := e.refresh(confID, tok.RefreshToken, "scope", "website:people:data:read website:settings:read")
	if d := wantError(t, wider, http.StatusBadRequest, CodeInvalidScope); !strings.Contains(d, "website:settings:read") {
		t.Errorf("invalid_scope description %q does not name the extra scope", d)
	}
	wantError(t, e.refresh(confID, tok.RefreshToken, "scope", "plugin:subscription:bill:write"), http.StatusBadRequest, CodeInvalidScope)
	wantError(t, e.refresh(confID, tok.RefreshToken, "scope", "website:people:data:read  website:people:data:write"), http.StatusBadRequest, CodeInvalidScope)

	// A rejected request did not use the refresh token up.
	r := e.refresh(confID, tok.RefreshToken, "scope", "website:people:data:read")
	if r.status != http.StatusOK {
		t.Fatalf("narrowing refresh: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["scope"] != "website:people:data:read" {
		t.Errorf("narrowed scope = %v", m["scope"])
	}
	if in := e.introspect(m["access_token"].(string)); in["scope"] != "website:people:data:read" {
		t.Errorf("narrowed token introspects %v", in["scope"])
	}
	// The new refresh token keeps the grant's scope (RFC 6749 §6): an
	// omitted scope gets it all back, but never more.
	r = e.refresh(confID, m["refresh_token"].(string))
	m = r.json(t)
	if r.status != http.StatusOK || m["scope"] != approvedWeb.String() {
		t.Fatalf("refresh after narrowing: %d %v", r.status, m)
	}

	// Lower the approved maximum: the next refresh is re-capped.
	lowered := approvedWeb.Difference(scopes.MustParse("website:people:data:write website:conversation:messages:write"))
	e.updateClient(confID, func(c *storage.Client) { c.Approved = lowered.Union(approvedPlugin) })
	r = e.refresh(confID, m["refresh_token"].(string))
	m = r.json(t)
	if r.status != http.StatusOK || m["scope"] != lowered.String() {
		t.Fatalf("refresh after lowering the maximum: %d scope %v, want %q", r.status, m["scope"], lowered)
	}
	if in := e.introspect(m["access_token"].(string)); in["scope"] != lowered.String() {
		t.Errorf("re-capped token introspects %v", in["scope"])
	}
	// Nothing of the grant left approved: invalid_scope, not a token.
	e.updateClient(confID, func(c *storage.Client) { c.Approved = approvedPlugin })
	wantError(t, e.refresh(confID, m["refresh_token"].(string)), http.StatusBadRequest, CodeInvalidScope)
}

// TestCodeReplayRevokesGrant: a code used twice is invalid_grant and the
// whole grant dies (RFC 6749 §4.1.2: SHOULD revoke).
//
// Engine default: the code is deleted after use, so a replay is only
// invalid_grant (as 401); tokens from the first redemption stay valid.
func TestCodeReplayRevokesGrant(t *testing.T) {
	e := newEnv(t)
	code, v := e.codeFor(confID)
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
	first := e.tokenForm(f, e.basicFor(confID))
	if first.status != http.StatusOK {
		t.Fatalf("first redemption: %d %s", first.status, first.body)
	}
	wantNoStore(t, first)
	m := first.json(t)
	at, rt := m["access_token"].(string), m["refresh_token"].(string)
	if !e.active(at) {
		t.Fatal("fresh access token inactive")
	}

	// Nothing of what was issued is stored in the clear (only hashes),
	// and the audit trail records no token either.
	for what, val := range map[string]string{"code": code, "access token": at, "refresh token": rt, "code verifier": v} {
		if where := e.findInRedis(val); where != "" {
			t.Errorf("%s stored in the clear, in %s", what, where)
		}
		if where := e.findInRedis(val[4:]); what != "code verifier" && where != "" {
			t.Errorf("%s's secret part stored in the clear, in %s", what, where)
		}
	}

	wantError(t, e.tokenForm(f, e.basicFor(confID)), http.StatusBadRequest, CodeInvalidGrant)
	if e.active(at) {
		t.Error("access token of a replayed code is still active")
	}
	wantError(t, e.refresh(confID, rt), http.StatusBadRequest, CodeInvalidGrant)
}

// TestCodeRedemptionConcurrent: 50 simultaneous redemptions of one code over
// HTTP give exactly one token.
//
// Engine default: manage.Manager.getAndDelAuthorizationCode reads, then
// deletes, in two steps: concurrent redemptions can all win.
func TestCodeRedemptionConcurrent(t *testing.T) {
	e := newEnv(t)
	code, v := e.codeFor(confID)
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
	ok, winner := race(t, e, 50, func() reply { return e.tokenForm(f, e.basicFor(confID)) })
	if ok != 1 {
		t.Fatalf("%d of 50 concurrent redemptions succeeded, want exactly 1", ok)
	}
	// The losers were replays: the grant is revoked, the winner's token too.
	if e.active(winner.json(t)["access_token"].(string)) {
		t.Error("the grant of a concurrently replayed code is still live")
	}
}

// TestRefreshRotation: a used refresh token is invalid_grant and revokes
// the grant (RFC 9700 §4.14.2); of 50 concurrent refreshes exactly one wins.
//
// Engine default: manage.Manager.RefreshAccessToken loads the refresh
// token, stores the new tokens, then removes the old one, in three steps:
// concurrent refreshes can all win, and a replayed refresh token is merely
// unknown (invalid_grant, as 401); the grant's other tokens live on.
func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	tok := e.codeFlow(confID)
	r := e.refresh(confID, tok.RefreshToken)
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	m := r.json(t)
	at2, rt2 := m["access_token"].(string), m["refresh_token"].(string)

	wantError(t, e.refresh(confID, tok.RefreshToken), http.StatusBadRequest, CodeInvalidGrant)
	if e.active(tok.AccessToken) || e.active(at2) {
		t.Error("access tokens survive a refresh-token replay")
	}
	wantError(t, e.refresh(confID, rt2), http.StatusBadRequest, CodeInvalidGrant)

	t.Run("concurrent", func(t *testing.T) {
		tok := e.codeFlow(confID)
		ok, _ := race(t, e, 50, func() reply { return e.refresh(confID, tok.RefreshToken) })
		if ok != 1 {
			t.Fatalf("%d of 50 concurrent refreshes succeeded, want exactly 1", ok)
		}
	})
}

// race runs n copies of do at once and returns how many got 200 and one of
// them; every other answer must be invalid_grant (400).
func race(t *testing.T, e *env, n int, do func() reply) (int, reply) {
	t.Helper()
	start := make(chan struct{})
	out := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = do()
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	var win reply
	for _, r := range out {
		if r.status == http.StatusOK {
			ok++
			win = r
			continue
		}
		wantError(t, r, http.StatusBadRequest, CodeInvalidGrant)
	}
	return ok, win
}

// TestTokenErrors: RFC 6749 §5.2 statuses and headers.
//
// Engine default: errors.StatusCodes sends invalid_grant,
// unsupported_grant_type and unsupported_response_type as 401, and
// invalid_client never carries WWW-Authenticate.
func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	bogusCode := token.New(token.Code, token.NewID())
	codeForm := url.Values{"grant_type": {"authorization_code"}, "code": {bogusCode}, "redirect_uri": {redirectURI}}
	cases := []struct {
		name   string
		form   url.Values
		auth   basic
		status int
		code   string
	}{
		{"unknown code", codeForm, e.basicFor(confID), 400, CodeInvalidGrant},
		{"malformed code", url.Values{"grant_type": {"authorization_code"}, "code": {"abc"}, "redirect_uri": {redirectURI}}, e.basicFor(confID), 400, CodeInvalidGrant},
		{"unknown refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token.New(token.Refresh, token.NewID())}}, e.basicFor(confID), 400, CodeInvalidGrant},
		{"access token as refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token.New(token.Access, token.NewID())}}, e.basicFor(confID), 400, CodeInvalidGrant},
		{"unsupported grant", url.Values{"grant_type": {"password"}}, e.basicFor(confID), 400, CodeUnsupportedGrantType},
		{"wrong secret, basic", codeForm, basic{confID, "sgs_nope"}, 401, CodeInvalidClient},
		{"wrong secret, post", withClient2(codeForm, confID, "sgs_nope"), basic{}, 401, CodeInvalidClient},
		{"unknown client", codeForm, basic{"nobody", "sgs_x"}, 401, CodeInvalidClient},
		{"no client", codeForm, basic{}, 401, CodeInvalidClient},
		{"secret on a public client", withClient2(codeForm, pubID, "sgs_x"), basic{}, 401, CodeInvalidClient},
		{"resource server asks for a token", url.Values{"grant_type": {"client_credentials"}}, e.basicFor(rsID), 400, CodeUnauthorizedClient},
		{"grant not registered", url.Values{"grant_type": {"client_credentials"}}, e.basicFor(noRefID), 400, CodeUnauthorizedClient},
		{"refresh not registered", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token.New(token.Refresh, token.NewID())}}, e.basicFor(noRefID), 400, CodeUnauthorizedClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.tokenForm(tc.form, tc.auth), tc.status, tc.code)
		})
	}

	// A missing parameter is named in the description.
	for _, tc := range []struct {
		name, want string
		form       url.Values
	}{
		{"missing refresh", "refresh_token is missing", url.Values{"grant_type": {"refresh_token"}}},
		{"empty refresh", "refresh_token is missing", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {""}}},
		{"missing code", "code is missing", url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}}},
		{"missing redirect_uri", "redirect_uri is missing", url.Values{"grant_type": {"authorization_code"}, "code": {bogusCode}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.tokenForm(tc.form, e.basicFor(confID))
			wantError(t, r, 400, CodeInvalidRequest)
			if !strings.Contains(string(r.body), tc.want) {
				t.Fatalf("body %s, want it to say %q", r.body, tc.want)
			}
		})
	}

	t.Run("suspended client", func(t *testing.T) {
		tok := e.codeFlow(otherID)
		e.updateClient(otherID, func(c *storage.Client) { c.Status = storage.Suspended })
		wantError(t, e.refresh(otherID, tok.RefreshToken), http.StatusUnauthorized, CodeInvalidClient)
	})

	t.Run("success is no-store", func(t *testing.T) {
		r := e.tokenForm(url.Values{"grant_type": {"client_credentials"}}, e.basicFor(confID))
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		wantNoStore(t, r)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
	})
}

func withClient2(f url.Values, id, secret string) url.Values {
	g := url.Values{"client_id": {id}, "client_secret": {secret}}
	for k, v := range f {
		g[k] = v
	}
	return g
}

// TestTokenRequestHygiene: malformed requests are clear invalid_request or
// invalid_client answers, never a 500.
//
// Engine default: ValidationTokenRequest reads r.FormValue, which merges
// the query with the body and silently takes the first of duplicated
// parameters; it checks neither Content-Type (a JSON body is an empty form:
// unsupported_grant_type, as 401) nor UTF-8, leaves the body limit at
// net/http's 10 MB, and ClientBasicHandler neither unescapes Basic
// credentials nor notices a client_secret sent beside them.
func TestTokenRequestHygiene(t *testing.T) {
	e := newEnv(t)
	form := "application/x-www-form-urlencoded"
	good := "grant_type=client_credentials"
	b := e.basicFor(confID)
	cases := []struct {
		name          string
		method, ctype string
		body          string
		auth          basic
		header        map[string]string
		status        int
		code          string
		mention       string
	}{
		{name: "GET", method: "GET", body: "", auth: b, status: 405, code: CodeInvalidRequest},
		{name: "PUT", method: "PUT", ctype: form, body: good, auth: b, status: 405, code: CodeInvalidRequest},
		{name: "JSON body", method: "POST", ctype: "application/json", body: `{"grant_type":"client_credentials"}`, auth: b, status: 400, code: CodeInvalidRequest, mention: "Content-Type"},
		{name: "no content type", method: "POST", body: good, auth: b, status: 400, code: CodeInvalidRequest},
		{name: "multipart", method: "POST", ctype: "multipart/form-data; boundary=x", body: "--x--", auth: b, status: 400, code: CodeInvalidRequest},
		{name: "bad content type", method: "POST", ctype: "application/x-www-form-urlencoded; charset", body: good, auth: b, status: 400, code: CodeInvalidRequest},
		{name: "grant_type twice", method: "POST", ctype: form, body: good + "&grant_type=refresh_token", auth: b, status: 400, code: CodeInvalidRequest, mention: "grant_type"},
		{name: "scope twice", method: "POST", ctype: form, body: good + "&scope=bucket:url:read&scope=bucket:url:read", auth: b, status: 400, code: CodeInvalidRequest, mention: "scope"},
		{name: "client_id twice", method: "POST", ctype: form, body: good + "&client_id=a&client_id=b", status: 400, code: CodeInvalidRequest, mention: "client_id"},
		{name: "body too large", method: "POST", ctype: form, body: good + "&x=" + strings.Repeat("a", MaxBodyBytes), auth: b, status: 413, code: CodeInvalidRequest},
		{name: "invalid UTF-8 value", method: "POST", ctype: form, body: good + "&scope=%ff%fe", auth: b, status: 400, code: CodeInvalidRequest, mention: "UTF-8"},
		{name: "invalid UTF-8 raw", method: "POST", ctype: form, body: good + "&scope=\xff", auth: b, status: 400, code: CodeInvalidRequest, mention: "UTF-8"},
		{name: "invalid UTF-8 key", method: "POST", ctype: form, body: good + "&%c3=1", auth: b, status: 400, code: CodeInvalidRequest, mention: "UTF-8"},
		{name: "bad percent encoding", method: "POST", ctype: form, body: good + "&scope=%zz", auth: b, status: 400, code: CodeInvalidRequest},
		{name: "parameters in the query only", method: "POST", ctype: form, body: "", auth: b, status: 400, code: CodeInvalidRequest, mention: "query"},
		{name: "basic and client_secret", method: "POST", ctype: form, body: good + "&client_secret=" + e.secrets[confID], auth: b, status: 400, code: CodeInvalidRequest},
		{name: "basic and another client_id", method: "POST", ctype: form, body: good + "&client_id=" + otherID, auth: b, status: 400, code: CodeInvalidRequest},
		{name: "malformed basic", method: "POST", ctype: form, body: good, header: map[string]string{"Authorization": "Basic !!!not-base64"}, status: 401, code: CodeInvalidClient},
		{name: "basic without colon", method: "POST", ctype: form, body: good, header: map[string]string{"Authorization": "Basic cGx1Z2lu"}, status: 401, code: CodeInvalidClient},
		{name: "bearer instead of basic", method: "POST", ctype: form, body: good, header: map[string]string{"Authorization": "Bearer abc"}, status: 401, code: CodeInvalidClient},
		{name: "basic with bad escaping", method: "POST", ctype: form, body: good, header: map[string]string{"Authorization": "Basic JXp6OnNlY3JldA=="}, status: 401, code: CodeInvalidClient}, // "%zz:secret"
		{name: "basic with invalid UTF-8", method: "POST", ctype: form, body: good, header: map[string]string{"Authorization": "Basic /zo="}, status: 401, code: CodeInvalidClient},            // "\xff:"
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/oauth/token"
			if tc.name == "parameters in the query only" {
				path += "?" + good
			}
			req, err := http.NewRequest(tc.method, e.srv.URL+path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth != (basic{}) {
				req.SetBasicAuth(tc.auth.id, tc.auth.secret)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			r := e.do(req)
			d := wantError(t, r, tc.status, tc.code)
			if tc.mention != "" && !strings.Contains(d, tc.mention) {
				t.Errorf("description %q does not mention %q", d, tc.mention)
			}
			if tc.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
}

// TestClientCredentials: plugin scopes only, capped at the approved
// maximum; the client is the subject; no refresh token (RFC 6749 §4.4.3).
//
// Engine default: the engine has no notion of plugin versus website scopes
// nor of an approved maximum (ClientScopeHandler is unset): any scope
// string is granted as asked.
func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	cc := func(id string, style oauth2.AuthStyle, scope ...string) *clientcredentials.Config {
		return &clientcredentials.Config{ClientID: id, ClientSecret: e.secrets[id], TokenURL: e.srv.URL + "/oauth/token", AuthStyle: style, Scopes: scope}
	}

	t.Run("omitted scope is the approved plugin maximum", func(t *testing.T) {
		tok, err := cc(confID, oauth2.AuthStyleInParams).Token(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || tok.RefreshToken != "" || tok.Extra("refresh_token") != nil || tok.Extra("expires_in") != float64(3600) {
			t.Errorf("token = %+v (expires_in %v)", tok, tok.Extra("expires_in"))
		}
		if tok.Extra("scope") != approvedPlugin.String() {
			t.Errorf("scope = %v, want %q", tok.Extra("scope"), approvedPlugin)
		}
		in := e.introspect(tok.AccessToken)
		if in["sub"] != confID || in["client_id"] != confID || in["website_id"] != nil || in["operator_id"] != nil || in["token_type"] != "Bearer" {
			t.Errorf("introspection %v: the client is the subject, no website", in)
		}
	})

	t.Run("narrower scope, basic auth", func(t *testing.T) {
		tok, err := cc(confID, oauth2.AuthStyleInHeader, "plugin:subscription:bill:write").Token(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Extra("scope") != "plugin:subscription:bill:write" {
			t.Errorf("scope = %v", tok.Extra("scope"))
		}
	})

	t.Run("raw response fields", func(t *testing.T) {
		r := e.tokenForm(url.Values{"grant_type": {"client_credentials"}, "scope": {"bucket:url:read"}}, e.basicFor(confID))
		m := r.json(t)
		if r.status != 200 || len(m) != 4 || m["token_type"] != "Bearer" || m["scope"] != "bucket:url:read" || m["expires_in"] != float64(3600) || m["access_token"] == nil {
			t.Errorf("response %d %v: want exactly access_token, token_type, expires_in, scope", r.status, m)
		}
	})

	errCases := []struct {
		name, scope string
		mention     []string
	}{
		{"website scope", "website:people:data:read", []string{"consent", "website:people:data:read"}},
		{"website and plugin scope", "bucket:url:read website:people:data:write", []string{"consent", "website:people:data:write"}},
		{"beyond approved", "bucket:url:read bucket:url:write plugin:subscription:bill:read", []string{"bucket:url:write plugin:subscription:bill:read"}},
		{"malformed", "bucket:url", []string{"bucket:url"}},
		{"unknown", "plugin:nope:read", []string{"plugin:nope:read"}},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cc(confID, oauth2.AuthStyleInParams, strings.Fields(tc.scope)...).Token(e.ctx)
			wantRetrieveError(t, err, http.StatusBadRequest, CodeInvalidScope)
			r := e.tokenForm(url.Values{"grant_type": {"client_credentials"}, "scope": {tc.scope}}, e.basicFor(confID))
			d := wantError(t, r, http.StatusBadRequest, CodeInvalidScope)
			for _, m := range tc.mention {
				if !strings.Contains(d, m) {
					t.Errorf("description %q does not mention %q", d, m)
				}
			}
		})
	}

	t.Run("public client", func(t *testing.T) {
		e.addClient(storage.Client{ID: "public-cc", Type: storage.Public, GrantTypes: allGrants, Approved: approvedPlugin})
		for _, id := range []string{pubID, "public-cc"} {
			r := e.tokenForm(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}, basic{})
			wantError(t, r, http.StatusBadRequest, CodeUnauthorizedClient)
		}
	})

	t.Run("no approved plugin scope", func(t *testing.T) {
		e.addClient(storage.Client{ID: "web-only", Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedWeb})
		wantError(t, e.tokenForm(url.Values{"grant_type": {"client_credentials"}}, e.basicFor("web-only")), http.StatusBadRequest, CodeInvalidScope)
	})

	t.Run("lowered maximum caps the next token", func(t *testing.T) {
		e.updateClient(otherID, func(c *storage.Client) { c.Approved = scopes.MustParse("bucket:url:read") })
		tok, err := cc(otherID, oauth2.AuthStyleInParams).Token(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Extra("scope") != "bucket:url:read" {
			t.Errorf("scope = %v", tok.Extra("scope"))
		}
		_, err = cc(otherID, oauth2.AuthStyleInParams, "plugin:subscription:bill:write").Token(e.ctx)
		wantRetrieveError(t, err, http.StatusBadRequest, CodeInvalidScope)
	})
}

// TestExpiry: codes live 60 s, access tokens 1 h, refresh tokens 30 days
// (the defaults), judged by the injected clock.
func TestExpiry(t *testing.T) {
	e := newEnv(t)
	code, v := e.codeFor(confID)
	tok := e.codeFlow(confID)
	e.clk.Advance(DefaultCodeTTL)
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
	wantError(t, e.tokenForm(f, e.basicFor(confID)), http.StatusBadRequest, CodeInvalidGrant)

	e.clk.Advance(DefaultRefreshTTL - DefaultCodeTTL - time.Second)
	r := e.refresh(confID, tok.RefreshToken)
	if r.status != http.StatusOK {
		t.Fatalf("refresh a second before it expires: %d %s", r.status, r.body)
	}
	rt := r.json(t)["refresh_token"].(string)
	e.clk.Advance(DefaultRefreshTTL)
	wantError(t, e.refresh(confID, rt), http.StatusBadRequest, CodeInvalidGrant)
}

// TestSecretRotation: during a rotation the old secret verifies until its
// expiry, the new one from the start; neither is stored in the clear.
func TestSecretRotation(t *testing.T) {
	e := newEnv(t)
	oldS, newS := token.NewSecret(), token.NewSecret()
	old := HashSecret(oldS)
	old.ExpiresAt = e.clk.Now().Add(time.Hour)
	e.addClient(storage.Client{ID: "rotating", Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedPlugin})
	e.updateClient("rotating", func(c *storage.Client) { c.Secrets = []storage.SecretHash{old, HashSecret(newS)} })
	form := url.Values{"grant_type": {"client_credentials"}}
	for _, s := range []string{oldS, newS} {
		if r := e.tokenForm(form, basic{"rotating", s}); r.status != http.StatusOK {
			t.Fatalf("secret during rotation: %d %s", r.status, r.body)
		}
	}
	e.clk.Advance(time.Hour)
	wantError(t, e.tokenForm(form, basic{"rotating", oldS}), http.StatusUnauthorized, CodeInvalidClient)
	if r := e.tokenForm(form, basic{"rotating", newS}); r.status != http.StatusOK {
		t.Fatalf("new secret after the old one expired: %d %s", r.status, r.body)
	}
	for _, s := range []string{oldS, newS} {
		if where := e.findInRedis(s); where != "" {
			t.Errorf("client secret stored in the clear, in %s", where)
		}
	}
	wantError(t, e.tokenForm(form, basic{"rotating", ""}), http.StatusUnauthorized, CodeInvalidClient)
}
