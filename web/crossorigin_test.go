package web

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCrossOriginFormPostsRefused: every HTML form refuses a cross-origin
// POST before looking at its CSRF field (defence in depth), while the
// programmatic endpoints, which carry no cookie, are left to their own
// client authentication.
func TestCrossOriginFormPostsRefused(t *testing.T) {
	env := newTestEnv(t)
	const refused = "cross-origin form submissions are refused"
	post := func(t *testing.T, path string, hdr map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, env.URL+path, strings.NewReader("csrf=x&email=a%40b.c&password=p"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	forms := []string{"/login", "/logout", "/oauth/authorize", "/account/plugins/disconnect",
		"/admin/login", "/admin/logout", "/admin/review/decide"}
	hostile := []struct {
		name string
		hdr  map[string]string
	}{
		{"sec-fetch-site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"sec-fetch-site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"origin evil", map[string]string{"Origin": "https://evil.example"}},
		{"origin evil with valid-looking referer", map[string]string{"Origin": "https://evil.example", "Referer": env.URL + "/login"}},
	}
	for _, path := range forms {
		for _, h := range hostile {
			t.Run(path+"/"+h.name, func(t *testing.T) {
				code, body := post(t, path, h.hdr)
				if code != http.StatusForbidden || !strings.Contains(body, refused) {
					t.Fatalf("POST %s with %v: got %d %q, want 403 with %q", path, h.hdr, code, body, refused)
				}
			})
		}
		t.Run(path+"/same-origin passes the guard", func(t *testing.T) {
			code, body := post(t, path, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": env.URL})
			if strings.Contains(body, refused) {
				t.Fatalf("same-origin POST %s refused by the guard: %d %q", path, code, body)
			}
		})
	}
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke", "/oauth/leaked", "/plugin/v1/scope-requests", "/admin/v1/revoke"} {
		t.Run(path+"/api endpoints are not form-guarded", func(t *testing.T) {
			code, body := post(t, path, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://spa.example"})
			if strings.Contains(body, refused) || code >= 500 {
				t.Fatalf("POST %s cross-origin: %d %q; the API answers with its own authentication, not the form guard", path, code, body)
			}
		})
	}
}
