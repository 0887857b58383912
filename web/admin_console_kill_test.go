package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

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
