package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/web/webtest"
)

// durableArgs is the Redis persistence the README asks for on Redis 7.0
// (no WAITAOF): an append-only file fsynced before every reply.
var durableArgs = []string{"--appendonly", "yes", "--appendfsync", "always"}

// durableRedis starts a redis-server with durableArgs.
func durableRedis(t *testing.T) *redistest.Server {
	t.Helper()
	return redistest.Start(t, durableArgs...)
}

// checkFailClosed is the contract for every answer while Redis is failing:
// 2xx, 4xx, or 503 with Retry-After (and temporarily_unavailable when the
// body is JSON); never another 5xx. It returns a problem or "".
func checkFailClosed(what string, r reply) string {
	switch {
	case r.status >= 500 && r.status != http.StatusServiceUnavailable:
		return fmt.Sprintf("%s: %d %.200s", what, r.status, r.raw)
	case r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "":
		return what + ": 503 without Retry-After"
	case r.status == http.StatusServiceUnavailable && r.body != nil && r.errCode() != "temporarily_unavailable":
		return fmt.Sprintf("%s: 503 with error %q", what, r.errCode())
	case r.status == http.StatusServiceUnavailable && r.body != nil && r.body["active"] != nil:
		return fmt.Sprintf("%s: 503 carrying an introspection answer: %s", what, r.raw)
	}
	return ""
}

func (s *server) get(hc *http.Client, path string) (reply, error) {
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	return send(hc, req)
}

// TestRedisOutageMidLoad stops Redis (SIGKILL) under load and brings it
// back on the same port and data directory. While it is down, token,
// revocation, introspection and admin calls answer 503
// temporarily_unavailable with Retry-After, pages (the consent flow's and
// the admin console's) 503 with Retry-After, /readyz 503; a revoked token is never called active, a live one is never
// called inactive; no 500, no panic. When Redis is back the same process
// serves again, with the data it had.
func TestRedisOutageMidLoad(t *testing.T) {
	rd := durableRedis(t)
	s := startServerOn(t, "redis://"+rd.Addr)
	plugin, rs := provision(t, s)
	hc := apiClient()
	ctx := context.Background()
	live, err := ccConfig(s, plugin).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := ccConfig(s, plugin).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revoke(t, s, plugin, dead.AccessToken)

	unknownClientPage := "/oauth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"no-such-client"},
		"redirect_uri": {raceCallback}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode()
	calls := []struct {
		name string
		do   func() (reply, error)
	}{
		{"token", func() (reply, error) {
			return s.postAs(hc, "/oauth/token", plugin, url.Values{"grant_type": {"client_credentials"}})
		}},
		{"introspect live", func() (reply, error) {
			return s.postAs(hc, "/oauth/introspect", rs, url.Values{"token": {live.AccessToken}})
		}},
		{"introspect revoked", func() (reply, error) {
			return s.postAs(hc, "/oauth/introspect", rs, url.Values{"token": {dead.AccessToken}})
		}},
		{"revoke", func() (reply, error) {
			return s.postAs(hc, "/oauth/revoke", plugin, url.Values{"token": {dead.AccessToken}})
		}},
		{"admin", func() (reply, error) { return s.adminAPI(hc, "GET", "/clients/"+url.PathEscape(plugin.ID), nil) }},
		{"page", func() (reply, error) { return s.get(hc, unknownClientPage) }},
	}
	// contract holds for every answer, whether Redis is up or down.
	contract := func(name string, r reply) string {
		if p := checkFailClosed(name, r); p != "" {
			return p
		}
		switch {
		case name == "introspect revoked" && r.status == 200 && active(r.body):
			return "the revoked token was called active"
		case name == "introspect live" && r.status == 200 && !active(r.body):
			return "the live token was called inactive"
		}
		return ""
	}

	var (
		mu       sync.Mutex
		problems []string
		seen     = map[string]int{}
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := calls[i%len(calls)]
				r, err := c.do()
				mu.Lock()
				if err != nil {
					problems = append(problems, c.name+": "+err.Error())
				} else if p := contract(c.name, r); p != "" {
					problems = append(problems, p)
				} else {
					seen[fmt.Sprintf("%s %d", c.name, r.status)]++
				}
				mu.Unlock()
			}
		}()
	}
	loaded := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return seen["token 200"] >= n }
	}
	eventually(t, 10*time.Second, "load running", loaded(10))

	rd.Kill()
	// Redis is gone: every call that needs it fails closed.
	for _, c := range calls {
		r, err := c.do()
		if err != nil {
			t.Fatalf("%s with Redis down: %v", c.name, err)
		}
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s with Redis down: %d %.200s, want 503", c.name, r.status, r.raw)
		}
		if p := contract(c.name, r); p != "" {
			t.Error(p)
		}
	}
	if r, err := s.get(hc, "/readyz"); err != nil || r.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down: %d %v", r.status, err)
	}
	// The admin console's sign-in needs Redis to check the admin token.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	r, err := s.get(browser, "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	login := webtest.FindForm(t, r.raw, "/admin/login").Values()
	login.Set("token", adminToken)
	req, _ := http.NewRequest("POST", s.URL+"/admin/login", strings.NewReader(login.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r, err := send(browser, req); err != nil || r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("admin console sign-in with Redis down: %d, Retry-After %q, %v", r.status, r.header.Get("Retry-After"), err)
	}

	rd.Restart(t)
	eventually(t, 15*time.Second, "/readyz after Redis came back", func() bool {
		r, err := s.get(hc, "/readyz")
		return err == nil && r.status == 200
	})
	mu.Lock()
	before := seen["token 200"]
	mu.Unlock()
	eventually(t, 15*time.Second, "tokens issued again under load", loaded(before+10))
	close(stop)
	wg.Wait()

	for _, p := range problems {
		t.Error(p)
	}
	if !active(s.introspect(t, rs, live.AccessToken)) || active(s.introspect(t, rs, dead.AccessToken)) {
		t.Error("after the restart the live token is not active or the revoked one is")
	}
	if strings.Contains(s.log(), "panic") {
		t.Errorf("scopegate logged a panic:\n%s", s.log())
	}
	t.Logf("answers under load: %v", seen)
}

// TestAcknowledgedWritesSurviveRedisSIGKILL: Redis is killed with SIGKILL
// right after scopegate answered, and restarted from its append-only file.
// Every acknowledged write is still in force: issued tokens are active,
// revoked ones (by the client, RFC 7009, and by an admin) inactive, a
// redeemed code and a rotated refresh token are replays. With appendonly
// no (redistest's default) the tokens are simply gone and this fails.
func TestAcknowledgedWritesSurviveRedisSIGKILL(t *testing.T) {
	rd := durableRedis(t)
	s := startServerOn(t, "redis://"+rd.Addr)
	op := newOperator(t, s, "site-1", "site-2")
	f := &raceFixture{s: s, op: op, hc: apiClient()}
	f.plugin = f.newPlugin(t, "Durable Plugin")
	f.rs = s.createClient(t, "--name", "REST API", "--role", "resource-server")
	redeem := func(code, verifier string) (reply, error) {
		return s.postAs(f.hc, "/oauth/token", f.plugin, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {raceCallback}, "code_verifier": {verifier}})
	}
	refresh := func(rt string) (reply, error) {
		return s.postAs(f.hc, "/oauth/token", f.plugin, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	must := func(r reply, err error) reply {
		t.Helper()
		if err != nil || r.status != 200 {
			t.Fatalf("%v %d %s", err, r.status, r.raw)
		}
		return r
	}

	// Everything is prepared first; the writes under test come last, one
	// after the other, and Redis dies right after the last answer.
	_, codeA, verA := op.code(f.plugin, raceCallback, "site-1")
	tokB := op.tokens(f.plugin, raceCallback, "site-2")
	tokD := op.tokens(f.plugin, raceCallback, "site-1")
	grantD := s.introspect(t, f.rs, tokD.AccessToken)["grant_id"].(string)
	cc := make([]string, 4)
	for i := range cc {
		cc[i] = must(s.postAs(f.hc, "/oauth/token", f.plugin, url.Values{"grant_type": {"client_credentials"}})).body["access_token"].(string)
	}

	a := must(redeem(codeA, verA))                                                // code consumed, tokens issued
	b2 := must(refresh(tokB.RefreshToken))                                        // refresh token rotated
	must(s.postAs(f.hc, "/oauth/revoke", f.plugin, url.Values{"token": {cc[0]}})) // RFC 7009
	must(s.postAs(f.hc, "/oauth/revoke", f.plugin, url.Values{"token": {cc[1]}}))
	must(s.adminAPI(f.hc, "POST", "/revoke", map[string]string{"grant_id": grantD}))
	rd.Kill()

	rd.Restart(t)
	eventually(t, 15*time.Second, "/readyz after the restart", func() bool {
		r, err := s.get(f.hc, "/readyz")
		return err == nil && r.status == 200
	})
	want := []struct {
		name   string
		tok    string
		active bool
	}{
		{"token from the redeemed code", a.body["access_token"].(string), true},
		{"refresh token from the redeemed code", a.body["refresh_token"].(string), true},
		{"access token from the rotation", b2.body["access_token"].(string), true},
		{"refresh token from the rotation", b2.body["refresh_token"].(string), true},
		{"token revoked by its client", cc[0], false},
		{"other token revoked by its client", cc[1], false},
		{"unrevoked client-credentials token", cc[2], true},
		{"other unrevoked client-credentials token", cc[3], true},
		{"access token of the grant an admin revoked", tokD.AccessToken, false},
		{"refresh token of the grant an admin revoked", tokD.RefreshToken, false},
	}
	for _, w := range want {
		if got := f.activeNow(t, w.tok); got != w.active {
			t.Errorf("after SIGKILL and restart: %s: active = %v, want %v", w.name, got, w.active)
		}
	}
	// The consumed code and the rotated refresh token are replays now, and
	// replaying them revokes what they produced.
	if r, err := redeem(codeA, verA); err != nil || r.status != 400 || r.errCode() != "invalid_grant" {
		t.Errorf("redeeming the code again after the restart: %d %s %v", r.status, r.raw, err)
	}
	if r, err := refresh(tokB.RefreshToken); err != nil || r.status != 400 || r.errCode() != "invalid_grant" {
		t.Errorf("the rotated refresh token after the restart: %d %s %v", r.status, r.raw, err)
	}
	if f.activeNow(t, a.body["access_token"].(string)) || f.activeNow(t, b2.body["access_token"].(string)) {
		t.Error("a replay after the restart did not revoke its grant")
	}
}

// delayProxy is a loopback TCP proxy in front of Redis that holds every
// chunk Redis sends back for a configurable time: a slow Redis, or with a
// long delay, a hung one.
type delayProxy struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // nanoseconds
	jitter atomic.Bool  // hold each chunk a uniform random time in [0, delay]
	held   atomic.Int64 // chunks being held right now
	closed chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

func startDelayProxy(t *testing.T, target string) *delayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{ln: ln, target: target, closed: make(chan struct{}), conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *delayProxy) Addr() string { return p.ln.Addr().String() }

func (p *delayProxy) set(d time.Duration, jitter bool) {
	p.delay.Store(int64(d))
	p.jitter.Store(jitter)
}

func (p *delayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		c.Close()
		return false
	default:
	}
	p.conns[c] = true
	return true
}

func (p *delayProxy) close() {
	p.mu.Lock()
	close(p.closed)
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *delayProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client) || !p.track(server) {
			client.Close()
			server.Close()
			continue
		}
		p.wg.Add(2)
		go func() { // commands go through at once
			defer p.wg.Done()
			_, _ = io.Copy(server, client)
			server.Close()
			client.Close()
		}()
		go func() { // replies are held
			defer p.wg.Done()
			defer server.Close()
			defer client.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 {
					d := time.Duration(p.delay.Load())
					if p.jitter.Load() && d > 0 {
						d = rand.N(d)
					}
					if d > 0 {
						p.held.Add(1)
						timer := time.NewTimer(d) // the fault being injected, not a wait
						select {
						case <-timer.C:
						case <-p.closed:
							timer.Stop()
							p.held.Add(-1)
							return
						}
						p.held.Add(-1)
					}
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// TestSlowRedisNeverHalfConsumes runs scopegate through a proxy that makes
// Redis slow: each command's reply is late by a random 0-400 ms against a
// 250 ms read timeout, so about half the commands time out, some after
// Redis has run them. Every request still ends with an answer (200, 400
// invalid_grant or 503 with Retry-After, never another 5xx), and every code
// and refresh token is consistent afterwards: it yields tokens at most
// once, and once it has, presenting it again is a replay that revokes them
// (each consumption is one Lua script: applied whole or not at all).
// Then a hung Redis (replies held 2 s): 503s and a failing /readyz, and
// recovery without a restart.
func TestSlowRedisNeverHalfConsumes(t *testing.T) {
	rd := durableRedis(t)
	px := startDelayProxy(t, rd.Addr)
	s := startServerOn(t, "redis://"+px.Addr()+"?read_timeout=250ms&write_timeout=250ms&dial_timeout=1s")
	f := &raceFixture{s: s, op: newOperator(t, s, "site-1", "site-2"), hc: apiClient()}
	f.plugin = f.newPlugin(t, "Slow Plugin")
	f.rs = s.createClient(t, "--name", "REST API", "--role", "resource-server")

	const n = 12
	type secret struct {
		form    url.Values // the request that consumes it
		answers []reply
	}
	var secrets []*secret
	for i := range n {
		_, code, verifier := f.op.code(f.plugin, raceCallback, []string{"site-1", "site-2"}[i%2])
		secrets = append(secrets, &secret{form: url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {raceCallback}, "code_verifier": {verifier}}})
		tok := f.op.tokens(f.plugin, raceCallback, []string{"site-1", "site-2"}[i%2])
		secrets = append(secrets, &secret{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}})
	}
	// Warm the client cache so that the timeouts hit the consumption itself.
	if !f.activeNow(t, f.op.tokens(f.plugin, raceCallback, "site-1").AccessToken) {
		t.Fatal("fresh token inactive")
	}

	px.set(400*time.Millisecond, true)
	rs := fire(t, len(secrets), func(i int) (reply, error) { return s.postAs(f.hc, "/oauth/token", f.plugin, secrets[i].form) })
	px.set(0, false)
	counts := tally(rs)
	for i, r := range rs {
		secrets[i].answers = append(secrets[i].answers, r)
		if p := checkFailClosed("slow redemption", r); p != "" {
			t.Error(p)
		}
		if r.status != 200 && r.status != 503 && !(r.status == 400 && r.errCode() == "invalid_grant") {
			t.Errorf("slow redemption %d: %d %s", i, r.status, r.raw)
		}
	}
	t.Logf("answers with a slow Redis: %v", counts)

	// Redis is fast again: present every secret until it is refused.
	paths := map[string]int{}
	defer func() { t.Logf("answer sequences per secret: %v", paths) }()
	for i, sec := range secrets {
		for len(sec.answers) < 3 && sec.answers[len(sec.answers)-1].status != 400 {
			r, err := s.postAs(f.hc, "/oauth/token", f.plugin, sec.form)
			if err != nil {
				t.Fatal(err)
			}
			sec.answers = append(sec.answers, r)
		}
		var won []reply
		var trail []string
		for _, a := range sec.answers {
			trail = append(trail, fmt.Sprintf("%d %s", a.status, a.errCode()))
			if a.status == 200 {
				won = append(won, a)
			}
		}
		paths[strings.Join(trail, " → ")]++
		last := sec.answers[len(sec.answers)-1]
		switch {
		case len(won) > 1:
			t.Errorf("secret %d (%s) yielded tokens %d times: %v", i, sec.form.Get("grant_type"), len(won), trail)
		case last.status != 400 || last.errCode() != "invalid_grant":
			t.Errorf("secret %d (%s) is still accepted after yielding tokens: %v", i, sec.form.Get("grant_type"), trail)
		}
		for _, w := range won { // presented again after yielding: a replay
			if f.activeNow(t, w.body["access_token"].(string)) {
				t.Errorf("secret %d (%s): tokens still active after a replay: %v", i, sec.form.Get("grant_type"), trail)
			}
		}
	}

	// A hung Redis: every request still ends, with 503 and Retry-After.
	px.set(2*time.Second, false)
	r, err := s.postAs(f.hc, "/oauth/token", f.plugin, url.Values{"grant_type": {"client_credentials"}})
	if err != nil || r.status != 503 || checkFailClosed("token with Redis hung", r) != "" {
		t.Errorf("token with Redis hung: %d %s %v", r.status, r.raw, err)
	}
	if r, err := s.get(f.hc, "/readyz"); err != nil || r.status != 503 {
		t.Errorf("/readyz with Redis hung: %d %v", r.status, err)
	}
	px.set(0, false)
	eventually(t, 10*time.Second, "service back after Redis sped up", func() bool {
		r, err := s.postAs(f.hc, "/oauth/token", f.plugin, url.Values{"grant_type": {"client_credentials"}})
		return err == nil && r.status == 200
	})
}

// TestSIGTERMUnderLoad: SIGTERM while requests are in flight (Redis slowed
// to 300 ms a reply so they are). The in-flight requests finish with their
// tokens, new connections are refused (not answered 5xx), and the process
// exits 0 well within its shutdown timeout.
func TestSIGTERMUnderLoad(t *testing.T) {
	rd := durableRedis(t)
	px := startDelayProxy(t, rd.Addr)
	s := startServerOn(t, "redis://"+px.Addr())
	plugin, _ := provision(t, s)
	if _, err := ccConfig(s, plugin).Token(context.Background()); err != nil { // warms the client cache
		t.Fatal(err)
	}
	fresh := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	form := url.Values{"grant_type": {"client_credentials"}}

	px.set(300*time.Millisecond, false)
	// In flight means inside the handler, waiting for Redis: a connection
	// still in the listen backlog when the listener closes is refused
	// like any new one (the client sees a reset), which is allowed.
	const inflight = 12
	results := make(chan reply, inflight)
	errs := make(chan error, inflight)
	for range inflight {
		go func() {
			r, err := s.postAs(fresh, "/oauth/token", plugin, form)
			if err != nil {
				errs <- err
				return
			}
			results <- r
		}()
	}
	eventually(t, 10*time.Second, "every request waiting on Redis", func() bool { return px.held.Load() >= inflight })
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()

	// New connections: refused once the listener is closed; anything
	// answered before that is not a 5xx.
	eventually(t, 5*time.Second, "new connections refused after SIGTERM", func() bool {
		r, err := s.postAs(fresh, "/oauth/token", plugin, form)
		if err == nil && r.status >= 500 {
			t.Errorf("request after SIGTERM: %d %s", r.status, r.raw)
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	for range inflight {
		select {
		case r := <-results:
			if r.status != 200 {
				t.Errorf("in-flight request at SIGTERM: %d %s", r.status, r.raw)
			}
		case err := <-errs:
			t.Errorf("in-flight request at SIGTERM failed: %v", err)
		}
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("scopegate exited with %v after SIGTERM, want status 0", err)
		}
		t.Logf("exited %v after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatal("scopegate did not exit within 20 s of SIGTERM (shutdown timeout 15 s)")
	}
}

// TestPersistenceWarning: `scopegate serve` says at start, in one WARN
// line, when its Redis would lose acknowledged writes in a crash, and that
// it could not check when CONFIG is disabled (as on managed Redis); with
// appendfsync always it says nothing.
func TestPersistenceWarning(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		want  string
		level string
	}{
		{"off", nil, "Redis persistence is off", "WARN"},
		{"everysec", []string{"--appendonly", "yes", "--appendfsync", "everysec"}, "appendfsync everysec, not fsyncing", "WARN"},
		{"config disabled", []string{"--rename-command", "CONFIG", ""}, "could not check Redis persistence", "INFO"},
		{"always", durableArgs, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startServerOn(t, "redis://"+redistest.Start(t, c.args...).Addr)
			eventually(t, 5*time.Second, "the listening log line", func() bool { return strings.Contains(s.log(), "msg=listening") })
			var lines []string
			for _, l := range strings.Split(s.log(), "\n") {
				if strings.Contains(l, "appendfsync") || strings.Contains(l, "persistence") {
					lines = append(lines, l)
				}
			}
			switch {
			case c.want == "" && len(lines) > 0:
				t.Errorf("durable Redis, yet: %q", lines)
			case c.want != "" && (len(lines) != 1 || !strings.Contains(lines[0], c.want) || !strings.Contains(lines[0], "level="+c.level)):
				t.Errorf("log lines about persistence %q, want one %s line with %q", lines, c.level, c.want)
			}
		})
	}
}
