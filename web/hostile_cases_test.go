package web

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/storage/token"
)

// cases are the hostile requests, endpoint by endpoint, each with the
// answer the RFCs (or the admin API, or a page) require.
func (f *hostileFixture) cases(t *testing.T) []hostileCase {
	plug := basicAuth(hPlug, f.plugSecret)
	rs := basicAuth(hRS, f.rsSecret)
	adm := "Bearer " + f.admin
	q := url.QueryEscape
	// Per-case live credentials, so one case's failure cannot spend
	// another's token.
	rt := func() string { r, _, _ := f.grant(t, hPlug, hPlugURI); return r }
	code := func() string { _, _, c := f.grant(t, hPlug, hPlugURI); return c }
	_, otherAccess, _ := f.grant(t, f.other, "https://other.example/cb")
	refreshWith := func(scope string) string {
		return "grant_type=refresh_token&refresh_token=" + rt() + "&scope=" + q(scope)
	}
	redeem := func(verifier, uri string) string {
		return "grant_type=authorization_code&code=" + code() + "&redirect_uri=" + q(uri) + "&code_verifier=" + q(verifier)
	}
	authz := func(extra string) string {
		return "/oauth/authorize?response_type=code&client_id=" + hPlug + "&redirect_uri=" + q(hPlugURI) +
			"&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256" + extra
	}
	authzURI := func(uri string) string {
		return "/oauth/authorize?response_type=code&client_id=" + hPlug + "&redirect_uri=" + q(uri) + "&state=s"
	}
	big := strings.Repeat("a", 100<<10)
	return []hostileCase{
		// ---- token endpoint ----
		{name: "token: grant_type twice", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&grant_type=client_credentials", auth: plug, status: 400, code: "invalid_request"},
		{name: "token: scope in query and body", method: "POST", path: "/oauth/token?scope=website:people:data:read", ctype: formCT, body: refreshWith("website:people:data:read"), auth: plug, status: 400, code: "invalid_request"},
		{name: "token: everything in the query", method: "POST", path: "/oauth/token?grant_type=refresh_token&refresh_token=" + rt(), ctype: formCT, auth: plug, status: 400, code: "invalid_request"},
		{name: "token: JSON body", method: "POST", path: "/oauth/token", ctype: "application/json", body: `{"grant_type":"refresh_token"}`, auth: plug, status: 400, code: "invalid_request"},
		{name: "token: multipart body", method: "POST", path: "/oauth/token", ctype: "multipart/form-data; boundary=x", body: "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nrefresh_token\r\n--x--", auth: plug, status: 400, code: "invalid_request"},
		{name: "token: text/plain", method: "POST", path: "/oauth/token", ctype: "text/plain", body: "grant_type=refresh_token", auth: plug, status: 400, code: "invalid_request"},
		{name: "token: no content type", method: "POST", path: "/oauth/token", body: "grant_type=refresh_token", auth: plug, status: 400, code: "invalid_request"},
		{name: "token: GET", method: "GET", path: "/oauth/token", auth: plug, status: 405, code: "invalid_request"},
		{name: "token: PUT", method: "PUT", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token", auth: plug, status: 405, code: "invalid_request"},
		{name: "token: 100 KiB body", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=" + big, auth: plug, status: 413, code: "invalid_request"},
		{name: "token: 1500 parameters", method: "POST", path: "/oauth/token", ctype: formCT, body: manyParams(1500), auth: plug, status: 400, code: "invalid_request"},
		{name: "token: 10000 empty parameters", method: "POST", path: "/oauth/token", ctype: formCT, body: strings.Repeat("&", 10000) + "grant_type=refresh_token", auth: plug, status: 400, code: "invalid_request"},
		{name: "token: invalid UTF-8 value", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=%ff%fe", auth: plug, status: 400, code: "invalid_request"},
		{name: "token: invalid UTF-8 raw bytes", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&scope=\xc3\x28", auth: plug, status: 400, code: "invalid_request"},
		{name: "token: NUL in the refresh token", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=sgr_%00" + strings.Repeat("A", 70), auth: plug, status: 400, code: "invalid_grant"},
		{name: "token: CRLF in grant_type", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token%0d%0aX-Injected:%201", auth: plug, status: 400, code: "unsupported_grant_type"},
		{name: "token: malformed Basic", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x", auth: "Basic !!!not-base64", status: 401, code: "invalid_client"},
		{name: "token: Basic without colon", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(hPlug)), status: 401, code: "invalid_client"},
		{name: "token: Basic with bad percent-escapes", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:%zz")), status: 401, code: "invalid_client"},
		{name: "token: Basic with NUL in the id", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x", auth: basicAuth("plug\x00", f.plugSecret), status: 401, code: "invalid_client"},
		{name: "token: 8 KiB Basic", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x", auth: "Basic " + strings.Repeat("QUFB", 2048), status: 401, code: "invalid_client"},
		{name: "token: Bearer instead of Basic", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x", auth: "Bearer sga_x", status: 401, code: "invalid_client"},
		{name: "token: Basic and client_secret (two methods)", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x&client_id=plug&client_secret=" + f.plugSecret, auth: plug, status: 400, code: "invalid_request"},
		{name: "token: Basic and another client_id", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x&client_id=other", auth: plug, status: 400, code: "invalid_request"},
		{name: "token: public client with a secret", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x&client_id=pub&client_secret=guess", status: 401, code: "invalid_client"},
		{name: "token: no client authentication", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token&refresh_token=x", status: 401, code: "invalid_client"},
		{name: "token: device_code grant", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=" + q("urn:ietf:params:oauth:grant-type:device_code"), auth: plug, status: 400, code: "unsupported_grant_type"},
		{name: "token: password grant", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=password&username=a&password=b", auth: plug, status: 400, code: "unsupported_grant_type"},
		{name: "token: verifier 42 characters", method: "POST", path: "/oauth/token", ctype: formCT, body: redeem(hVerifier[:42], hPlugURI), auth: plug, status: 400, code: "invalid_grant"},
		{name: "token: verifier 129 characters", method: "POST", path: "/oauth/token", ctype: formCT, body: redeem(strings.Repeat("a", 129), hPlugURI), auth: plug, status: 400, code: "invalid_grant"},
		{name: "token: verifier outside the alphabet", method: "POST", path: "/oauth/token", ctype: formCT, body: redeem(strings.Repeat("+", 43), hPlugURI), auth: plug, status: 400, code: "invalid_grant"},
		{name: "token: verifier with a space", method: "POST", path: "/oauth/token", ctype: formCT, body: redeem(hVerifier[:42]+" ", hPlugURI), auth: plug, status: 400, code: "invalid_grant"},
		{name: "token: verifier missing", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=authorization_code&code=" + code() + "&redirect_uri=" + q(hPlugURI), auth: plug, status: 400, code: "invalid_grant"},
		{name: "token: redirect_uri with a trailing slash", method: "POST", path: "/oauth/token", ctype: formCT, body: redeem(hVerifier, hPlugURI+"/"), auth: plug, status: 400, code: "invalid_grant"},
		{name: "token: redirect_uri upper-cased host", method: "POST", path: "/oauth/token", ctype: formCT, body: redeem(hVerifier, "https://PLUG.example/cb"), auth: plug, status: 400, code: "invalid_grant"},
		{name: "token: another client's code", method: "POST", path: "/oauth/token", ctype: formCT, body: redeem(hVerifier, hPlugURI), auth: basicAuth(f.other, f.otherSecret), status: 400, code: "invalid_grant"},
		{name: "token: scope wildcard", method: "POST", path: "/oauth/token", ctype: formCT, body: refreshWith("website:*:read"), auth: plug, status: 400, code: "invalid_scope"},
		{name: "token: scope upper case", method: "POST", path: "/oauth/token", ctype: formCT, body: refreshWith("WEBSITE:PEOPLE:DATA:READ"), auth: plug, status: 400, code: "invalid_scope"},
		{name: "token: scope unknown permission", method: "POST", path: "/oauth/token", ctype: formCT, body: refreshWith("website:people:data:admin"), auth: plug, status: 400, code: "invalid_scope"},
		{name: "token: scope extra segment", method: "POST", path: "/oauth/token", ctype: formCT, body: refreshWith("website:people:data:read:extra"), auth: plug, status: 400, code: "invalid_scope"},
		{name: "token: scope wider than the grant", method: "POST", path: "/oauth/token", ctype: formCT, body: refreshWith("website:people:data:write"), auth: plug, status: 400, code: "invalid_scope"},
		{name: "token: scope with CRLF", method: "POST", path: "/oauth/token", ctype: formCT, body: refreshWith("website:people:data:read\r\nwebsite:people:profiles:read"), auth: plug, status: 400, code: "invalid_scope"},

		// ---- introspection ----
		{name: "introspect: GET", method: "GET", path: "/oauth/introspect?token=" + otherAccess, auth: rs, status: 405, code: "invalid_request"},
		{name: "introspect: token in the query", method: "POST", path: "/oauth/introspect?token=" + otherAccess, ctype: formCT, auth: rs, status: 400, code: "invalid_request"},
		{name: "introspect: token twice", method: "POST", path: "/oauth/introspect", ctype: formCT, body: "token=a&token=" + otherAccess, auth: rs, status: 400, code: "invalid_request"},
		{name: "introspect: no authentication", method: "POST", path: "/oauth/introspect", ctype: formCT, body: "token=" + otherAccess, status: 401, code: "invalid_client"},
		{name: "introspect: as a plugin", method: "POST", path: "/oauth/introspect", ctype: formCT, body: "token=" + otherAccess, auth: plug, status: 403, code: "unauthorized_client"},
		{name: "introspect: as a public client", method: "POST", path: "/oauth/introspect", ctype: formCT, body: "token=" + otherAccess + "&client_id=pub", status: 401, code: "invalid_client"},
		{name: "introspect: wrong secret", method: "POST", path: "/oauth/introspect", ctype: formCT, body: "token=" + otherAccess, auth: basicAuth(hRS, "nope"), status: 401, code: "invalid_client"},
		{name: "introspect: JSON body", method: "POST", path: "/oauth/introspect", ctype: "application/json", body: `{"token":"x"}`, auth: rs, status: 400, code: "invalid_request"},
		{name: "introspect: invalid UTF-8 token", method: "POST", path: "/oauth/introspect", ctype: formCT, body: "token=%ff", auth: rs, status: 400, code: "invalid_request"},
		{name: "introspect: NUL token is inactive", method: "POST", path: "/oauth/introspect", ctype: formCT, body: "token=%00", auth: rs, status: 200},
		{name: "introspect: 15 KiB token is inactive", method: "POST", path: "/oauth/introspect", ctype: formCT, body: "token=sga_" + strings.Repeat("A", 15<<10), auth: rs, status: 200},

		// ---- revocation ----
		{name: "revoke: another client's token", method: "POST", path: "/oauth/revoke", ctype: formCT, body: "token=" + otherAccess, auth: plug, status: 400, code: "unauthorized_client"},
		{name: "revoke: token missing", method: "POST", path: "/oauth/revoke", ctype: formCT, body: "token_type_hint=access_token", auth: plug, status: 400, code: "invalid_request"},
		{name: "revoke: token in the query", method: "POST", path: "/oauth/revoke?token=" + otherAccess, ctype: formCT, auth: plug, status: 400, code: "invalid_request"},
		{name: "revoke: token twice", method: "POST", path: "/oauth/revoke", ctype: formCT, body: "token=a&token=b", auth: plug, status: 400, code: "invalid_request"},
		{name: "revoke: unknown token", method: "POST", path: "/oauth/revoke", ctype: formCT, body: "token=" + token.New(token.Access, token.NewID()), auth: plug, status: 200},
		{name: "revoke: no authentication", method: "POST", path: "/oauth/revoke", ctype: formCT, body: "token=x", status: 401, code: "invalid_client"},
		{name: "revoke: DELETE", method: "DELETE", path: "/oauth/revoke", auth: plug, status: 405, code: "invalid_request"},

		// ---- leaked-token reports ----
		{name: "leaked: GET with the token in the query", method: "GET", path: "/oauth/leaked?token=" + otherAccess, status: 405, code: "invalid_request"},
		{name: "leaked: POST with the token in the query", method: "POST", path: "/oauth/leaked?token=" + otherAccess, ctype: formCT, status: 400, code: "invalid_request"},
		{name: "leaked: token missing", method: "POST", path: "/oauth/leaked", ctype: formCT, body: "x=1", status: 400, code: "invalid_request"},
		{name: "leaked: token twice", method: "POST", path: "/oauth/leaked", ctype: formCT, body: "token=a&token=b", status: 400, code: "invalid_request"},
		{name: "leaked: JSON", method: "POST", path: "/oauth/leaked", ctype: "application/json", body: `{"token":"x"}`, status: 400, code: "invalid_request"},
		{name: "leaked: 100 KiB", method: "POST", path: "/oauth/leaked", ctype: formCT, body: "token=" + big, status: 413, code: "invalid_request"},
		{name: "leaked: CRLF junk is accepted blindly", method: "POST", path: "/oauth/leaked", ctype: formCT, body: "token=%0d%0aSet-Cookie:%20x", status: 202},

		// ---- plugin API ----
		{name: "plugin: no authentication", method: "POST", path: "/plugin/v1/scope-requests", ctype: "application/json", body: `{"lines":[]}`, status: 401, code: "invalid_client"},
		{name: "plugin: as a resource server", method: "POST", path: "/plugin/v1/scope-requests", ctype: "application/json", body: `{"lines":[]}`, auth: rs, status: 403, code: "unauthorized_client"},
		{name: "plugin: form instead of JSON", method: "POST", path: "/plugin/v1/scope-requests", ctype: formCT, body: "lines=1", auth: plug, status: 415, code: "invalid_request"},
		{name: "plugin: malformed JSON", method: "POST", path: "/plugin/v1/scope-requests", ctype: "application/json", body: `{"lines":[`, auth: plug, status: 400, code: "invalid_request"},
		{name: "plugin: unknown field", method: "POST", path: "/plugin/v1/scope-requests", ctype: "application/json", body: `{"lines":[],"admin":true}`, auth: plug, status: 400, code: "invalid_request"},
		{name: "plugin: wildcard scope", method: "POST", path: "/plugin/v1/scope-requests", ctype: "application/json", body: `{"lines":[{"scope":"website:*:read","justification":"all of it please"}]}`, auth: plug, status: 400, code: "invalid_request"},
		{name: "plugin: invalid UTF-8", method: "POST", path: "/plugin/v1/scope-requests", ctype: "application/json", body: "{\"lines\":[{\"scope\":\"\xff\"}]}", auth: plug, status: 400, code: "invalid_request"},
		{name: "plugin: 100 KiB", method: "POST", path: "/plugin/v1/scope-requests", ctype: "application/json", body: `{"lines":"` + big + `"}`, auth: plug, status: 413, code: "invalid_request"},

		// ---- admin API ----
		{name: "admin: no token", method: "GET", path: "/admin/v1/clients", status: 401, code: "invalid_token"},
		{name: "admin: token with a tab", method: "GET", path: "/admin/v1/clients", auth: "Bearer a\tb", status: 400, code: "invalid_request"},
		{name: "admin: Basic scheme", method: "GET", path: "/admin/v1/clients", auth: basicAuth("admin", f.admin), status: 400, code: "invalid_request"},
		{name: "admin: wrong token", method: "GET", path: "/admin/v1/clients", auth: "Bearer " + strings.Repeat("x", 40), status: 401, code: "invalid_token"},
		{name: "admin: 600-byte token", method: "GET", path: "/admin/v1/clients", auth: "Bearer " + strings.Repeat("x", 600), status: 400, code: "invalid_request"},
		{name: "admin: text/plain body", method: "POST", path: "/admin/v1/clients", ctype: "text/plain", body: `{"id":"x"}`, auth: adm, status: 415, code: "invalid_request"},
		{name: "admin: unknown JSON field", method: "POST", path: "/admin/v1/clients", ctype: "application/json", body: `{"id":"x","name":"X","is_admin":true}`, auth: adm, status: 400, code: "invalid_request"},
		{name: "admin: redirect URI with a fragment", method: "POST", path: "/admin/v1/clients", ctype: "application/json", body: `{"id":"x","name":"X","redirect_uris":["https://x.example/cb#frag"]}`, auth: adm, status: 400, code: "invalid_request"},
		{name: "admin: client id with a NUL", method: "POST", path: "/admin/v1/clients", ctype: "application/json", body: `{"id":"x\u0000y","name":"X"}`, auth: adm, status: 400, code: "invalid_request"},
		{name: "admin: encoded path traversal", method: "GET", path: "/admin/v1/clients/..%2f..%2fadmin", auth: adm, status: 404, code: "not_found"},
		{name: "admin: 100 KiB body", method: "POST", path: "/admin/v1/clients", ctype: "application/json", body: `{"name":"` + big + `"}`, auth: adm, status: 413, code: "invalid_request"},

		// ---- authorize: untrusted client or redirect URI: a page, never a redirect ----
		{name: "authorize: no client_id", method: "GET", path: "/oauth/authorize?response_type=code&redirect_uri=" + q(hPlugURI), status: 400},
		{name: "authorize: unknown client", method: "GET", path: "/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=" + q("https://evil.example/cb"), status: 400},
		{name: "authorize: client_id twice", method: "GET", path: "/oauth/authorize?response_type=code&client_id=plug&client_id=other&redirect_uri=" + q(hPlugURI), status: 400},
		{name: "authorize: redirect_uri twice", method: "GET", path: authzURI(hPlugURI) + "&redirect_uri=" + q("https://evil.example/cb"), status: 400},
		{name: "authorize: redirect_uri trailing slash", method: "GET", path: authzURI(hPlugURI + "/"), status: 400},
		{name: "authorize: redirect_uri upper-case host", method: "GET", path: authzURI("https://PLUG.example/cb"), status: 400},
		{name: "authorize: redirect_uri extra query", method: "GET", path: authzURI(hPlugURI + "?next=https://evil.example"), status: 400},
		{name: "authorize: redirect_uri http instead of https", method: "GET", path: authzURI("http://plug.example/cb"), status: 400},
		{name: "authorize: redirect_uri userinfo trick", method: "GET", path: authzURI("https://plug.example@evil.example/cb"), status: 400},
		{name: "authorize: redirect_uri dot segments", method: "GET", path: authzURI("https://plug.example/cb/../../evil"), status: 400},
		{name: "authorize: redirect_uri percent-encoded path", method: "GET", path: authzURI("https://plug.example/%63b"), status: 400},
		{name: "authorize: redirect_uri with a fragment", method: "GET", path: authzURI(hPlugURI + "#x"), status: 400},
		{name: "authorize: redirect_uri with CRLF", method: "GET", path: authzURI(hPlugURI + "\r\nLocation: https://evil.example"), status: 400},
		{name: "authorize: redirect_uri suffix host", method: "GET", path: authzURI("https://plug.example.evil.example/cb"), status: 400},
		// ---- authorize: trusted redirect URI: the error goes back to it ----
		{name: "authorize: scope twice", method: "GET", path: authz("&scope=website:people:data:read&scope=website:people:profiles:read"), status: 302, code: "invalid_request", redirect: true},
		{name: "authorize: response_type token", method: "GET", path: strings.Replace(authz(""), "response_type=code", "response_type=token", 1), status: 302, code: "unsupported_response_type", redirect: true},
		{name: "authorize: PKCE plain", method: "GET", path: strings.Replace(authz(""), "code_challenge_method=S256", "code_challenge_method=plain", 1), status: 302, code: "invalid_request", redirect: true},
		{name: "authorize: challenge 42 characters", method: "GET", path: strings.Replace(authz(""), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c", 1), status: 302, code: "invalid_request", redirect: true},
		{name: "authorize: challenge outside the alphabet", method: "GET", path: strings.Replace(authz(""), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", q(strings.Repeat("+", 43)), 1), status: 302, code: "invalid_request", redirect: true},
		{name: "authorize: public client without PKCE", method: "GET", path: "/oauth/authorize?response_type=code&client_id=pub&redirect_uri=" + q(hPubURI), status: 302, code: "invalid_request", redirect: true},
		{name: "authorize: scope wildcard", method: "GET", path: authz("&scope=" + q("website:*:read")), status: 302, code: "invalid_scope", redirect: true},
		{name: "authorize: scope upper case", method: "GET", path: authz("&scope=WEBSITE:PEOPLE:DATA:READ"), status: 302, code: "invalid_scope", redirect: true},
		{name: "authorize: scope unknown permission", method: "GET", path: authz("&scope=website:people:data:delete"), status: 302, code: "invalid_scope", redirect: true},
		{name: "authorize: scope extra segments", method: "GET", path: authz("&scope=website:people:data:read:x:y"), status: 302, code: "invalid_scope", redirect: true},
		{name: "authorize: scope with NUL", method: "GET", path: authz("&scope=website:people:data:read%00"), status: 302, code: "invalid_scope", redirect: true},
		{name: "authorize: scope beyond the maximum", method: "GET", path: authz("&scope=website:operators:read"), status: 302, code: "invalid_scope", redirect: true},
		{name: "authorize: plugin scope by consent", method: "GET", path: authz("&scope=plugin:subscription:bill:read"), status: 302, code: "invalid_scope", redirect: true},
		{name: "authorize: response_mode fragment", method: "GET", path: authz("&response_mode=fragment"), status: 302, code: "invalid_request", redirect: true},
		{name: "authorize: POST as JSON", method: "POST", path: "/oauth/authorize", ctype: "application/json", body: `{"client_id":"plug"}`, status: 400},
		{name: "authorize: POST with 5000 parameters", method: "POST", path: "/oauth/authorize", ctype: formCT, body: manyParams(5000), status: 400},
		{name: "authorize: PUT", method: "PUT", path: "/oauth/authorize", status: 405, code: "invalid_request"},
		{name: "no such path", method: "GET", path: "/oauth/authorise", status: 404, code: "not_found"},
		{name: "healthz: DELETE", method: "DELETE", path: "/healthz", status: 405, code: "invalid_request"},

		// ---- headers ----
		{name: "token: 2 MiB header", method: "POST", path: "/oauth/token", ctype: formCT, body: "grant_type=refresh_token", header: map[string]string{"X-Big": strings.Repeat("a", 2<<20)}, status: 431},
	}
}
