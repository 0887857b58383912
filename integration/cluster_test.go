package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/web/webtest"
)

// Scale-out proofs (issue 11): stateless scopegate instances on a Redis
// Cluster with replicas and on Sentinel; revocations that survive the
// failover of the primary that took them.

// waitFlags makes revocations and consumption wait for one replica.
var waitFlags = []string{"--redis-wait-replicas", "1", "--redis-wait-timeout", "1s"}

func clusterURL(addrs []string) string {
	u := "redis+cluster://" + addrs[0] + "?"
	for _, a := range addrs[1:] {
		u += "addr=" + a + "&"
	}
	return strings.TrimSuffix(u, "&")
}

// httpJSON sends a request and decodes a JSON answer; it never fails the
// test, so that it can run in a background goroutine.
func httpJSON(method, u, bearer string, basic *client, form url.Values, body any) (int, map[string]any, error) {
	var rd io.Reader
	ctype := ""
	switch {
	case form != nil:
		rd, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	case body != nil:
		b, _ := json.Marshal(body)
		rd, ctype = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if basic != nil {
		req.SetBasicAuth(url.QueryEscape(basic.ID), url.QueryEscape(basic.Secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, nil
}

// consentAcross signs the operator in on instance a, then runs the
// website choice, the consent and the code exchange on instance b: no
// sticky sessions. b must not ask the operator to sign in again.
func consentAcross(t *testing.T, a, b *server, c client, redirect, website string) *oauth2.Token {
	t.Helper()
	o := operatorOf(t, a)
	conf := &oauth2.Config{ClientID: c.ID, RedirectURL: redirect, Endpoint: oauth2.Endpoint{AuthURL: a.URL + "/oauth/authorize"}}
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	_, page := o.do("GET", authURL, nil)
	login := webtest.FindForm(t, page, "/login").Values()
	login.Set("email", "op@example.test")
	login.Set("password", "operator password 1")
	if resp, body := o.do("POST", "/login", login); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login on A: %d %s", resp.StatusCode, body)
	}
	o.s = b
	if _, page := o.do("GET", strings.Replace(authURL, a.URL, b.URL, 1), nil); strings.Contains(page, `action="/login"`) {
		t.Fatal("B asks the operator signed in on A to sign in again: sessions are not shared")
	}
	return o.tokens(c, redirect, website)
}

// adminRevoke revokes through s's admin API and returns the answer.
func (s *server) adminRevoke(t *testing.T, field, value string) map[string]any {
	t.Helper()
	code, m, err := httpJSON("POST", s.URL+"/admin/v1/revoke", adminToken, nil, nil, map[string]string{field: value})
	if err != nil || code != 200 {
		t.Fatalf("admin revoke %s: %d %v %v", field, code, m, err)
	}
	return m
}

// grantToken is one client-credentials grant: a plugin of its own and its
// access token.
type grantToken struct {
	plugin client
	token  string
	grant  string
}

// newGrant creates a plugin through s and gets its token.
func newGrant(t *testing.T, s *server, rs client, i int) grantToken {
	t.Helper()
	p := s.createClient(t, "--name", fmt.Sprintf("Plugin %d", i), "--grant-type", "client_credentials", "--approve", billWrite)
	tok, err := ccConfig(s, p).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := s.introspect(t, rs, tok.AccessToken)["grant_id"].(string)
	if gid == "" {
		t.Fatal("introspection gave no grant_id")
	}
	return grantToken{plugin: p, token: tok.AccessToken, grant: gid}
}

// watchIntrospection introspects the revoked tokens and the live one on
// every server in a loop until stop is closed, and records anything that
// is not "200 inactive" for a revoked token or not 200/503 at all: during
// a failover requests may fail closed with 503, never succeed wrongly.
func watchIntrospection(servers []*server, rs client, revoked []string, live string, stop <-chan struct{}) (wait func() (n int, bad []string)) {
	var (
		mu  sync.Mutex
		bad []string
		n   atomic.Int64
		wg  sync.WaitGroup
	)
	for _, s := range servers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := live
				if len(revoked) > 0 && i%2 == 0 {
					tok = revoked[i/2%len(revoked)]
				}
				code, m, err := httpJSON("POST", s.URL+"/oauth/introspect", "", &rs, url.Values{"token": {tok}}, nil)
				n.Add(1)
				wrong := ""
				switch {
				case err != nil:
					wrong = err.Error()
				case code == 503:
				case code != 200:
					wrong = fmt.Sprintf("status %d %v", code, m)
				case tok != live && m["active"] != false:
					wrong = fmt.Sprintf("revoked token answered %v", m)
				}
				if wrong != "" {
					mu.Lock()
					bad = append(bad, wrong)
					mu.Unlock()
				}
			}
		})
	}
	return func() (int, []string) {
		wg.Wait()
		return int(n.Load()), bad
	}
}

// untilActive polls until s introspects tok as active (status 200) and
// returns how long it took from since.
func untilActive(t *testing.T, s *server, rs client, tok string, since time.Time, bound time.Duration) time.Duration {
	t.Helper()
	for {
		code, m, err := httpJSON("POST", s.URL+"/oauth/introspect", "", &rs, url.Values{"token": {tok}}, nil)
		if err == nil && code == 200 && m["active"] == true {
			return time.Since(since)
		}
		if time.Since(since) > bound {
			t.Fatalf("%s: live token not active again within %v (last %d %v %v)", s.URL, bound, code, m, err)
		}
		time.Sleep(20 * time.Millisecond) // bounded polling
	}
}

// TestClusterInstancesAndFailover: two instances on a 3-primary, 3-replica
// Redis Cluster. A token issued via A is active on B, revoked via B,
// inactive on A at once; the code flow logs in on A and consents and
// exchanges on B. Then 20 grants held by one primary are revoked (each
// acknowledged by a replica: "durable": true), that primary is killed right
// after the last revocation returned, and after its replica's promotion
// none of the 20 is active again on either instance while a control grant
// in the same slot range is.
func TestClusterInstancesAndFailover(t *testing.T) {
	cl := redistest.StartReplicatedCluster(t)
	ru := clusterURL(cl.Addrs())
	a := startServerOn(t, ru, waitFlags...)
	b := startServerOn(t, ru, waitFlags...)
	plugin, rs := provision(t, a)
	ctx := context.Background()

	tok, err := ccConfig(a, plugin).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in := b.introspect(t, rs, tok.AccessToken); !active(in) {
		t.Fatalf("token issued via A not active on B: %v", in)
	}
	if m := b.adminRevoke(t, "token", tok.AccessToken); m["grants"] != 1.0 || m["durable"] != true {
		t.Fatalf("revoke via B: %v", m)
	}
	if in := a.introspect(t, rs, tok.AccessToken); active(in) {
		t.Fatalf("token revoked via B still active on A: %v", in)
	}

	// No sticky sessions: log in on A, consent and exchange on B.
	cb := "http://127.0.0.1:1/callback"
	a.cliJSON(t, "operator password 1\n", "operators", "create", "--email", "op@example.test", "--password-stdin", "--website", "site-1")
	web := a.createClient(t, "--name", "Web Plugin", "--redirect-uri", cb, "--grant-type", "authorization_code",
		"--grant-type", "refresh_token", "--approve", "website:people:data:read")
	wt := consentAcross(t, a, b, web, cb, "site-1")
	if in := a.introspect(t, rs, wt.AccessToken); !active(in) || in["website_id"] != "site-1" {
		t.Fatalf("code-flow token from B not active on A: %v", in)
	}

	// 20 grants on one primary, and a control grant there too.
	first := newGrant(t, a, rs, 0)
	target, err := cl.PrimaryFor(ctx, "sg:{g:"+first.grant+"}")
	if err != nil {
		t.Fatal(err)
	}
	var onTarget []grantToken
	for i := 1; len(onTarget) < 21; i++ {
		if i > 300 {
			t.Fatalf("only %d of %d grants landed on %s", len(onTarget), i, target.Addr)
		}
		g := newGrant(t, a, rs, i)
		if p, err := cl.PrimaryFor(ctx, "sg:{g:"+g.grant+"}"); err != nil {
			t.Fatal(err)
		} else if p == target {
			onTarget = append(onTarget, g)
		}
	}
	control, victims := onTarget[20], onTarget[:20]
	revoked := revokeDurably(t, b, victims)
	// Kill the primary right after the last revocation returned.
	killed := time.Now()
	target.Kill()

	stop := make(chan struct{})
	watched := watchIntrospection([]*server{a, b}, rs, revoked, control.token, stop)
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cl.WaitHealthy(hctx, []*redistest.Server{target}); err != nil {
		t.Fatal(err)
	}
	promoted := time.Since(killed)
	back := untilActive(t, a, rs, control.token, killed, 30*time.Second)
	backB := untilActive(t, b, rs, control.token, killed, 30*time.Second)
	close(stop)
	n := mustWatchClean(t, watched)
	assertNoneResurrected(t, []*server{a, b}, rs, victims)
	t.Logf("cluster failover: killed primary %s; replica promoted after %v; 200 again on A after %v, on B after %v; %d introspections during the switch, none wrong; 0 of 20 revocations resurrected",
		target.Addr, promoted.Round(time.Millisecond), back.Round(time.Millisecond), backB.Round(time.Millisecond), n)
}

// TestSentinelFailover: an instance configured with the master name keeps
// serving through the failover of the primary killed right after 20
// revocations: requests during the switch fail closed (503), none answers a
// revoked token active, and none of the 20 comes back.
func TestSentinelFailover(t *testing.T) {
	sn := redistest.StartSentinel(t)
	addrs := sn.SentinelAddrs()
	ru := fmt.Sprintf("redis+sentinel://%s?addr=%s&addr=%s&master_name=%s", addrs[0], addrs[1], addrs[2], sn.MasterName)
	a := startServerOn(t, ru, waitFlags...)
	b := startServerOn(t, ru, waitFlags...)
	_, rs := provision(t, a)

	var gs []grantToken
	for i := range 21 {
		gs = append(gs, newGrant(t, a, rs, i))
	}
	control, victims := gs[20], gs[:20]
	revoked := revokeDurably(t, b, victims)
	killed := time.Now()
	sn.Primary.Kill()

	stop := make(chan struct{})
	watched := watchIntrospection([]*server{a, b}, rs, revoked, control.token, stop)
	back := untilActive(t, a, rs, control.token, killed, 60*time.Second)
	backB := untilActive(t, b, rs, control.token, killed, 60*time.Second)
	close(stop)
	n := mustWatchClean(t, watched)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sn.WaitPrimaryIs(ctx, sn.Replica.Addr); err != nil {
		t.Fatal(err)
	}
	assertNoneResurrected(t, []*server{a, b}, rs, victims)
	// The new primary has no replica left: a revocation is in force but
	// reported not durable, and /readyz says degraded.
	if m := a.adminRevoke(t, "grant_id", control.grant); m["grants"] != 1.0 || m["durable"] != false {
		t.Fatalf("revoke without a replica: %v", m)
	}
	if code, m, err := httpJSON("GET", a.URL+"/readyz", "", nil, nil, nil); err != nil || code != 200 || m["status"] != "degraded" {
		t.Fatalf("/readyz without a replica: %d %v %v", code, m, err)
	}
	t.Logf("sentinel failover: 200 again on A after %v, on B after %v; %d introspections during the switch, none wrong; 0 of 20 revocations resurrected",
		back.Round(time.Millisecond), backB.Round(time.Millisecond), n)
}

// TestRevocationNotDurableSaysSo: told to wait for a replica that does not
// exist, the admin API answers "durable": false with a warning, the CLI
// prints a warning line, /readyz says degraded (and 503 once Redis is
// gone) while /healthz stays 200.
func TestRevocationNotDurableSaysSo(t *testing.T) {
	rd := redistest.Start(t)
	s := startServerOn(t, "redis://"+rd.Addr, "--redis-wait-replicas", "1", "--redis-wait-timeout", "50ms")
	plugin, rs := provision(t, s)
	tok, err := ccConfig(s, plugin).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := s.cli(t, tok.AccessToken+"\n", "revoke", "--token", "-")
	if code != 0 || !strings.Contains(out, "revoked 1 grant,") || !strings.Contains(errOut, "warning:") || !strings.Contains(errOut, "not yet durable") {
		t.Fatalf("CLI revoke without a replica: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if in := s.introspect(t, rs, tok.AccessToken); active(in) {
		t.Fatalf("a revocation not yet durable is not in force: %v", in)
	}
	tok2, err := ccConfig(s, plugin).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m := s.adminRevoke(t, "token", tok2.AccessToken); m["durable"] != false || m["warning"] == nil {
		t.Fatalf("admin API revoke without a replica: %v", m)
	}
	if code, m, err := httpJSON("GET", s.URL+"/readyz", "", nil, nil, nil); err != nil || code != 200 || m["status"] != "degraded" {
		t.Fatalf("/readyz without a replica: %d %v %v", code, m, err)
	}
	rd.Kill()
	if code, _, err := httpJSON("GET", s.URL+"/readyz", "", nil, nil, nil); err != nil || code != 503 {
		t.Fatalf("/readyz with Redis down: %d %v", code, err)
	}
	if code, _, err := httpJSON("GET", s.URL+"/healthz", "", nil, nil, nil); err != nil || code != 200 {
		t.Fatalf("/healthz with Redis down: %d %v", code, err)
	}
}

// BenchmarkClusterIntrospection reports introspection throughput through
// one scopegate instance and through two, on a Redis Cluster of three
// primaries with replicas: 16 concurrent callers, each request to the next
// instance in turn. Loopback only; on one machine the instances share its
// cores with Redis and the callers, so the ratio is a floor.
func BenchmarkClusterIntrospection(b *testing.B) {
	cl := redistest.StartReplicatedCluster(b)
	ru := clusterURL(cl.Addrs())
	servers := []*server{startServerOn(b, ru), startServerOn(b, ru)}
	plugin, rs := provision(b, servers[0])
	tok, err := ccConfig(servers[0], plugin).Token(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			var next atomic.Int64
			var failed atomic.Int64
			b.SetParallelism(8) // 8 x GOMAXPROCS callers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s := servers[int(next.Add(1))%n]
					code, m, err := httpJSON("POST", s.URL+"/oauth/introspect", "", &rs, url.Values{"token": {tok.AccessToken}}, nil)
					if err != nil || code != 200 || m["active"] != true {
						failed.Add(1)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "introspections/s")
			if f := failed.Load(); f > 0 {
				b.Fatalf("%d of %d introspections failed", f, b.N)
			}
		})
	}
}

// revokeDurably revokes each grant through s and demands a replica's
// acknowledgement; it returns the grants' access tokens.
func revokeDurably(t *testing.T, s *server, gs []grantToken) []string {
	t.Helper()
	var revoked []string
	for _, g := range gs {
		if m := s.adminRevoke(t, "grant_id", g.grant); m["grants"] != 1.0 || m["durable"] != true {
			t.Fatalf("revoke grant %s: %v (want durable: a replica acknowledged)", g.grant, m)
		}
		revoked = append(revoked, g.token)
	}
	return revoked
}

// mustWatchClean ends a watchIntrospection and fails the test if any
// introspection during the switch went wrong; it returns how many ran.
func mustWatchClean(t *testing.T, watched func() (int, []string)) int {
	t.Helper()
	n, bad := watched()
	if len(bad) > 0 {
		t.Fatalf("during the failover %d of %d introspections went wrong, first: %s", len(bad), n, bad[0])
	}
	return n
}

// assertNoneResurrected: no revoked grant's token is active on any server.
func assertNoneResurrected(t *testing.T, servers []*server, rs client, gs []grantToken) {
	t.Helper()
	resurrected := 0
	for _, g := range gs {
		for _, s := range servers {
			if active(s.introspect(t, rs, g.token)) {
				resurrected++
			}
		}
	}
	if resurrected != 0 {
		t.Fatalf("%d revoked tokens active again after the failover", resurrected)
	}
}
