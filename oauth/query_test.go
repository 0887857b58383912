package oauth

import (
	"net/http"
	"net/url"
	"testing"
)

// TestParametersInQueryRefused: the token, introspection and revocation
// endpoints take parameters in the body only (RFC 6749 §3.2, RFC 7009
// §2.1, RFC 7662 §2.1). A query string, even one that duplicates or adds
// to a valid body (scope in both places), is invalid_request, and the
// request has no effect.
func TestParametersInQueryRefused(t *testing.T) {
	e := newEnv(t)
	tok := e.codeFlow(confID)
	cases := []struct {
		name, path string
		form       url.Values
		auth       basic
	}{
		{"token: scope in query and body", "/oauth/token?scope=website:people:data:read",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"website:people:data:read"}}, e.basicFor(confID)},
		{"token: grant in the query, body valid", "/oauth/token?grant_type=client_credentials",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, e.basicFor(confID)},
		{"token: client_secret in the query", "/oauth/token?client_secret=" + e.secrets[confID],
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {confID}}, basic{}},
		{"token: empty query", "/oauth/token?",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, e.basicFor(confID)},
		{"introspect: token in the query", "/oauth/introspect?token=" + tok.AccessToken, url.Values{}, e.basicFor(rsID)},
		{"introspect: query beside a body", "/oauth/introspect?x=1", url.Values{"token": {tok.AccessToken}}, e.basicFor(rsID)},
		{"revoke: token in the query and the body", "/oauth/revoke?token=" + tok.RefreshToken, url.Values{"token": {tok.RefreshToken}}, e.basicFor(confID)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(tc.path, tc.form, tc.auth)
			wantError(t, r, http.StatusBadRequest, CodeInvalidRequest)
		})
	}
	// Nothing happened: the refresh token was neither rotated nor revoked.
	if !e.active(tok.RefreshToken) || !e.active(tok.AccessToken) {
		t.Fatal("a refused request changed the grant")
	}
	if r := e.refresh(confID, tok.RefreshToken); r.status != http.StatusOK {
		t.Fatalf("the refresh token no longer works: %d %s", r.status, r.body)
	}
}
