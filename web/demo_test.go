package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPageDemo(t *testing.T) {
	f := newPageFixture(t, func(o *Options) { o.Demo = true })
	f.AddPlugin(t, demoClientID, "Demo Helpdesk Plugin", []string{f.URL + "/demo/callback"}, pgApproved)
	b := f.NewBrowser(t)
	demo := b.Get("/demo")
	if demo.StatusCode != http.StatusOK || !strings.Contains(demo.Body, "Connect the demo plugin") {
		t.Fatalf("/demo: status %d", demo.StatusCode)
	}
	connect := b.Get("/demo/connect")
	if connect.StatusCode != http.StatusFound {
		t.Fatalf("/demo/connect: status %d", connect.StatusCode)
	}
	ck := findSetCookie(connect, demoCookie)
	if ck == nil || !ck.HttpOnly || ck.Path != "/demo" {
		t.Fatalf("demo cookie = %+v", ck)
	}
	loc, _ := url.Parse(connect.Header.Get("Location"))
	q := loc.Query()
	if loc.Path != "/oauth/authorize" || q.Get("client_id") != demoClientID || q.Get("redirect_uri") != f.URL+"/demo/callback" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") == "" {
		t.Fatalf("demo authorize URL = %s", loc)
	}
	page := b.FollowSignIn(b.Get(loc.String()), pgEmail, pgPassword)
	cb := submitConsent(b, page, "approve", []string{"website:people:data:read"}, nil)
	if cb.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: status %d, want 303", cb.StatusCode)
	}
	res := b.Get(cb.Header.Get("Location"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/demo/callback: status %d", res.StatusCode)
	}
	state, verifier, _ := strings.Cut(ck.Value, ".")
	if state != q.Get("state") {
		t.Fatalf("demo cookie state %q, authorize state %q", state, q.Get("state"))
	}
	code := mustQuery(t, cb.Header.Get("Location")).Get("code")
	for _, want := range []string{
		"-d code=" + code, "-d code_verifier=" + verifier, "--data-urlencode redirect_uri=" + f.URL + "/demo/callback",
		`-u &#34;demo-plugin:$DEMO_PLUGIN_SECRET&#34;`, "<code>state</code> matches",
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("callback page lacks %q:\n%s", want, res.Body)
		}
	}
	assertPageHeaders(t, res)

	// Without --demo there are no demo pages.
	off := newPageFixture(t)
	if r := off.NewBrowser(t).Get("/demo"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("/demo without Demo: status %d, want 404", r.StatusCode)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
