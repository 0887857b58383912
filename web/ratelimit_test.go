package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// trustLoopback makes the test server believe X-Forwarded-For from
// loopback, so one test can speak from many source addresses.
func trustLoopback(o *Options) { o.TrustedProxies = []string{"127.0.0.1"} }

type rawAnswer struct {
	status int
	header http.Header
	body   string
	err    string // the JSON "error" member, if any
}

// postFrom posts form to path from source address addr (X-Forwarded-For),
// with HTTP Basic credentials when id is set.
func postFrom(t *testing.T, base, path, addr, id, secret string, form url.Values) rawAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return doRaw(t, req)
}

// doRaw sends req and reads the answer, with the error code of a JSON
// error body.
func doRaw(t *testing.T, req *http.Request) rawAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: string(b), err: e.Error}
}

// assertRateLimited checks a 429 in RFC 6749 §5.2 shape with Retry-After.
func assertRateLimited(t *testing.T, what string, a rawAnswer) {
	t.Helper()
	if a.status != http.StatusTooManyRequests || a.err != "temporarily_unavailable" {
		t.Fatalf("%s: %d %s, want 429 temporarily_unavailable", what, a.status, a.body)
	}
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("%s: Retry-After %q, want 1..60 seconds", what, a.header.Get("Retry-After"))
	}
}

// liveRefresh stores a grant for client with a live refresh token.
func liveRefresh(t *testing.T, e *testEnv, client string) string {
	t.Helper()
	now := time.Now()
	g := storage.Grant{ID: token.NewID(), ClientID: client, WebsiteID: "site-1", OperatorID: "op-1",
		Scopes: scopes.MustParse("website:people:data:read"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.Store.CreateGrant(testCtx(t), g); err != nil {
		t.Fatal(err)
	}
	rt := token.New(token.Refresh, g.ID)
	if err := e.Store.IssueTokens(testCtx(t), storage.NewToken{Value: rt, Token: storage.Token{Kind: token.Refresh, GrantID: g.ID,
		ClientID: client, Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	return rt
}

// 120 wrong client secrets from one address: the first ones get
// invalid_client, then 429 before any secret is compared. Another client
// from another address is unaffected; a strict client (x/oauth2) reads the
// 429 as an RFC 6749 error.
func TestRateLimitWrongClientSecrets(t *testing.T) {
	e := newTestEnv(t, trustLoopback)
	e.AddPlugin(t, "p1", "P1", []string{"https://p1.example/cb"}, "website:people:data:read")
	p2 := e.AddPlugin(t, "p2", "P2", []string{"https://p2.example/cb"}, "website:people:data:read")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token.New(token.Refresh, token.NewID())}}
	// The burst (the default 60) answers invalid_client; after it, GCRA
	// lets one more failure through per second, so a slow machine sees a
	// few more 401s among the 429s.
	var limited int
	for i := range 120 {
		a := postFrom(t, e.URL, "/oauth/token", "198.51.100.1", "p1", "wrong-secret-"+strconv.Itoa(i), form)
		switch {
		case a.status == http.StatusUnauthorized && (i < DefaultOAuthPerAddr || limited > 0):
		case a.status == http.StatusTooManyRequests && i >= DefaultOAuthPerAddr:
			assertRateLimited(t, "attempt "+strconv.Itoa(i+1), a)
			limited++
		default:
			t.Fatalf("attempt %d: %d %s", i+1, a.status, a.body)
		}
	}
	if limited < 40 {
		t.Fatalf("only %d of the 60 attempts past the limit got 429", limited)
	}
	// Another client from another address: its own wrong secret is a
	// plain invalid_client, its right one works.
	if a := postFrom(t, e.URL, "/oauth/token", "198.51.100.2", "p2", "wrong", form); a.status != http.StatusUnauthorized {
		t.Fatalf("other client and address: %d %s, want 401", a.status, a.body)
	}
	ok := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {liveRefresh(t, e, "p2")}}
	if a := postFrom(t, e.URL, "/oauth/token", "198.51.100.2", "p2", p2, ok); a.status != http.StatusOK {
		t.Fatalf("other client's refresh: %d %s", a.status, a.body)
	}
	// The same address with another client is refused too (per address).
	assertRateLimited(t, "same address, other client", postFrom(t, e.URL, "/oauth/token", "198.51.100.1", "p2", p2, ok))

	// golang.org/x/oauth2 surfaces the 429 as a RetrieveError.
	cfg := e.OAuthConfig("p1", "still-wrong", "https://p1.example/cb")
	ts := cfg.TokenSource(testCtx(t), &oauth2.Token{RefreshToken: form.Get("refresh_token")})
	_, err := ts.Token()
	var re *oauth2.RetrieveError
	// x/oauth2 speaks from 127.0.0.1: p1 is over its per-client limit.
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusTooManyRequests || re.ErrorCode != "temporarily_unavailable" {
		t.Fatalf("x/oauth2: %v, want a 429 RetrieveError with temporarily_unavailable", err)
	}

	resp, err := http.Get(e.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(m), `scopegate_rate_limited_total{limit="oauth_addr"}`) {
		t.Fatalf("metrics lack scopegate_rate_limited_total{limit=\"oauth_addr\"}:\n%s", m)
	}
}

// 120 guessed refresh tokens with the right client secret: invalid_grant,
// then 429. Successful use (150 introspections by a resource server from
// the same address) never counts.
func TestRateLimitGuessedRefreshTokens(t *testing.T) {
	// 5 a minute per client: one failure drains every 12 s, so the test
	// does not race the clock.
	e := newTestEnv(t, trustLoopback, func(o *Options) { o.Limits.OAuthPerClient = 5 })
	p1 := e.AddPlugin(t, "p1", "P1", []string{"https://p1.example/cb"}, "website:people:data:read")
	rsSecret := e.AddResourceServer(t, "rs")
	live := liveRefresh(t, e, "p1")
	for i := range 150 {
		a := postFrom(t, e.URL, "/oauth/introspect", "198.51.100.7", "rs", rsSecret, url.Values{"token": {"sga_nothing"}})
		if a.status != http.StatusOK {
			t.Fatalf("introspection %d: %d %s", i+1, a.status, a.body)
		}
	}
	for i := range 120 {
		guess := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token.New(token.Refresh, token.NewID())}}
		a := postFrom(t, e.URL, "/oauth/token", "198.51.100.7", "p1", p1, guess)
		switch {
		case i < 5 && a.status == http.StatusBadRequest && a.err == "invalid_grant":
		case i >= 5 && a.status == http.StatusTooManyRequests:
			assertRateLimited(t, "guess "+strconv.Itoa(i+1), a)
		default:
			t.Fatalf("guess %d: %d %s", i+1, a.status, a.body)
		}
	}
	// Over the limit, even the real refresh token is refused (the limit
	// is checked before the token is looked at; per client, so from any
	// address) and stays unused.
	real := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {live}}
	assertRateLimited(t, "real token over the limit", postFrom(t, e.URL, "/oauth/token", "198.51.100.8", "p1", p1, real))
	if !e.Introspect(t, "rs", rsSecret, live).Active {
		t.Fatal("the refused refresh token was consumed")
	}
}

// When the limiter cannot answer, a failure is refused (503) and a
// success is not blocked. The limiter here is a real Redis store whose
// server has died; the token store is live.
func TestRateLimitFailsClosedForFailuresOnly(t *testing.T) {
	srv := redistest.Start(t)
	dead := storage.NewRedis(redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialerRetries: 1}), storage.RedisOptions{})
	t.Cleanup(func() { _ = dead.Close() })
	srv.Kill()
	f := newPageFixture(t, func(o *Options) { o.Limiter = dead })
	if a := postFrom(t, f.URL, "/oauth/introspect", "", pgRSID, f.RSSecret, url.Values{"token": {"sga_x"}}); a.status != http.StatusOK {
		t.Fatalf("right secret with the limiter down: %d %s", a.status, a.body)
	}
	a := postFrom(t, f.URL, "/oauth/introspect", "", pgRSID, "wrong", url.Values{"token": {"sga_x"}})
	if a.status != http.StatusServiceUnavailable || a.err != "temporarily_unavailable" || a.header.Get("Retry-After") == "" {
		t.Fatalf("wrong secret with the limiter down: %d %s %q, want 503 temporarily_unavailable", a.status, a.body, a.header.Get("Retry-After"))
	}
	b := f.NewBrowser(t)
	if r := b.SignIn(b.Get("/login"), pgEmail, "wrong"); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("failed sign-in with the limiter down: %d, want 503", r.StatusCode)
	}
	if r := b.SignIn(b.Get("/login"), pgEmail, pgPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the limiter down: %d, want 303", r.StatusCode)
	}
}
