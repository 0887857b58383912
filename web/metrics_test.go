package web

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// newMetricsEnv is an admin environment wired as serve wires it: one
// registry for the web server and the Redis hook.
func newMetricsEnv(t *testing.T, opts ...func(*Options)) (*adminEnv, *redistest.Server) {
	t.Helper()
	rs := redistest.Start(t)
	reg := prometheus.NewRegistry()
	rm, err := storage.NewRedisMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1})
	rdb.AddHook(rm)
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	t.Cleanup(func() { _ = store.Close() })
	wire := func(o *Options) { o.Registry, o.LeakedRate = reg, 1 }
	env := newTestEnvWithStore(t, store, append([]func(*Options){wire}, opts...)...)
	if err := store.AddAdminToken(tbCtx(t), testAdminToken, "tester"); err != nil {
		t.Fatal(err)
	}
	return &adminEnv{testEnv: env, AdminToken: testAdminToken}, rs
}

// scrape GETs /metrics and returns its text.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	return string(b)
}

// sample sums the samples of name whose labels include every one given
// (`key="value"`); -1 when there is none.
func sample(text, name string, labels ...string) float64 {
	sum, found := 0.0, false
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		sp := strings.LastIndexByte(rest, ' ')
		ok = true
		for _, l := range labels {
			ok = ok && strings.Contains(rest[:sp], l)
		}
		if v, err := strconv.ParseFloat(rest[sp+1:], 64); ok && err == nil {
			sum, found = sum+v, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

// TestMetricsMoveWithTraffic scrapes /metrics before and after some traffic
// and checks that every family of the web server and the Redis hook exists
// and moved, and that no client ID or token became a label.
func TestMetricsMoveWithTraffic(t *testing.T) {
	e, rs := newMetricsEnv(t)
	id, secret := e.createPlugin(t, "plugin:subscription:bill:read")
	rsID, rsSecret := e.createResourceServer(t)
	before := scrape(t, e.URL)

	tok := e.ccToken(t, id, secret)
	if in := e.Introspect(t, rsID, rsSecret, tok); !in.Active {
		t.Fatalf("introspection: %+v", in)
	}
	form := url.Values{"token": {tok}}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/oauth/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("RFC 7009 revoke: %v %v", resp, err)
	}
	e.must(t, http.StatusOK, http.MethodPost, "/admin/v1/revoke", map[string]any{"client_id": id})
	// A leak report, then one over the limit (LeakedRate 1 a minute).
	now := time.Now()
	g := storage.Grant{ID: token.NewID(), ClientID: id, Scopes: scopes.MustParse("plugin:subscription:bill:read"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	leaked := token.New(token.Access, g.ID)
	if err := e.Store.CreateGrant(tbCtx(t), g); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.IssueTokens(tbCtx(t), storage.NewToken{Value: leaked, Token: storage.Token{Kind: token.Access, GrantID: g.ID, ClientID: id,
		Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{http.StatusAccepted, http.StatusTooManyRequests} {
		resp, err := http.PostForm(e.URL+"/oauth/leaked", url.Values{"token": {leaked}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("leak report: status %d, want %d", resp.StatusCode, want)
		}
	}
	after := scrape(t, e.URL)

	for _, m := range []struct {
		name   string
		labels []string
	}{
		{"scopegate_http_requests_total", []string{`route="/oauth/token"`, `status="200"`}},
		{"scopegate_http_request_duration_seconds_count", []string{`route="/oauth/introspect"`}},
		{"scopegate_oauth_requests_total", []string{`endpoint="introspect"`, `status="200"`}},
		{"scopegate_oauth_request_duration_seconds_count", []string{`endpoint="token"`}},
		{"scopegate_revocations_total", []string{`kind="rfc7009"`}},
		{"scopegate_revocations_total", []string{`kind="admin_client"`}},
		{"scopegate_revocations_total", []string{`kind="leak"`}},
		{"scopegate_rate_limited_total", []string{`limit="leaked_addr"`}},
		{"scopegate_redis_round_trip_seconds_count", []string{`cmd="evalsha"`}},
		{"scopegate_redis_round_trip_seconds_count", []string{`cmd="multi"`}},
	} {
		b, a := max(sample(before, m.name, m.labels...), 0), sample(after, m.name, m.labels...)
		if a <= b {
			t.Errorf("%s%v: %v before, %v after the traffic; want it to move", m.name, m.labels, b, a)
		}
	}
	for _, secretish := range []string{id, tok, leaked, secret} {
		if strings.Contains(after, secretish) {
			t.Errorf("/metrics shows %q", secretish)
		}
	}

	// Redis gone: the introspection fails closed (503) and the error is
	// counted.
	rs.Kill()
	if r := e.raw(t, http.MethodPost, "/oauth/introspect", "application/x-www-form-urlencoded",
		[]byte(url.Values{"token": {tok}}.Encode()), map[string]string{"Authorization": basic(rsID, rsSecret)}); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("introspection without Redis: status %d, want 503", r.Status)
	}
	if n := sample(scrape(t, e.URL), "scopegate_redis_errors_total"); n <= 0 {
		t.Errorf("scopegate_redis_errors_total = %v after Redis died, want > 0", n)
	}
}

func basic(id, secret string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(id, secret)
	return r.Header.Get("Authorization")
}

// TestPprofBehindFlagAndAdminToken: off by default (404); on, it wants the
// admin token (401 without) and serves the profiles with it.
func TestPprofBehindFlagAndAdminToken(t *testing.T) {
	off := newAdminTestEnv(t)
	if r := off.api(t, http.MethodGet, "/admin/debug/pprof/", nil); r.Status != http.StatusNotFound {
		t.Errorf("pprof off, with the admin token: status %d, want 404", r.Status)
	}
	on := newAdminTestEnv(t, func(o *Options) { o.Pprof = true })
	if r := on.raw(t, http.MethodGet, "/admin/debug/pprof/", "", nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("pprof on, no token: status %d, want 401", r.Status)
	}
	if r := on.raw(t, http.MethodGet, "/admin/debug/pprof/heap", "", nil, map[string]string{"Authorization": "Bearer wrong-token-0123456789abcdefghijklmnop"}); r.Status != http.StatusUnauthorized {
		t.Errorf("pprof on, wrong token: status %d, want 401", r.Status)
	}
	for _, path := range []string{"/admin/debug/pprof/", "/admin/debug/pprof/goroutine?debug=1", "/admin/debug/pprof/heap", "/admin/debug/pprof/cmdline"} {
		r := on.api(t, http.MethodGet, path, nil)
		if r.Status != http.StatusOK || len(r.Body) == 0 {
			t.Errorf("pprof on, admin token: GET %s: status %d, %d bytes; want 200 with a body", path, r.Status, len(r.Body))
		}
	}
	if r := on.api(t, http.MethodGet, "/admin/debug/pprof/goroutine?debug=1", nil); !strings.Contains(string(r.Body), "goroutine") {
		t.Errorf("goroutine profile does not look like one: %.200s", r.Body)
	}
}
