package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/scopegate/scopegate/web/webtest"
	"golang.org/x/oauth2"
)

// newChrome starts Debian's headless chromium (see webtest.Chrome).
func newChrome(t *testing.T, limit time.Duration) (context.Context, func() []string) {
	t.Helper()
	return webtest.Chrome(t, limit)
}

// callbackRecorder is a plugin's redirect URI on loopback: it records each
// callback's query.
type callbackRecorder struct {
	*httptest.Server
	got chan url.Values
}

func newCallbackRecorder(t *testing.T) *callbackRecorder {
	t.Helper()
	cr := &callbackRecorder{got: make(chan url.Values, 4)}
	cr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case cr.got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>plugin</title><p id=done>received</p>"))
	}))
	t.Cleanup(cr.Close)
	return cr
}

func (cr *callbackRecorder) wait(t *testing.T, d time.Duration) url.Values {
	t.Helper()
	select {
	case q := <-cr.got:
		return q
	case <-time.After(d):
		t.Fatalf("no callback at the plugin's redirect URI within %s", d)
		return nil
	}
}

// browserFixture: the page fixture with a plugin whose redirect URI is a
// loopback callback recorder.
type browserFixture struct {
	*pageFixture
	cb       *callbackRecorder
	cbSecret string
}

const browserPluginID = "browser-plugin"

func newBrowserFixture(t *testing.T) *browserFixture {
	t.Helper()
	f := &browserFixture{pageFixture: newPageFixture(t), cb: newCallbackRecorder(t)}
	f.cbSecret = f.AddPlugin(t, browserPluginID, "Ticket Sync", []string{f.cb.URL + "/callback"}, pgApproved)
	return f
}

func (f *browserFixture) config() *oauth2.Config {
	return f.OAuthConfig(browserPluginID, f.cbSecret, f.cb.URL+"/callback", strings.Fields(pgRequested)...)
}

// connectInBrowser runs the whole flow in chromium: authorize URL, sign-in
// form, consent page with untick unticked, Approve, callback; then it
// exchanges the code and returns the token. shot, if set, receives a
// screenshot of the consent page.
func (f *browserFixture) connectInBrowser(t *testing.T, ctx context.Context, untick string, shot *[]byte) *oauth2.Token {
	t.Helper()
	conf := f.config()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))
	err := chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), pgEmail),
		chromedp.SendKeys(chromedp.ID("password"), pgPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.CSS(`input[name="consent_scope"][value="`+untick+`"]`)),
	)
	if err != nil {
		t.Fatalf("sign-in and consent: %v", err)
	}
	if shot != nil {
		if *shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
			t.Fatalf("screenshot: %v", err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("approve"))); err != nil {
		t.Fatalf("approve: %v", err)
	}
	q := f.cb.wait(t, 10*time.Second)
	if q.Get("state") != "browser-state" || q.Get("iss") != f.URL || q.Get("code") == "" {
		t.Fatalf("callback query = %v", q)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

func TestBrowserConsentUntickOneScope(t *testing.T) {
	f := newBrowserFixture(t)
	ctx, console := newChrome(t, 20*time.Second)
	untick := "website:people:data:write"
	var shot []byte
	tok := f.connectInBrowser(t, ctx, untick, &shot)

	var want []string
	for _, s := range strings.Fields(pgRequested) {
		if s != untick {
			want = append(want, s)
		}
	}
	wantScope := strings.Join(want, " ")
	if got := tok.Extra("scope"); got != wantScope {
		t.Fatalf("token scope = %q, want exactly the ticked %q", got, wantScope)
	}
	in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken)
	if !in.Active || in.Scope != wantScope || in.WebsiteID != "site-1" || in.ClientID != browserPluginID {
		t.Fatalf("introspection = %+v", in)
	}

	path := filepath.Join(t.TempDir(), "consent.png")
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SCOPEGATE_SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "consent.png"), shot, 0o600)
	}
	if len(shot) < 8 || string(shot[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(shot))
	}
	for _, m := range console() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
			t.Errorf("browser console: %s", m)
		}
	}
}

func TestBrowserConnectedPluginsDisconnect(t *testing.T) {
	f := newBrowserFixture(t)
	ctx, console := newChrome(t, 20*time.Second)
	tok := f.connectInBrowser(t, ctx, "website:conversation:sessions:read", nil)
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); !in.Active {
		t.Fatalf("token inactive before Disconnect: %+v", in)
	}

	var listed string
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.URL+"/account/plugins?website=site-1"),
		chromedp.WaitVisible(chromedp.CSS("li.grant")),
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			var err error
			listed, err = chromedp.Text(chromedp.CSS("ul.grants"))(ctx, t)
			return chromedp.Void{}, err
		},
	)
	if err != nil {
		t.Fatalf("connected plugins page: %v", err)
	}
	for _, want := range []string{"Ticket Sync", "browser-plugin", "Send messages in conversations", "READ", "WRITE", "Connected on"} {
		if !strings.Contains(listed, want) {
			t.Errorf("connected plugins page lacks %q in:\n%s", want, listed)
		}
	}
	if strings.Contains(listed, "See conversation metadata") {
		t.Errorf("the unticked scope is listed:\n%s", listed)
	}

	var notice string
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`li.grant form[action="/account/plugins/disconnect"] button`)),
		chromedp.WaitVisible(chromedp.ID("confirm-disconnect")),
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			// Asked, not done: the token still works on the confirmation page.
			if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); !in.Active {
				t.Errorf("token inactive before the Disconnect was confirmed")
			}
			return chromedp.Void{}, nil
		},
		chromedp.Click(chromedp.ID("confirm-disconnect")),
		chromedp.WaitVisible(chromedp.ID("no-grants")),
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			var err error
			notice, err = chromedp.Text(chromedp.CSS(`p.ok`))(ctx, t)
			return chromedp.Void{}, err
		},
	)
	if err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	if !strings.Contains(notice, "The plugin was disconnected.") {
		t.Errorf("notice = %q", notice)
	}
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); in.Active {
		t.Fatalf("access token active after Disconnect: %+v", in)
	}
	if gs := f.grants(t, "site-1"); len(gs) != 0 {
		t.Fatalf("live grants after Disconnect: %+v", gs)
	}
	for _, m := range console() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
			t.Errorf("browser console: %s", m)
		}
	}
}
