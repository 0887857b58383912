package web

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
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

// TestAdminConsoleKillSwitch: the pasted token is shown back nowhere (page,
// URL, log, Redis, audit); look-up then one click revokes its grant;
// malformed, unknown and website revocations answer in words and counts.
func TestAdminConsoleKillSwitch(t *testing.T) {
	var logs bytes.Buffer
	e := newAdminTestEnv(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	rsID, rsSecret := e.createResourceServer(t)
	id, secret := e.createPlugin(t, "bucket:url:write")
	tok, other := e.ccToken(t, id, secret), ""
	b, csrf := adminSignIn(t, e.testEnv)

	page := b.Post("/admin/kill/lookup", url.Values{"csrf": {csrf}, "token": {tok}})
	if page.StatusCode != 200 || strings.Contains(page.Body, tok) || page.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("look-up: %d, token echoed %t, %v", page.StatusCode, strings.Contains(page.Body, tok), page.Header)
	}
	for _, want := range []string{"access_token", id, "bucket:url:write", "WRITE", "none (a plugin-level token"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("look-up page lacks %q", want)
		}
	}
	confirm := findForm(t, page.Body, "/admin/kill/grant").Values()
	if len(confirm) != 2 || confirm.Get("grant_id") == "" {
		t.Fatalf("confirm form = %v, want only csrf and grant_id", confirm)
	}
	if !e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Fatal("the look-up alone revoked the token")
	}
	res := b.Post("/admin/kill/grant", confirm)
	if res.StatusCode != 200 || !regexp.MustCompile(`id="count-grants">1<.*id="count-tokens">1<`).MatchString(res.Body) {
		t.Fatalf("revoke: %d\n%s", res.StatusCode, res.Body)
	}
	if e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Fatal("token active after the kill switch")
	}
	other = e.ccToken(t, id, secret) // a new grant; the old one stays dead

	for _, tc := range []struct {
		name, value, want string
		status            int
	}{
		{"not a token", "sga_this-is-not-a-real-token", "not a scopegate token", 400},
		{"empty", "", "not a scopegate token", 400},
		{"unknown", token.New(token.Access, token.NewID()), "is not live", 200},
		{"already revoked", tok, "is not live", 200},
	} {
		r := b.Post("/admin/kill/lookup", url.Values{"csrf": {csrf}, "token": {tc.value}})
		if r.StatusCode != tc.status || !strings.Contains(r.Body, tc.want) || (tc.value != "" && strings.Contains(r.Body, tc.value)) {
			t.Errorf("%s: %d, want %d with %q (token echoed: %t)", tc.name, r.StatusCode, tc.status, tc.want, tc.value != "" && strings.Contains(r.Body, tc.value))
		}
	}
	if r := b.Post("/admin/kill/grant", url.Values{"csrf": {csrf}, "grant_id": {"no-such-grant"}}); r.StatusCode != 404 || !strings.Contains(r.Body, "No such grant.") {
		t.Errorf("unknown grant: %d", r.StatusCode)
	}
	if r := b.Post("/admin/kill/website", url.Values{"csrf": {csrf}, "website_id": {"no-such-site"}}); r.StatusCode != 404 || !strings.Contains(r.Body, "No such website.") {
		t.Errorf("unknown website: %d", r.StatusCode)
	}
	e.AddWebsite(t, "site-9", "Nine")
	if r := b.Post("/admin/kill/website", url.Values{"csrf": {csrf}, "website_id": {"site-9"}}); r.StatusCode != 200 || !strings.Contains(r.Body, `id="count-grants">0<`) {
		t.Errorf("website without grants: %d", r.StatusCode)
	}
	if !e.Introspect(t, rsID, rsSecret, other).Active {
		t.Error("a later grant was revoked by the look-ups")
	}
	// A pasted live code shows as one; confirming revokes its grant.
	now := e.Clock.Now()
	g := storage.Grant{ID: token.NewID(), ClientID: id, WebsiteID: "site-9", OperatorID: "op-1", Scopes: scopes.MustParse("bucket:url:write"),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	code := token.New(token.Code, g.ID)
	if err := e.Store.CreateGrant(tbCtx(t), g); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.IssueTokens(tbCtx(t), storage.NewToken{Value: code, Token: storage.Token{Kind: token.Code, GrantID: g.ID, ClientID: id,
		Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(time.Minute), RedirectURI: "https://a.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	r := b.Post("/admin/kill/lookup", url.Values{"csrf": {csrf}, "token": {code}})
	if r.StatusCode != 200 || !strings.Contains(r.Body, `id="lk-kind">authorization_code<`) || strings.Contains(r.Body, code) {
		t.Fatalf("pasted code: %d\n%s", r.StatusCode, r.Body)
	}
	if r := b.Post("/admin/kill/grant", findForm(t, r.Body, "/admin/kill/grant").Values()); !strings.Contains(r.Body, `id="count-grants">1<`) {
		t.Errorf("revoking the code's grant: %d\n%s", r.StatusCode, r.Body)
	}
	if gs, err := e.Store.ListGrants(tbCtx(t), "", "site-9"); err != nil || len(gs) != 0 {
		t.Errorf("grants of site-9 after the pasted code: %v %v", gs, err)
	}
	evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?kind=revoke.grant", nil)["events"].([]any)
	if len(evs) != 2 {
		t.Errorf("kill switch audit = %v, want the two grant revocations", evs)
	}
	for _, ev := range evs {
		if m := ev.(map[string]any); m["actor"] != "admin:tester" || m["detail"].(map[string]any)["reason"] != "kill switch" {
			t.Errorf("kill switch audit event = %v", m)
		}
	}
	// A leak report shows on the overview.
	resp, err := http.PostForm(e.URL+"/oauth/leaked", url.Values{"token": {other}})
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("leak report: %v %v", resp, err)
	}
	resp.Body.Close()
	ov := b.Get("/admin").Body
	leaks := ov[strings.Index(ov, "<h2>Leak reports</h2>"):]
	if !strings.Contains(leaks, `id="leaks"`) || !strings.Contains(leaks, id) || !strings.Contains(leaks, "token reported leaked") {
		t.Errorf("overview's leak reports:\n%s", leaks)
	}
	if !strings.Contains(ov, `id="revocations"`) || !strings.Contains(ov, "revoke.website") {
		t.Errorf("overview's recent revocations lack the website revocation")
	}
	dump := dumpRedis(t, e.RDB)
	for _, leak := range []struct{ where, text string }{{"the log", logs.String()}, {"Redis", dump}} {
		if strings.Contains(leak.text, tok) {
			t.Errorf("%s holds the pasted token", leak.where)
		}
	}
	if !strings.Contains(logs.String(), "/admin/kill/lookup") {
		t.Error("the request log is empty: the log check proves nothing")
	}
}

// TestAdminConsoleClientActions: search, rotate with grace (secret shown
// once), suspend and resume, no widening, revoke everything, delete with
// typed confirmation, and the audit timeline's filter and pages.
func TestAdminConsoleClientActions(t *testing.T) {
	e := newAdminTestEnv(t)
	rsID, rsSecret := e.createResourceServer(t)
	id, secret := e.createPlugin(t, "bucket:url:write", "plugin:subscription:bill:read")
	tok := e.ccToken(t, id, secret)
	b, csrf := adminSignIn(t, e.testEnv)
	post := func(action string, v url.Values) testResponse {
		t.Helper()
		v.Set("csrf", csrf)
		return b.Post("/admin/clients/"+id+"/"+action, v)
	}

	if list := b.Get("/admin/clients?q=TEST+plug"); !strings.Contains(list.Body, `id="client-`+id+`"`) || !regexp.MustCompile(`Live grants" class="num">1<`).MatchString(list.Body) {
		t.Errorf("search by name lacks the client or its live grant:\n%s", list.Body)
	}
	if list := b.Get("/admin/clients?q=zzz"); strings.Contains(list.Body, id) || !strings.Contains(list.Body, "No client matches") {
		t.Error("search for zzz lists the client")
	}
	if list := b.Get("/admin/clients?status=suspended"); strings.Contains(list.Body, id) {
		t.Error("status=suspended lists an active client")
	}

	r := post("rotate", url.Values{"grace_seconds": {"3600"}})
	sm := regexp.MustCompile(`id="new-secret" readonly value="([^"]+)"`).FindStringSubmatch(r.Body)
	if r.StatusCode != 200 || sm == nil {
		t.Fatalf("rotate: %d\n%s", r.StatusCode, r.Body)
	}
	newSecret := sm[1]
	e.ccToken(t, id, secret)
	e.ccToken(t, id, newSecret)
	page := b.Get("/admin/clients/" + id)
	if strings.Contains(page.Body, newSecret) || !strings.Contains(page.Body, "Previous, verifies until") || strings.Contains(page.Body, "(not recorded)") {
		t.Errorf("client page after rotation shows the secret or lacks its grace/creation:\n%s", page.Body)
	}
	if r := post("rotate", url.Values{"grace_seconds": {"5"}}); r.StatusCode != 400 {
		t.Errorf("odd grace: %d", r.StatusCode)
	}

	if r := post("suspend", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", r.StatusCode, r.Body)
	}
	if e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("token active while suspended")
	}
	if r := post("resume", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: %d", r.StatusCode)
	}
	if !e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("token inactive after resume")
	}
	if r := post("maximum", url.Values{"scope": {"bucket:url:write", "bucket:url:read"}}); r.StatusCode != 400 || !strings.Contains(r.Body, "widening needs a review") {
		t.Errorf("widening: %d", r.StatusCode)
	}
	r = post("revoke", url.Values{})
	if r.StatusCode != 200 || !strings.Contains(r.Body, `id="count-grants">1<`) || e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Errorf("revoke everything: %d\n%s", r.StatusCode, r.Body)
	}
	if r := post("delete", url.Values{"confirm": {"Test"}}); r.StatusCode != 400 {
		t.Errorf("delete with a wrong confirmation: %d", r.StatusCode)
	}
	e.must(t, 200, http.MethodGet, "/admin/v1/clients/"+id, nil)
	if r := post("delete", url.Values{"confirm": {"Test Plugin"}}); r.StatusCode != 200 || !strings.Contains(r.Body, "is deleted") {
		t.Errorf("delete: %d", r.StatusCode)
	}
	e.must(t, 404, http.MethodGet, "/admin/v1/clients/"+id, nil)
	if r := b.Get("/admin/clients/" + id); r.StatusCode != 404 {
		t.Errorf("deleted client's page: %d", r.StatusCode)
	}

	// The audit timeline: filter, links, pages of 50, bad filters.
	a := b.Get("/admin/audit?client_id=" + id + "&kind=client.deleted")
	if n := strings.Count(a.Body, `<tr class="event">`); n != 1 || !strings.Contains(a.Body, `href="/admin/clients/`+id+`"`) {
		t.Errorf("filtered audit: %d rows", n)
	}
	for i := range 60 {
		if err := e.Store.AppendEvent(tbCtx(t), storage.Event{Kind: "test.filler", WebsiteID: "site-x", Detail: map[string]string{"n": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	a = b.Get("/admin/audit?kind=test.filler&since=2000-01-01T00:00")
	if n := strings.Count(a.Body, `<tr class="event">`); n != 50 || !strings.Contains(a.Body, "n=59") || !strings.Contains(a.Body, `href="/admin/audit?website_id=site-x"`) {
		t.Fatalf("audit page 1: %d rows", n)
	}
	m := regexp.MustCompile(`href="([^"]*)" id="older"`).FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatal("no link to older events")
	}
	a = b.Get(html.UnescapeString(m[1]))
	if n := strings.Count(a.Body, `<tr class="event">`); n != 10 || !strings.Contains(a.Body, "n=0") || strings.Contains(a.Body, `id="older"`) {
		t.Errorf("audit page 2: %d rows", n)
	}
	if r := b.Get("/admin/audit?kind=" + url.QueryEscape("no such kind!")); r.StatusCode != 400 {
		t.Errorf("bad kind filter: %d", r.StatusCode)
	}
}
