// Package webtest holds test support shared by scopegate's web and
// integration tests: a headless Debian Chromium driven by chromedp. It is
// imported only from tests.
package webtest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian installs chromium.
const ChromiumPath = "/usr/bin/chromium"

// Chrome starts Debian's headless chromium with a fresh profile and
// returns a chromedp context bounded by limit, plus a func that reports the
// console messages seen so far (CSP violations show up there).
func Chrome(t testing.TB, limit time.Duration) (context.Context, func() []string) {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatal("chromium not found: run make test (installs Debian's chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 1400),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// The first Run starts the browser; it must not carry the test's
	// deadline (that would stop the browser), so it runs on bctx itself.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("chromium: cannot start %s: %v", ChromiumPath, err)
	}
	var mu sync.Mutex
	var console []string
	msgs := chromedp.Console(bctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(bctx, limit)
	t.Cleanup(cancel)
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), console...)
	}
}
