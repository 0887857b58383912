package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// adminSignIn signs an HTTP browser in to the admin console and returns
// it with the session's CSRF token.
func adminSignIn(t *testing.T, e *testEnv) (*testBrowser, string) {
	t.Helper()
	b := e.NewBrowser(t)
	v := findForm(t, b.Get("/admin/login").Body, "/admin/login").Values()
	v.Set("token", testAdminToken)
	if r := b.Post("/admin/login", v); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin" {
		t.Fatalf("admin login: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	page := b.Get("/admin")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("overview: %d", page.StatusCode)
	}
	return b, findForm(t, page.Body, "/admin/logout").Values().Get("csrf")
}

// postForms returns action -> csrf field of every POST form of a page.
func postForms(t *testing.T, page string) map[string]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(n *html.Node, action string)
	walk = func(n *html.Node, action string) {
		if n.Type == html.ElementNode && n.Data == "form" && strings.EqualFold(attr(n, "method"), "post") {
			action = attr(n, "action")
			out[action] = ""
		}
		if n.Type == html.ElementNode && n.Data == "input" && action != "" && attr(n, "name") == "csrf" {
			out[action] = attr(n, "value")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, action)
		}
	}
	walk(doc, "")
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestAdminConsoleFormsRefuseForgery: every admin form carries the
// session's CSRF field, and every admin form route refuses a cross-origin
// POST and a POST without (or with a wrong) CSRF field, changing nothing.
func TestAdminConsoleFormsRefuseForgery(t *testing.T) {
	e := newAdminTestEnv(t)
	e.AddWebsite(t, "site-1", "Shop")
	id, secret := e.createPlugin(t, "bucket:url:write", "plugin:subscription:bill:read")
	tok := e.ccToken(t, id, secret)
	rsID, rsSecret := e.createResourceServer(t)
	reviewID := e.must(t, 201, http.MethodPost, "/admin/v1/reviews", map[string]any{"client_id": id, "lines": []map[string]string{
		{"scope": "bucket:url:read", "justification": "We list the files the plugin uploaded earlier."}}})["id"].(string)
	b, csrf := adminSignIn(t, e.testEnv)

	// Every POST form on every page carries the session's CSRF token.
	lookup := b.Post("/admin/kill/lookup", url.Values{"csrf": {csrf}, "token": {tok}})
	pages := map[string]string{"lookup": lookup.Body}
	for _, p := range []string{"/admin", "/admin/clients", "/admin/clients/" + id, "/admin/audit", "/admin/review", "/admin/review/clients/" + id} {
		pages[p] = b.Get(p).Body
	}
	seen := map[string]bool{}
	for name, body := range pages {
		for action, got := range postForms(t, body) {
			seen[routeOf(action, id)] = true
			if got != csrf {
				t.Errorf("page %s: form %s has CSRF field %q, want the session's", name, action, got)
			}
		}
	}

	fields := url.Values{"token": {tok}, "website_id": {"site-1"}, "scope": {"bucket:url:write"}, "grace_seconds": {"0"},
		"confirm": {id}, "review": {reviewID}, "line": {"0"}, "decision": {"approve"}, "note": {""}}
	routes := append([]string{"/admin/logout", "/admin/review/decide"}, consoleFormRoutes...)
	// The table covers every admin form route the engine has, and every
	// form the pages show.
	for _, r := range e.Web.public.Routes() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/admin/") && !strings.HasPrefix(r.Path, "/admin/v1/") &&
			r.Path != "/admin/login" && !slices.Contains(routes, r.Path) {
			t.Errorf("POST %s is not in the forgery table", r.Path)
		}
	}
	for action := range seen {
		if !slices.Contains(routes, action) {
			t.Errorf("form %s is not in the forgery table", action)
		}
	}
	const refused = "cross-origin form submissions are refused"
	for _, route := range routes {
		path := strings.ReplaceAll(route, ":id", id)
		if route == "/admin/kill/grant" {
			fields.Set("grant_id", findForm(t, lookup.Body, "/admin/kill/grant").Values().Get("grant_id"))
		}
		for _, tc := range []struct {
			name   string
			csrf   []string
			hdr    map[string]string
			want   string
			status int
		}{
			{"cross-origin", []string{csrf}, map[string]string{"Origin": "https://evil.example"}, refused, http.StatusForbidden},
			{"cross-site fetch", []string{csrf}, map[string]string{"Sec-Fetch-Site": "cross-site"}, refused, http.StatusForbidden},
			{"no CSRF field", nil, nil, "CSRF check failed", http.StatusForbidden},
			{"wrong CSRF field", []string{"forged-" + csrf[:10]}, nil, "CSRF check failed", http.StatusForbidden},
		} {
			t.Run(route+"/"+tc.name, func(t *testing.T) {
				v := url.Values{}
				for k, vs := range fields {
					v[k] = vs
				}
				if tc.csrf != nil {
					v["csrf"] = tc.csrf
				}
				r := b.postWith(path, v, tc.hdr)
				if r.StatusCode != tc.status || !strings.Contains(r.Body, tc.want) {
					t.Fatalf("POST %s: %d %q, want %d with %q", path, r.StatusCode, r.Body, tc.status, tc.want)
				}
			})
		}
	}
	// Nothing changed: the client exists, active, with its maximum and
	// secret; its token and the session still work; the review waits.
	c := e.must(t, 200, http.MethodGet, "/admin/v1/clients/"+id, nil)
	if c["status"] != "active" || strings.Join(toStrings(c["approved"]), " ") != "bucket:url:write plugin:subscription:bill:read" {
		t.Errorf("client after forged posts = %v", c)
	}
	if !e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("token inactive after forged posts")
	}
	e.ccToken(t, id, secret)
	if r := b.Get("/admin"); r.StatusCode != http.StatusOK {
		t.Errorf("session ended by a forged logout: %d", r.StatusCode)
	}
	if got := e.must(t, 200, http.MethodGet, "/admin/v1/reviews/"+reviewID, nil)["lines"].([]any)[0].(map[string]any)["status"]; got != "pending" {
		t.Errorf("review line after forged posts = %v", got)
	}
}

// routeOf turns a concrete form action back into its route.
func routeOf(action, id string) string { return strings.ReplaceAll(action, "/"+id+"/", "/:id/") }

// postWith posts a form with extra headers.
func (b *testBrowser) postWith(path string, form url.Values, hdr map[string]string) testResponse {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return testResponse{Response: resp, Body: buf.String()}
}

// TestAdminConsoleFormRefused: a console form the shared parser refuses
// gets the page with the parser's status and words, never a protocol code.
func TestAdminConsoleFormRefused(t *testing.T) {
	e := newAdminTestEnv(t)
	b, csrf := adminSignIn(t, e.testEnv)
	for _, tt := range []struct {
		name       string
		form       url.Values
		wantStatus int
		want       string
	}{
		{"over 64 KiB", url.Values{"csrf": {csrf}, "grant_id": {strings.Repeat("a", 64<<10)}}, 413, "Request body too large."},
		{"field twice", url.Values{"csrf": {csrf, csrf}, "grant_id": {"g"}}, 400, "is given more than once."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := b.postWith("/admin/kill/grant", tt.form, nil)
			if r.StatusCode != tt.wantStatus || !strings.Contains(r.Body, tt.want) || strings.Contains(r.Body, "invalid_request") {
				t.Fatalf("status %d, want %d with %q:\n%s", r.StatusCode, tt.wantStatus, tt.want, r.Body)
			}
		})
	}
}
