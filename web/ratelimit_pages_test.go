package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
)

// Twenty-one (here 30) successful sign-ins from one office address in a
// minute are all fine; failures are limited per account (other accounts
// on the address unaffected) and per address.
func TestRateLimitLoginsCountOnlyFailures(t *testing.T) {
	f := newPageFixture(t, trustLoopback, func(o *Options) { o.Limits.LoginPerAccount, o.Limits.LoginPerAddr = 5, 8 })
	f.AddOperator(t, "bob@example.com", pgPassword, "site-1")
	office := func() *testBrowser {
		b := f.NewBrowser(t)
		b.c.Transport = xffTransport("203.0.113.9")
		return b
	}
	for i := range 30 {
		b := office()
		if r := b.SignIn(b.Get("/login"), pgEmail, pgPassword); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("successful sign-in %d: status %d, want 303", i+1, r.StatusCode)
		}
	}
	b := office()
	login := b.Get("/login")
	for i := range 5 {
		if r := b.SignIn(login, pgEmail, "wrong"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: status %d, want 422", i+1, r.StatusCode)
		}
	}
	r := b.SignIn(login, pgEmail, pgPassword)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "Too many failed sign-in attempts") {
		t.Fatalf("account over its limit: %d Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if strings.Contains(r.Body, "Wrong e-mail or password") {
		t.Fatal("the 429 page says whether the password was right")
	}
	// Bob, same office: unaffected.
	if r := b.SignIn(login, "bob@example.com", pgPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("another account from the same address: %d", r.StatusCode)
	}
	// Per address: 8 failures over many accounts, then even a right
	// password from that address waits; another address does not.
	sprayer := f.NewBrowser(t)
	sprayer.c.Transport = xffTransport("192.0.2.66")
	sl := sprayer.Get("/login")
	// Each unknown e-mail costs a bcrypt comparison, so on a slow machine
	// the bucket drains a little meanwhile: spray until refused.
	refused := false
	for i := 0; i < 30 && !refused; i++ {
		switch r := sprayer.SignIn(sl, "nobody"+strconv.Itoa(i)+"@example.com", "x"); {
		case r.StatusCode == http.StatusTooManyRequests:
			refused = i >= 8
			if !refused {
				t.Fatalf("spray %d refused before the limit of 8", i+1)
			}
		case r.StatusCode != http.StatusUnprocessableEntity:
			t.Fatalf("spray %d: %d", i+1, r.StatusCode)
		}
	}
	if !refused {
		t.Fatal("30 failed sign-ins from one address were never refused")
	}
	if r := sprayer.SignIn(sl, "bob@example.com", pgPassword); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("address over its limit: %d, want 429", r.StatusCode)
	}
	if r := office().SignIn(office().Get("/login"), "bob@example.com", pgPassword); r.StatusCode == http.StatusTooManyRequests {
		t.Fatal("another address was limited")
	}
}

type xffTransport string

func (x xffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(x))
	return http.DefaultTransport.RoundTrip(r)
}

// Two web servers over one Redis share the count: 5 failures on each
// (limit 10 per address), then both refuse.
func TestRateLimitSharedByInstances(t *testing.T) {
	addr := redistest.StartServer(t)
	newStore := func() storage.Store {
		s := storage.NewRedis(redis.NewClient(&redis.Options{Addr: addr}), storage.RedisOptions{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	ten := func(o *Options) { o.TrustedProxies, o.Limits.OAuthPerAddr = []string{"127.0.0.1"}, 10 }
	a := newTestEnvWithStore(t, newStore(), ten)
	b := newTestEnvWithStore(t, newStore(), ten)
	a.AddPlugin(t, "p1", "P1", []string{"https://p1.example/cb"}, "website:people:data:read")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"sgr_guess"}}
	for i := range 5 {
		for name, e := range map[string]*testEnv{"a": a, "b": b} {
			if r := postFrom(t, e.URL, "/oauth/token", "198.51.100.30", "p1", "wrong", form); r.status != http.StatusUnauthorized {
				t.Fatalf("server %s attempt %d: %d %s", name, i+1, r.status, r.body)
			}
		}
	}
	assertRateLimited(t, "server a", postFrom(t, a.URL, "/oauth/token", "198.51.100.30", "p1", "wrong", form))
	assertRateLimited(t, "server b", postFrom(t, b.URL, "/oauth/token", "198.51.100.30", "p1", "wrong", form))
}

// Admin-token failures: 429 in the admin API's JSON after the limit; a
// right token from another address still works.
func TestRateLimitAdminTokens(t *testing.T) {
	e := newTestEnv(t, trustLoopback, func(o *Options) { o.Limits.AdminPerAddr = 5 })
	good := strings.Repeat("a", 40)
	if err := e.Store.AddAdminToken(testCtx(t), good, "tester"); err != nil {
		t.Fatal(err)
	}
	get := func(addr, tok string) rawAnswer {
		req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.URL+"/admin/v1/clients", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Forwarded-For", addr)
		return doRaw(t, req)
	}
	for i := range 50 {
		if r := get("198.51.100.40", good); r.status != http.StatusOK {
			t.Fatalf("good token %d: %d", i, r.status)
		}
	}
	for i := range 5 {
		if r := get("198.51.100.41", "wrong-"+strconv.Itoa(i)); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d %s", i+1, r.status, r.body)
		}
	}
	assertRateLimited(t, "admin API over the limit", get("198.51.100.41", good))
	if r := get("198.51.100.40", good); r.status != http.StatusOK {
		t.Fatalf("another address: %d %s", r.status, r.body)
	}
}
