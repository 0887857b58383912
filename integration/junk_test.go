package integration

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestJunkNeverGetsAServerError throws malformed requests at every endpoint
// of the running binary: wrong methods, content types and encodings,
// duplicated and oversized parameters, broken credentials, invalid UTF-8.
// Each must get a 4xx answer (never a 5xx, a panic or a stack trace), and
// every answer from the OAuth endpoints is JSON with an RFC error code.
func TestJunkNeverGetsAServerError(t *testing.T) {
	s := startServer(t)
	plugin, rs := provision(t, s)
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	big := strings.Repeat("a", 100<<10) // over every body limit
	form := "application/x-www-form-urlencoded"
	bodies := []struct{ name, ct, body string }{
		{"empty", form, ""},
		{"junk bytes", form, "\x00\xff\xfe=%%%&&="},
		{"invalid UTF-8 value", form, "grant_type=client_credentials&scope=%ff%fe"},
		{"invalid UTF-8 key", form, "%ff=1&grant_type=client_credentials"},
		{"duplicate grant_type", form, "grant_type=client_credentials&grant_type=refresh_token"},
		{"duplicate token", form, "token=a&token=b"},
		{"huge", form, "token=" + big},
		{"json to a form endpoint", "application/json", `{"grant_type":"client_credentials"}`},
		{"multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nabc\r\n--x--"},
		{"no content type", "", "grant_type=client_credentials"},
		{"bad scope", form, "grant_type=client_credentials&scope=website:people:data:admin%20%20x"},
		{"control chars", form, "grant_type=client_credentials&scope=%0a%0d%09"},
		{"refresh junk", form, "grant_type=refresh_token&refresh_token=sgr_" + strings.Repeat("0", 71)},
		{"code junk", form, "grant_type=authorization_code&code=sgc_x&redirect_uri=http://x&code_verifier=%00"},
		{"unknown grant", form, "grant_type=urn:ietf:params:oauth:grant-type:device_code"},
		{"password grant", form, "grant_type=password&username=a&password=b"},
		{"forged token", form, "token=sga_" + strings.Repeat("A", 71)},
	}
	auths := []struct{ name, value string }{
		{"none", ""},
		{"plugin", basic(plugin.ID, plugin.Secret)},
		{"resource server", basic(rs.ID, rs.Secret)},
		{"wrong secret", basic(plugin.ID, "nope")},
		{"malformed basic", "Basic !!!notbase64"},
		{"basic without colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("justid"))},
		{"percent junk in basic", basic("%zz", "%zz")},
		{"bearer", "Bearer sga_x"},
		{"huge", "Basic " + strings.Repeat("Q", 20000)},
	}
	endpoints := []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke", "/oauth/leaked"}
	methods := []string{"POST", "GET", "PUT", "DELETE", "OPTIONS"}

	n := 0
	try := func(method, path, ct, body, auth string) (int, string) {
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		n++
		return resp.StatusCode, string(b)
	}
	check := func(what string, status int, body string, oauthJSON bool) {
		t.Helper()
		if status >= 500 {
			t.Errorf("%s: status %d: %.200s", what, status, body)
		}
		for _, leak := range []string{"panic", "goroutine ", "runtime error", ".go:", "redis:", "dial tcp"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: body leaks %q: %.200s", what, leak, body)
			}
		}
		if oauthJSON && status >= 400 && status != 429 && !strings.Contains(body, `"error":"`) {
			t.Errorf("%s: %d without an RFC error body: %.200s", what, status, body)
		}
	}
	for _, ep := range endpoints {
		for _, m := range methods {
			for _, b := range bodies {
				for _, a := range auths {
					what := fmt.Sprintf("%s %s [%s, auth %s]", m, ep, b.name, a.name)
					status, body := try(m, ep, b.ct, b.body, a.value)
					check(what, status, body, m != "OPTIONS")
				}
			}
		}
	}
	// The authorization endpoint and the pages: junk query strings.
	queries := []string{
		"", "client_id=", "client_id=%ff", "client_id=" + plugin.ID + "&client_id=x",
		"client_id=" + plugin.ID + "&redirect_uri=%00", "client_id=" + strings.Repeat("x", 5000),
		"response_type=code&client_id=" + plugin.ID + "&redirect_uri=javascript:alert(1)",
		"%zz=%zz", "scope=" + strings.Repeat("website:people:data:read ", 400),
	}
	for _, q := range queries {
		for _, path := range []string{"/oauth/authorize", "/account/plugins", "/demo", "/admin/review", "/admin/v1/clients"} {
			status, body := try("GET", path+"?"+q, "", "", "")
			check("GET "+path+"?"+q[:min(len(q), 40)], status, body, false)
		}
		status, body := try("POST", "/oauth/authorize", form, q, "")
		check("POST /oauth/authorize "+q[:min(len(q), 40)], status, body, false)
	}
	// The admin API: broken JSON and credentials.
	for _, body := range []string{"", "{", "[]", `{"name":1}`, `{"name":"x","unknown":true}`, "\xff\xfe", strings.Repeat("[", 10000)} {
		for _, auth := range []string{"", "Bearer " + adminToken, "Bearer nope", "Basic x"} {
			status, b := try("POST", "/admin/v1/clients", "application/json", body, auth)
			check("POST /admin/v1/clients "+body[:min(len(body), 20)], status, b, false)
			status, b = try("POST", "/admin/v1/revoke", "application/json", body, auth)
			check("POST /admin/v1/revoke "+body[:min(len(body), 20)], status, b, false)
		}
	}
	t.Logf("%d junk requests, no server error", n)
}
