package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
)

// consoleFixture is the consent-page fixture (plugin pg on site-1 with
// code + refresh, resource server, operator Ann) plus an admin token and a
// client-credentials plugin made through the admin API.
type consoleFixture struct {
	*pageFixture
	admin            *adminEnv
	ccID, ccSecret   string
	ccToken          string
	accessA, accessB *oauth2.Token
}

func newConsoleFixture(t *testing.T, opts ...func(*Options)) *consoleFixture {
	t.Helper()
	f := &consoleFixture{pageFixture: newPageFixture(t, opts...)}
	if err := f.Store.AddAdminToken(testCtx(t), testAdminToken, "tester"); err != nil {
		t.Fatal(err)
	}
	f.admin = &adminEnv{testEnv: f.testEnv, AdminToken: testAdminToken}
	f.ccID, f.ccSecret = f.admin.createPlugin(t, "bucket:url:write", "plugin:subscription:bill:read")
	f.ccToken = f.admin.ccToken(t, f.ccID, f.ccSecret)
	f.accessA = f.consent(t, "a")
	f.accessB = f.consent(t, "b")
	return f
}

// consent runs the operator's consent for pg on site-1 (messages:write
// and people:data:read ticked) and redeems the code with a real client.
func (f *consoleFixture) consent(t *testing.T, state string) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	b, page := f.signedInConsent(t, f.authURL(state, verifier, pgRequested))
	q := callbackParams(t, submitConsent(b, page, "approve", []string{"website:conversation:messages:write", "website:people:data:read"}, nil))
	tok, err := f.Config().Exchange(testCtx(t), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("Exchange: %v (refresh token %t)", err, tok != nil && tok.RefreshToken != "")
	}
	return tok
}

func (f *consoleFixture) active(t *testing.T, tok string) bool {
	t.Helper()
	return f.Introspect(t, pgRSID, f.RSSecret, tok).Active
}

// TestAdminConsoleBrowser drives the console in Debian's chromium: sign
// in, paste a live token into the kill switch and revoke it; suspend a
// client from its page; lower a maximum by unticking; each takes effect at
// once, and the audit timeline lists the three actions.
func TestAdminConsoleBrowser(t *testing.T) {
	f := newConsoleFixture(t)
	ctx, console := newChrome(t, 90*time.Second)
	run := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("browser: %s: %v (console: %v)", what, err, console())
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("browser: text of %s: %v (console: %v)", sel, err, console())
		}
		return s
	}
	run("sign in",
		chromedp.Navigate(f.URL+"/admin"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testAdminToken),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("kill-switch")))
	if got := text("#stat-pending"); !strings.Contains(got, "0 pending") {
		t.Errorf("overview pending = %q", got)
	}

	// Kill switch: paste, see what it was, revoke in one click.
	leaked := f.accessA.AccessToken
	run("look up",
		chromedp.SendKeys(chromedp.ID("leaked-token"), leaked),
		chromedp.Click(chromedp.ID("lookup")),
		chromedp.WaitVisible(chromedp.ID("lookup-result")))
	for sel, want := range map[string]string{"#lk-kind": "access_token", "#lk-client": pgPluginID, "#lk-website": "site-1",
		"#lk-scopes": "website:people:data:read", "#lk-issued": "UTC"} {
		if got := text(sel); !strings.Contains(got, want) {
			t.Errorf("look-up %s = %q, want %q", sel, got, want)
		}
	}
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, leaked) || strings.Contains(location, leaked) {
		t.Fatal("the look-up page or its URL carries the pasted token")
	}
	run("revoke", chromedp.Click(chromedp.ID("revoke-grant")), chromedp.WaitVisible(chromedp.ID("counts")))
	if got := text("#counts"); !strings.Contains(got, "1 grant and 2 tokens revoked") {
		t.Errorf("kill switch counts = %q", got)
	}
	if f.active(t, leaked) || f.active(t, f.accessA.RefreshToken) {
		t.Fatal("the leaked token (or its refresh token) is still active after the kill switch")
	}
	if !f.active(t, f.accessB.AccessToken) {
		t.Fatal("the kill switch revoked another grant too")
	}

	// Suspend the client-credentials plugin from its page.
	if !f.active(t, f.ccToken) {
		t.Fatal("cc token inactive before suspension")
	}
	run("suspend",
		chromedp.Navigate(f.URL+"/admin/clients"),
		chromedp.WaitVisible(chromedp.ID("clients")),
		chromedp.Click(chromedp.CSS(`#client-`+f.ccID+` a`)),
		chromedp.WaitVisible(chromedp.ID("suspend")),
		chromedp.Click(chromedp.ID("suspend")),
		chromedp.WaitVisible(chromedp.ID("notice")),
		chromedp.WaitVisible(chromedp.ID("resume")))
	if got := text("#status"); got != "suspended" {
		t.Errorf("status after suspend = %q", got)
	}
	if f.active(t, f.ccToken) {
		t.Fatal("a suspended client's token is still active")
	}

	// Lower pg's maximum by unticking people:data:read; the next refresh
	// of grant B is narrowed.
	run("lower",
		chromedp.Navigate(f.URL+"/admin/clients/"+pgPluginID),
		chromedp.WaitVisible(chromedp.ID("approved")),
		chromedp.Click(chromedp.CSS(`input[value="website:people:data:read"]`)),
		chromedp.Click(chromedp.ID("save-maximum")),
		chromedp.WaitVisible(chromedp.ID("notice")))
	if got := text("#approved"); strings.Contains(got, "website:people:data:read") || !strings.Contains(got, "website:people:data:write") {
		t.Errorf("approved maximum on the page after unticking = %q", got)
	}
	expired := &oauth2.Token{AccessToken: f.accessB.AccessToken, RefreshToken: f.accessB.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	fresh, err := f.Config().TokenSource(testCtx(t), expired).Token()
	if err != nil {
		t.Fatalf("refresh after lowering: %v", err)
	}
	if got := fresh.Extra("scope"); got != "website:conversation:messages:write" {
		t.Errorf("refreshed scope = %q, want website:conversation:messages:write only", got)
	}

	// The audit timeline lists the three actions, newest first.
	run("audit", chromedp.Navigate(f.URL+"/admin/audit"), chromedp.WaitVisible(chromedp.ID("audit")))
	audit := text("#audit")
	i, j, k := strings.Index(audit, "client.maximum_lowered"), strings.Index(audit, "client.suspended"), strings.Index(audit, "revoke.grant")
	if i < 0 || j < 0 || k < 0 || i > j || j > k {
		t.Errorf("audit timeline lacks an action or is not newest first (%d %d %d):\n%s", i, j, k, audit)
	}
	run("audit filter", chromedp.SetValue(chromedp.ID("f-kind"), "client.suspended"), chromedp.Click(chromedp.ID("filter")),
		chromedp.WaitVisible(chromedp.ID("filtered")))
	if got := text("#audit"); !strings.Contains(got, f.ccID) || strings.Contains(got, "revoke.grant") {
		t.Errorf("audit filtered by kind = %q", got)
	}
	for _, m := range console() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused") {
			t.Errorf("console: %s", m)
		}
	}
	consoleScreens(t, ctx, f)
}

// consoleScreens loads every admin page at 390 and 1280 px: at 390 the
// document must not scroll sideways. With SCOPEGATE_SCREENSHOT_DIR set,
// each is saved there as a full-page PNG.
func consoleScreens(t *testing.T, ctx context.Context, f *consoleFixture) {
	dir := os.Getenv("SCOPEGATE_SCREENSHOT_DIR")
	// A pending scope request, so the queue shows its decision form.
	reviewID := f.admin.must(t, 201, http.MethodPost, "/admin/v1/reviews", map[string]any{"client_id": f.ccID, "lines": []map[string]string{
		{"scope": "bucket:url:read", "justification": "We list the invoices the plugin uploaded before."}}})["id"].(string)
	pages := []struct {
		name string
		acts []chromedp.Action[chromedp.Void]
	}{
		{"overview", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin"), chromedp.WaitVisible(chromedp.ID("kill-switch"))}},
		{"lookup", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin"), chromedp.WaitVisible(chromedp.ID("leaked-token")),
			chromedp.SendKeys(chromedp.ID("leaked-token"), f.ccToken), chromedp.Click(chromedp.ID("lookup")),
			chromedp.WaitVisible(chromedp.ID("lookup-result"))}},
		{"result", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin"), chromedp.WaitVisible(chromedp.ID("website-id")),
			chromedp.SendKeys(chromedp.ID("website-id"), "site-2"), chromedp.Click(chromedp.ID("revoke-website")),
			chromedp.WaitVisible(chromedp.ID("counts"))}},
		{"clients", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin/clients"), chromedp.WaitVisible(chromedp.ID("clients"))}},
		{"client", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin/clients/" + pgPluginID), chromedp.WaitVisible(chromedp.ID("approved"))}},
		{"client-suspended", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin/clients/" + f.ccID), chromedp.WaitVisible(chromedp.ID("resume"))}},
		{"audit", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin/audit"), chromedp.WaitVisible(chromedp.ID("audit"))}},
		{"review", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin/review"), chromedp.WaitVisible(chromedp.ID("line-" + reviewID + "-0"))}},
		{"history", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin/review/clients/" + f.ccID), chromedp.WaitVisible(chromedp.ID("approved"))}},
		{"error", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin/clients/no-such-client"), chromedp.WaitVisible(chromedp.ID("error"))}},
		{"login", []chromedp.Action[chromedp.Void]{chromedp.Navigate(f.URL + "/admin"), chromedp.WaitVisible(chromedp.ID("logout")),
			chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("token"))}},
	}
	for _, width := range []int64{390, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 844)); err != nil {
			t.Fatalf("viewport %d: %v", width, err)
		}
		for _, p := range pages {
			if p.name == "login" && width == 390 {
				continue // it signs out; checked last, at 1280, then at 390 below
			}
			shoot(t, ctx, dir, p.name, width, p.acts...)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, dir, "login", 390, chromedp.Navigate(f.URL+"/admin/login"), chromedp.WaitVisible(chromedp.ID("token")))
}

func shoot(t *testing.T, ctx context.Context, dir, name string, width int64, acts ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatalf("browser: page %s at %d px: %v", name, width, err)
	}
	scroll, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatalf("browser: scrollWidth of %s: %v", name, err)
	}
	var png []byte
	if dir != "" {
		if png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
			t.Fatalf("browser: screenshot of %s: %v", name, err)
		}
	}
	if width == 390 && scroll > 390 {
		t.Errorf("page %s at 390 px scrolls sideways: scrollWidth %d", name, scroll)
	}
	if dir != "" {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("admin-%s-%d.png", name, width)), png, 0o644); err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}
}
