package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scopegate/scopegate/storage"
)

// phoneWidth is the narrowest viewport the operator pages are made for (an
// iPhone 12 to 15 in CSS pixels).
const phoneWidth = 390

// pageWidth returns document.documentElement.scrollWidth: wider than the
// viewport means the page scrolls sideways.
func pageWidth(ctx context.Context) (int, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
}

// fitsPhone checks the current page at 390 px and, when
// SCOPEGATE_SCREENSHOT_DIR is set, saves it at 390 and 1280 px.
func fitsPhone(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	w, err := pageWidth(ctx)
	if err != nil {
		t.Fatalf("%s: scrollWidth: %v", name, err)
	}
	if w > phoneWidth {
		t.Errorf("%s: page is %d px wide at a %d px viewport (it scrolls sideways)", name, w, phoneWidth)
	}
	dir := os.Getenv("SCOPEGATE_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	for _, vw := range []int64{phoneWidth, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(vw, 900)); err != nil {
			t.Fatal(err)
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot at %d px: %v", name, vw, err)
		}
		_ = os.WriteFile(filepath.Join(dir, name+"-"+itoa(int(vw))+".png"), shot, 0o600)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, 844)); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserOperatorPagesFitAPhone walks every operator page in chromium
// at 390 px — sign-in, home, demo, website picker, consent, demo callback
// with its curl commands, connected plugins, the Disconnect confirmation,
// an error page —
// with long names, IDs and URLs, and checks none is wider than the screen.
func TestBrowserOperatorPagesFitAPhone(t *testing.T) {
	f := newPageFixture(t, func(o *Options) { o.Demo = true })
	longSite := "website-with-a-very-long-identifier-0123456789abcdefghijklmnopqrstuvwxyz"
	f.AddWebsite(t, longSite, "A website whose name is long enough to need wrapping on a phone")
	email := "operator.with.a.rather.long.address@example-company-domain.test"
	f.AddOperator(t, email, pgPassword, longSite, "site-1")
	f.AddPlugin(t, demoClientID, "Demo Helpdesk Plugin With A Long Name", []string{f.URL + "/demo/callback"}, pgApproved)
	_, err := f.Store.UpdateClient(testCtx(t), demoClientID, func(c storage.Client) (storage.Client, error) {
		c.Publisher = "Publisher Incorporated International Holdings"
		c.HomepageURL = "https://plugin.example/a/very/long/homepage/path/that/goes/on/and/on/0123456789"
		c.PrivacyURL = "https://plugin.example/privacy-policy-with-a-long-slug-0123456789abcdefghij"
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, console := newChrome(t, 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, 844)); err != nil {
		t.Fatal(err)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fitsPhone(t, ctx, name)
	}
	step("home-signed-out", chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)))
	step("demo", chromedp.Navigate(f.URL+"/demo"), chromedp.WaitVisible(chromedp.CSS(`form[action="/demo/connect"]`)))
	step("login",
		chromedp.Click(chromedp.CSS(`form[action="/demo/connect"] button`)),
		chromedp.WaitVisible(chromedp.ID("email")))
	step("picker",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), pgPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="website_id"]`)))
	step("consent",
		chromedp.Click(chromedp.CSS(`form[action="/oauth/authorize"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("approve")))
	step("demo-callback",
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("curl-token")))
	step("home", chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`ul.links`)))
	step("plugins",
		chromedp.Navigate(f.URL+"/account/plugins?website="+longSite),
		chromedp.WaitVisible(chromedp.CSS(`li.grant`)))
	step("disconnect-confirm",
		chromedp.Click(chromedp.CSS(`li.grant form[action="/account/plugins/disconnect"] button`)),
		chromedp.WaitVisible(chromedp.ID("confirm-disconnect")))
	step("error",
		chromedp.Navigate(f.URL+"/oauth/authorize?response_type=code&client_id=no-such-plugin-with-a-rather-long-identifier-0123456789&redirect_uri=https%3A%2F%2Fexample.com%2Fcallback%2Fwith%2Fa%2Flong%2Fpath%2F0123456789abcdefghijklmnopqrstuvwxyz"),
		chromedp.WaitVisible(chromedp.CSS(`p.error`)))
	for _, m := range console() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
			t.Errorf("browser console: %s", m)
		}
	}
}
