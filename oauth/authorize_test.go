package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
)

// challenge is a valid S256 code_challenge (of some verifier).
var challenge = oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())

// authQuery is a valid authorization request for client id; set overrides
// (an empty value deletes the parameter).
func authQuery(id string, set ...string) url.Values {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {id},
		"redirect_uri":          {redirectURI},
		"state":                 {"xyz"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			q.Del(set[i])
		} else {
			q.Set(set[i], set[i+1])
		}
	}
	return q
}

// wantAuthError checks err is an *Error with code, and returns it.
func wantAuthError(t *testing.T, err error, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error %s, got %v", code, err)
	}
	if e.Code != code {
		t.Fatalf("error code = %q (%s), want %q", e.Code, e.Description, code)
	}
	return e
}

// wantErrorRedirect checks the redirect ErrorRedirect builds for req/err:
// to the validated redirect URI, with error, state and iss (RFC 6749
// §4.1.2.1, RFC 9207), in the query (never the fragment).
func wantErrorRedirect(t *testing.T, e *env, req *AuthorizeRequest, err error, code string) url.Values {
	t.Helper()
	to := e.p.ErrorRedirect(req, err)
	u, perr := url.Parse(to)
	if perr != nil {
		t.Fatalf("ErrorRedirect gave %q: %v", to, perr)
	}
	if u.Fragment != "" || !strings.HasPrefix(to, req.RedirectURI+"?") {
		t.Errorf("error redirect %q is not a query on %q", to, req.RedirectURI)
	}
	q := u.Query()
	if q.Get("error") != code || q.Get("state") != req.State || q.Get("iss") != e.srv.URL {
		t.Errorf("error redirect query = %v, want error=%s state=%s iss=%s", q, code, req.State, e.srv.URL)
	}
	return q
}

// TestAuthorizeRedirectURIExact: a redirect URI must equal one registered
// URI byte for byte (RFC 9700 §4.1.3), and a bad one never redirects.
//
// Engine default: manage.DefaultValidateURI accepts any redirect whose host
// ends with the registered host (strings.HasSuffix(redirect.Host,
// base.Host)), whatever the scheme, path or query: every "bad" row below
// passes there except those that change how the host ends (host prefix,
// userinfo, host case, ports) and "missing".
func TestAuthorizeRedirectURIExact(t *testing.T) {
	e := newEnv(t)
	e.addClient(storage.Client{ID: "exact", Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedWeb,
		RedirectURIs: []string{"https://example.com/cb", "https://example.com/app?tenant=1"}})

	good := []string{"https://example.com/cb", "https://example.com/app?tenant=1"}
	for _, uri := range good {
		req, err := e.p.ParseAuthorize(e.ctx, authQuery("exact", "redirect_uri", uri))
		if err != nil || req == nil || req.RedirectURI != uri {
			t.Errorf("registered %q: req=%v err=%v", uri, req, err)
		}
	}
	bad := []struct{ name, uri string }{
		{"host suffix", "https://attackerexample.com/cb"},
		{"subdomain", "https://evil.example.com/cb"},
		{"host prefix", "https://example.com.evil.net/cb"},
		{"userinfo", "https://example.com@evil.net/cb"},
		{"path prefix", "https://example.com/cb/evil"},
		{"path extended", "https://example.com/cbx"},
		{"trailing slash", "https://example.com/cb/"},
		{"dot segment", "https://example.com/cb/../cb"},
		{"encoded path", "https://example.com/%63b"},
		{"query added", "https://example.com/cb?x=1"},
		{"query differs", "https://example.com/app?tenant=2"},
		{"query extended", "https://example.com/app?tenant=1&x=2"},
		{"query dropped", "https://example.com/app"},
		{"fragment", "https://example.com/cb#x"},
		{"scheme http", "http://example.com/cb"},
		{"scheme case", "HTTPS://example.com/cb"},
		{"host case", "https://EXAMPLE.com/cb"},
		{"path case", "https://example.com/CB"},
		{"explicit port", "https://example.com:443/cb"},
		{"other port", "https://example.com:8443/cb"},
		{"missing", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			// Even with other faults present (implicit, no PKCE) nothing
			// may be redirected to an unvetted URI.
			for _, q := range []url.Values{
				authQuery("exact", "redirect_uri", tc.uri),
				authQuery("exact", "redirect_uri", tc.uri, "response_type", "token", "code_challenge", ""),
			} {
				req, err := e.p.ParseAuthorize(e.ctx, q)
				if req != nil {
					t.Fatalf("redirect_uri %q: got a redirectable request (would redirect to %q)", tc.uri, req.RedirectURI)
				}
				wantAuthError(t, err, CodeInvalidRequest)
			}
		})
	}
}

// TestAuthorizeUntrustedClientNeverRedirects: a bad client_id (unknown,
// missing, suspended, given twice) or a duplicated redirect_uri gives a nil
// request: the web layer shows a page and redirects nowhere.
//
// Engine default: HandleAuthorizeRequest sends every error found after
// ValidationAuthorizeRequest (an unknown client, a redirect URI failing the
// host check) to the request's own, unvetted redirect_uri: an open
// redirector.
func TestAuthorizeUntrustedClientNeverRedirects(t *testing.T) {
	e := newEnv(t)
	e.addClient(storage.Client{ID: "suspended", Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedWeb, Status: storage.Suspended})
	cases := []struct {
		name string
		q    url.Values
		code string
	}{
		{"unknown client", authQuery("nobody"), CodeInvalidClient},
		{"missing client", authQuery(confID, "client_id", ""), CodeInvalidRequest},
		{"suspended client", authQuery("suspended"), CodeInvalidClient},
		{"client twice", func() url.Values { q := authQuery(confID); q.Add("client_id", otherID); return q }(), CodeInvalidRequest},
		{"redirect twice", func() url.Values { q := authQuery(confID); q.Add("redirect_uri", "https://evil.net/cb"); return q }(), CodeInvalidRequest},
		{"redirect of another client", authQuery(confID, "redirect_uri", "https://other.example.com/cb"), CodeInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := e.p.ParseAuthorize(e.ctx, tc.q)
			if req != nil {
				t.Fatalf("got a redirectable request to %q", req.RedirectURI)
			}
			wantAuthError(t, err, tc.code)
		})
	}
}

// TestAuthorizePKCE: S256 only; plain and a missing method (which RFC 7636
// §4.3 defaults to plain) are refused; public clients must use PKCE,
// confidential clients may. Errors here are redirected (the redirect URI
// was vetted first).
//
// Engine default: server.NewConfig allows plain, ValidationAuthorizeRequest
// turns a missing method into plain, and ForcePKCE is false, so a public
// client without PKCE gets a code.
func TestAuthorizePKCE(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		q    url.Values
		code string // "" = accepted
	}{
		{"confidential S256", authQuery(confID), ""},
		{"public S256", authQuery(pubID), ""},
		{"confidential without PKCE", authQuery(confID, "code_challenge", "", "code_challenge_method", ""), ""},
		{"public without PKCE", authQuery(pubID, "code_challenge", "", "code_challenge_method", ""), CodeInvalidRequest},
		{"plain", authQuery(pubID, "code_challenge_method", "plain"), CodeInvalidRequest},
		{"plain, challenge is a verifier", authQuery(confID, "code_challenge", oauth2.GenerateVerifier(), "code_challenge_method", "plain"), CodeInvalidRequest},
		{"missing method means plain", authQuery(pubID, "code_challenge_method", ""), CodeInvalidRequest},
		{"method case", authQuery(pubID, "code_challenge_method", "s256"), CodeInvalidRequest},
		{"method without challenge", authQuery(confID, "code_challenge", ""), CodeInvalidRequest},
		{"challenge too short", authQuery(pubID, "code_challenge", challenge[:42]), CodeInvalidRequest},
		{"challenge too long", authQuery(pubID, "code_challenge", challenge+"A"), CodeInvalidRequest},
		{"challenge bad charset", authQuery(pubID, "code_challenge", challenge[:42]+"="), CodeInvalidRequest},
		{"challenge twice", func() url.Values { q := authQuery(pubID); q.Add("code_challenge", challenge); return q }(), CodeInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := e.p.ParseAuthorize(e.ctx, tc.q)
			if req == nil {
				t.Fatalf("nil request (err %v): the redirect URI was valid, errors must redirect", err)
			}
			if tc.code == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				if cc := tc.q.Get("code_challenge"); req.CodeChallenge != cc || (cc != "" && req.CodeChallengeMethod != "S256") {
					t.Errorf("challenge = %q/%q, want %q/S256", req.CodeChallenge, req.CodeChallengeMethod, cc)
				}
				return
			}
			pe := wantAuthError(t, err, tc.code)
			if pe.Status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", pe.Status)
			}
			wantErrorRedirect(t, e, req, err, tc.code)
		})
	}
}

// TestAuthorizeImplicitOff: response_type=token is unsupported_response_type
// (400), redirected in the query; only "code" is served.
//
// Engine default: server.NewConfig allows response_type=token (implicit)
// and GetRedirectURI puts the access token in the fragment.
func TestAuthorizeImplicitOff(t *testing.T) {
	e := newEnv(t)
	for _, rt := range []string{"token", "code token", "id_token", "none"} {
		req, err := e.p.ParseAuthorize(e.ctx, authQuery(confID, "response_type", rt))
		if req == nil {
			t.Fatalf("response_type=%s: nil request (%v)", rt, err)
		}
		pe := wantAuthError(t, err, CodeUnsupportedResponseType)
		if pe.Status != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", pe.Status)
		}
		wantErrorRedirect(t, e, req, err, CodeUnsupportedResponseType)
	}
	req, err := e.p.ParseAuthorize(e.ctx, authQuery(confID, "response_type", ""))
	if req == nil {
		t.Fatalf("missing response_type: nil request (%v)", err)
	}
	wantAuthError(t, err, CodeInvalidRequest)

	// Only the query response mode: a fragment or form_post is refused
	// (in the query), never silently answered another way.
	for _, rm := range []string{"fragment", "form_post", "Query"} {
		req, err := e.p.ParseAuthorize(e.ctx, authQuery(confID, "response_mode", rm))
		if req == nil {
			t.Fatalf("response_mode=%s: nil request (%v)", rm, err)
		}
		wantAuthError(t, err, CodeInvalidRequest)
		wantErrorRedirect(t, e, req, err, CodeInvalidRequest)
	}
	if _, err := e.p.ParseAuthorize(e.ctx, authQuery(confID, "response_mode", "query")); err != nil {
		t.Fatalf("response_mode=query: %v", err)
	}
}

// TestAuthorizeScopes: an omitted scope asks for the client's approved
// website scopes; a scope beyond them, or a plugin scope, is invalid_scope
// naming the scopes, redirected; a malformed scope is invalid_scope too.
//
// Engine default: with no AuthorizeScopeHandler or ClientScopeHandler, the
// scope string goes into the code as the client wrote it, unparsed and
// uncapped; an omitted scope is an empty one.
func TestAuthorizeScopes(t *testing.T) {
	e := newEnv(t)

	req, err := e.p.ParseAuthorize(e.ctx, authQuery(confID))
	if err != nil {
		t.Fatal(err)
	}
	if !req.ScopeOmitted || req.Requested != approvedWeb {
		t.Errorf("omitted scope: Requested = %q (omitted %v), want the approved website scopes %q", req.Requested, req.ScopeOmitted, approvedWeb)
	}

	req, err = e.p.ParseAuthorize(e.ctx, authQuery(confID, "scope", "website:people:data:read"))
	if err != nil || req.ScopeOmitted || req.Requested != scopes.MustParse("website:people:data:read") {
		t.Errorf("narrow scope: req=%+v err=%v", req, err)
	}

	cases := []struct {
		name, scope string
		mention     []string
	}{
		{"beyond approved", "website:people:data:read website:helpdesk:articles:write website:settings:read",
			[]string{"website:settings:read website:helpdesk:articles:write"}},
		{"write approved, read asked", "website:visitors:read", []string{"website:visitors:read"}},
		{"plugin scope", "website:people:data:read plugin:subscription:bill:write", []string{"plugin:subscription:bill:write", "client_credentials"}},
		{"plugin scope only", "bucket:url:read", []string{"bucket:url:read"}},
		{"unknown scope", "website:nope:read", []string{"website:nope:read"}},
		{"no permission", "website:people:data", []string{"website:people:data"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := e.p.ParseAuthorize(e.ctx, authQuery(confID, "scope", tc.scope))
			if req == nil {
				t.Fatalf("nil request (%v): invalid_scope must redirect", err)
			}
			pe := wantAuthError(t, err, CodeInvalidScope)
			q := wantErrorRedirect(t, e, req, err, CodeInvalidScope)
			for _, m := range tc.mention {
				if !strings.Contains(pe.Description, m) || !strings.Contains(q.Get("error_description"), m) {
					t.Errorf("description %q (redirected %q) does not name %q", pe.Description, q.Get("error_description"), m)
				}
			}
		})
	}

	// A client with no approved website scope cannot ask for an omitted
	// scope either.
	e.addClient(storage.Client{ID: "plugin-only", Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedPlugin})
	req, err = e.p.ParseAuthorize(e.ctx, authQuery("plugin-only"))
	if req == nil {
		t.Fatalf("nil request (%v)", err)
	}
	wantAuthError(t, err, CodeInvalidScope)

	// A client not registered for the code grant: unauthorized_client.
	req, err = e.p.ParseAuthorize(e.ctx, authQuery(rsID, "redirect_uri", ""))
	if req != nil {
		t.Fatalf("resource server without redirect URI got a redirectable request")
	}
	wantAuthError(t, err, CodeInvalidRequest)
	e.addClient(storage.Client{ID: "cc-only", Type: storage.Confidential, GrantTypes: []string{"client_credentials"}, Approved: approvedWeb})
	req, err = e.p.ParseAuthorize(e.ctx, authQuery("cc-only"))
	if req == nil {
		t.Fatalf("nil request (%v)", err)
	}
	wantAuthError(t, err, CodeUnauthorizedClient)
	// A resource server registered (by mistake) with a redirect URI and the
	// code grant: the token endpoint would refuse it, so no consent either.
	e.addClient(storage.Client{ID: "rs-with-code", Type: storage.Confidential, Role: storage.RoleResourceServer,
		GrantTypes: allGrants, RedirectURIs: []string{redirectURI}, Approved: approvedWeb})
	req, err = e.p.ParseAuthorize(e.ctx, authQuery("rs-with-code"))
	if req == nil {
		t.Fatalf("nil request (%v)", err)
	}
	wantAuthError(t, err, CodeUnauthorizedClient)
}

// TestApproveRedirect: the success redirect carries code, state and iss
// (RFC 9207) on the registered URI, keeping its own query; a denial is
// access_denied; consent beyond the request is refused.
//
// Engine default: GetRedirectURI sends code and state only (no iss), and
// the engine has no notion of a consent narrower than the request.
func TestApproveRedirect(t *testing.T) {
	e := newEnv(t)
	e.addClient(storage.Client{ID: "withquery", Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedWeb,
		RedirectURIs: []string{"https://plugin.example.com/cb?tenant=7"}})

	req, err := e.p.ParseAuthorize(e.ctx, authQuery("withquery", "redirect_uri", "https://plugin.example.com/cb?tenant=7", "state", "s t&ate"))
	if err != nil {
		t.Fatal(err)
	}
	to, err := e.p.Approve(e.ctx, req, Consent{OperatorID: operator, WebsiteID: website, Scopes: req.Requested})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(to)
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != "https://plugin.example.com/cb" || q.Get("tenant") != "7" {
		t.Errorf("redirect %q lost the registered URI or its query", to)
	}
	if q.Get("state") != "s t&ate" || q.Get("iss") != e.srv.URL || !strings.HasPrefix(q.Get("code"), "sgc_") {
		t.Errorf("redirect query = %v, want code, state and iss", q)
	}

	if _, err := e.p.Approve(e.ctx, req, Consent{OperatorID: operator, WebsiteID: website, Scopes: scopes.MustParse("website:settings:read")}); err == nil {
		t.Error("Approve accepted a scope that was not requested")
	} else {
		wantAuthError(t, err, CodeInvalidScope)
	}
	if _, err := e.p.Approve(e.ctx, req, Consent{OperatorID: operator, WebsiteID: website}); err == nil {
		t.Error("Approve accepted an empty consent")
	}
	if _, err := e.p.Approve(e.ctx, req, Consent{OperatorID: operator, Scopes: req.Requested}); err == nil {
		t.Error("Approve accepted a consent without a website")
	}

	deny, _ := url.Parse(e.p.Deny(req))
	if dq := deny.Query(); dq.Get("error") != CodeAccessDenied || dq.Get("state") != "s t&ate" || dq.Get("code") != "" {
		t.Errorf("Deny redirect query = %v", dq)
	}
}
