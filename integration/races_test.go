package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/web/webtest"
)

// The race tests fire 50 concurrent requests at one grant (or one client)
// through the built binary, several rounds each, and check that the
// outcome is one the RFCs allow and that no token outlives a revocation
// that returned. The storage and oauth packages prove the same atomicity
// below HTTP; these prove nothing between the HTTP edge and Redis breaks it.

const (
	racers = 50 // concurrent requests per round
	rounds = 3
)

// reply is one HTTP answer: status, headers and the JSON body (nil when
// the body is not a JSON object).
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r reply) errCode() string { s, _ := r.body["error"].(string); return s }

// apiClient is the HTTP client of the fault and race tests: no connection
// sharing limits, and a bound on every request so a hung server fails the
// test instead of stalling it.
func apiClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * racers}}
}

// send does one request and decodes the answer; transport errors are
// returned, never fatal, so goroutines can use it.
func send(hc *http.Client, req *http.Request) (reply, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r, nil
}

// postAs posts an OAuth form to path with c's HTTP Basic credentials.
func (s *server) postAs(hc *http.Client, path string, c client, form url.Values) (reply, error) {
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	return send(hc, req)
}

// adminAPI calls the admin API with the admin token; body is JSON or nil.
func (s *server) adminAPI(hc *http.Client, method, path string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, s.URL+"/admin/v1"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	return send(hc, req)
}

// operatorSession is an operator's cookie-keeping HTTP client that drives
// the consent screens over plain HTTP (the browser path is proven in
// TestAuthorizationCodeFlowInBrowser). It signs in at the first
// authorization request and stays signed in.
type operatorSession struct {
	t  *testing.T
	s  *server
	hc *http.Client
}

// newOperator creates the operator op@example.test with the given websites
// and returns a session for it.
func newOperator(t *testing.T, s *server, websites ...string) *operatorSession {
	t.Helper()
	args := []string{"operators", "create", "--email", "op@example.test", "--password-stdin"}
	for _, w := range websites {
		args = append(args, "--website", w)
	}
	s.cliJSON(t, "operator password 1\n", args...)
	return operatorOf(t, s)
}

// operatorOf returns a signed-out session for op@example.test.
func operatorOf(t *testing.T, s *server) *operatorSession {
	jar, _ := cookiejar.New(nil)
	return &operatorSession{t: t, s: s, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (o *operatorSession) do(method, u string, form url.Values) (*http.Response, string) {
	o.t.Helper()
	if !strings.HasPrefix(u, "http") {
		u = o.s.URL + u
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := o.hc.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// code runs c's authorization request for website through sign-in (once),
// the website picker and consent, and returns the client's configuration,
// the authorization code and its PKCE verifier, without redeeming it.
func (o *operatorSession) code(c client, redirect, website string) (conf *oauth2.Config, code, verifier string) {
	o.t.Helper()
	conf = &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: o.s.URL + "/oauth/authorize", TokenURL: o.s.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	verifier = oauth2.GenerateVerifier()
	_, page := o.do("GET", conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), nil)
	if strings.Contains(page, `action="/login"`) {
		login := webtest.FindForm(o.t, page, "/login").Values()
		login.Set("email", "op@example.test")
		login.Set("password", "operator password 1")
		resp, body := o.do("POST", "/login", login)
		if resp.StatusCode != http.StatusSeeOther {
			o.t.Fatalf("login: %d %s", resp.StatusCode, body)
		}
		// Back to the authorization request: the website picker.
		_, page = o.do("GET", resp.Header.Get("Location"), nil)
	}
	pick := webtest.FindForm(o.t, page, "/oauth/authorize").Values()
	for k := range pick {
		if pick.Get(k) == "site-1" || pick.Get(k) == "site-2" {
			pick.Set(k, website)
		}
	}
	_, page = o.do("GET", "/oauth/authorize?"+pick.Encode(), nil)
	consent := webtest.FindForm(o.t, page, "/oauth/authorize").Values()
	consent.Set("action", "approve")
	resp, page := o.do("POST", "/oauth/authorize", consent)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		o.t.Fatalf("consent: %d Location %q %s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	return conf, loc.Query().Get("code"), verifier
}

// tokens runs the flow and redeems the code.
func (o *operatorSession) tokens(c client, redirect, website string) *oauth2.Token {
	o.t.Helper()
	conf, code, verifier := o.code(c, redirect, website)
	tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		o.t.Fatal(err)
	}
	return tok
}

// raceFixture is a server with an operator, a resource server and a plugin
// that may use every grant type.
type raceFixture struct {
	s      *server
	op     *operatorSession
	plugin client
	rs     client
	hc     *http.Client
}

const raceCallback = "http://127.0.0.1:1/callback" // never fetched: consent is driven over HTTP

func newRaceFixture(t *testing.T) *raceFixture {
	// The races fail on purpose (replayed codes and refresh tokens, a
	// suspended client), fifty at a time from one address: the shared
	// failure limits (tested in web/ratelimit_test.go) are off here.
	s := startServer(t, "--rate-client-failures", "0", "--rate-addr-failures", "0")
	f := &raceFixture{s: s, op: newOperator(t, s, "site-1", "site-2"), hc: apiClient()}
	f.plugin = f.newPlugin(t, "Racing Plugin")
	f.rs = s.createClient(t, "--name", "REST API", "--role", "resource-server")
	return f
}

func (f *raceFixture) newPlugin(t *testing.T, name string) client {
	return f.s.createClient(t, "--name", name, "--redirect-uri", raceCallback, "--grant-type", "authorization_code",
		"--grant-type", "refresh_token", "--grant-type", "client_credentials",
		"--approve", "website:people:data:read", "--approve", billWrite)
}

// fire sends n requests at once (all goroutines released together) and
// returns the replies in order; a transport error fails the test.
func fire(t *testing.T, n int, req func(i int) (reply, error)) []reply {
	t.Helper()
	out := make([]reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = req(i)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

// tally counts replies by "status error".
func tally(rs []reply) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[fmt.Sprintf("%d %s", r.status, r.errCode())]++
	}
	return m
}

// activeNow introspects tok as the resource server; any answer other than
// 200 fails the test.
func (f *raceFixture) activeNow(t *testing.T, tok string) bool {
	t.Helper()
	return active(f.s.introspect(t, f.rs, tok))
}

// TestRaceParallelCodeRedemption: 50 redemptions of one code at once give
// exactly one 200; the others invalid_grant (RFC 6749 §4.1.2: a code is
// single-use), and the replay revokes the tokens the winner got.
func TestRaceParallelCodeRedemption(t *testing.T) {
	f := newRaceFixture(t)
	for round := range rounds {
		_, code, verifier := f.op.code(f.plugin, raceCallback, "site-1")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {raceCallback}, "code_verifier": {verifier}}
		rs := fire(t, racers, func(int) (reply, error) { return f.s.postAs(f.hc, "/oauth/token", f.plugin, form) })
		counts := tally(rs)
		if counts["200 "] != 1 || counts["400 invalid_grant"] != racers-1 {
			t.Fatalf("round %d: %v, want exactly one 200 and %d × 400 invalid_grant", round, counts, racers-1)
		}
		for _, r := range rs {
			if r.status == 200 {
				for _, k := range []string{"access_token", "refresh_token"} {
					if f.activeNow(t, r.body[k].(string)) {
						t.Errorf("round %d: the winner's %s is active after the code was replayed", round, k)
					}
				}
			}
		}
	}
}

// TestRaceParallelRefresh: 50 refreshes with one refresh token at once give
// exactly one 200; the others invalid_grant, and the replay revokes the
// grant (RFC 9700 §4.14.2): the winner's new tokens and the old access token
// are inactive.
func TestRaceParallelRefresh(t *testing.T) {
	f := newRaceFixture(t)
	for round := range rounds {
		tok := f.op.tokens(f.plugin, raceCallback, "site-2")
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		rs := fire(t, racers, func(int) (reply, error) { return f.s.postAs(f.hc, "/oauth/token", f.plugin, form) })
		counts := tally(rs)
		if counts["200 "] != 1 || counts["400 invalid_grant"] != racers-1 {
			t.Fatalf("round %d: %v, want exactly one 200 and %d × 400 invalid_grant", round, counts, racers-1)
		}
		live := []string{tok.AccessToken}
		for _, r := range rs {
			if r.status == 200 {
				live = append(live, r.body["access_token"].(string), r.body["refresh_token"].(string))
			}
		}
		for i, v := range live {
			if f.activeNow(t, v) {
				t.Errorf("round %d: token %d of the replayed grant is active", round, i)
			}
		}
	}
}

// TestRaceRevokeGrantAgainstRefresh: an admin revokes a grant while the
// plugin refreshes it. Round by round the revocation lands at a different
// point among 49 concurrent refreshes and 49 concurrent introspections of
// tokens the refreshes may have minted: once the revocation has returned,
// no token of the grant is active, whatever the refreshes did.
func TestRaceRevokeGrantAgainstRefresh(t *testing.T) {
	f := newRaceFixture(t)
	for round := range rounds + 2 {
		tok := f.op.tokens(f.plugin, raceCallback, "site-1")
		grant := f.s.introspect(t, f.rs, tok.AccessToken)["grant_id"].(string)
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		// The revocation is request number `at` of the racers: early
		// rounds revoke before most refreshes are sent, late ones after.
		at := round * (racers - 1) / (rounds + 1)
		var revokedAt time.Time
		rs := fire(t, racers, func(i int) (reply, error) {
			if i == at {
				r, err := f.s.adminAPI(f.hc, "POST", "/revoke", map[string]string{"grant_id": grant})
				revokedAt = time.Now()
				return r, err
			}
			return f.s.postAs(f.hc, "/oauth/token", f.plugin, form)
		})
		if rs[at].status != 200 {
			t.Fatalf("round %d: revoke: %d %s", round, rs[at].status, rs[at].raw)
		}
		minted := []string{tok.AccessToken, tok.RefreshToken}
		for i, r := range rs {
			switch {
			case i == at:
			case r.status == 200:
				minted = append(minted, r.body["access_token"].(string), r.body["refresh_token"].(string))
			case r.status != 400 || r.errCode() != "invalid_grant":
				t.Errorf("round %d: refresh %d: %d %s", round, i, r.status, r.raw)
			}
		}
		if n := len(minted)/2 - 1; n > 1 {
			t.Errorf("round %d: %d refreshes of one refresh token succeeded", round, n)
		}
		for i, v := range minted {
			if f.activeNow(t, v) {
				t.Errorf("round %d: token %d of the grant is active after its revocation returned at %v", round, i, revokedAt.Format(time.StampMicro))
			}
		}
		// And no later refresh revives it.
		if r, err := f.s.postAs(f.hc, "/oauth/token", f.plugin, form); err != nil || r.status != 400 {
			t.Errorf("round %d: refresh after the revocation: %d %s %v", round, r.status, r.raw, err)
		}
	}
}

// TestRaceRevokeClientAgainstIssuance: 50 workers request client-credentials
// tokens as fast as they can while an admin suspends the plugin and then
// revokes everything it holds. Once the revocation has returned, no token
// ever issued to it is active, and every later request is refused. Another
// plugin's token is untouched. (Grants created while RevokeClient runs are
// covered only because the client is suspended first: storage/doc.go.)
func TestRaceRevokeClientAgainstIssuance(t *testing.T) {
	f := newRaceFixture(t)
	bystander := f.newPlugin(t, "Bystander Plugin")
	other, err := ccConfig(f.s, bystander).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for round := range rounds {
		p := f.newPlugin(t, fmt.Sprintf("Plugin %d", round))
		var (
			mu      sync.Mutex
			issued  []string
			refused = map[string]int{}
			wg      sync.WaitGroup
		)
		stop := make(chan struct{})
		form := url.Values{"grant_type": {"client_credentials"}}
		for range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					r, err := f.s.postAs(f.hc, "/oauth/token", p, form)
					mu.Lock()
					switch {
					case err != nil:
						refused["transport: "+err.Error()]++
					case r.status == 200:
						issued = append(issued, r.body["access_token"].(string))
					default:
						refused[fmt.Sprintf("%d %s", r.status, r.errCode())]++
					}
					mu.Unlock()
				}
			}()
		}
		eventually(t, 10*time.Second, "first tokens issued", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(issued) >= racers
		})
		if r, err := f.s.adminAPI(f.hc, "POST", "/clients/"+url.PathEscape(p.ID)+"/suspend", nil); err != nil || r.status != 200 {
			t.Fatalf("suspend: %v %d %s", err, r.status, r.raw)
		}
		r, err := f.s.adminAPI(f.hc, "POST", "/revoke", map[string]string{"client_id": p.ID})
		if err != nil || r.status != 200 {
			t.Fatalf("revoke client: %v %d %s", err, r.status, r.raw)
		}
		// Requests sent from now on: all refused.
		after := fire(t, racers, func(int) (reply, error) { return f.s.postAs(f.hc, "/oauth/token", p, form) })
		close(stop)
		wg.Wait()
		for i, r := range after {
			if r.status == 200 {
				t.Errorf("round %d: token request %d after the revocation returned got a token", round, i)
			}
		}
		for k, n := range refused {
			if !strings.HasPrefix(k, "401 invalid_client") && !strings.HasPrefix(k, "400 unauthorized_client") {
				t.Errorf("round %d: %d × %s while racing the revocation", round, n, k)
			}
		}
		activeLeft := 0
		for _, v := range issued {
			if f.activeNow(t, v) {
				activeLeft++
			}
		}
		if activeLeft > 0 {
			t.Errorf("round %d: %d of %d tokens issued to the plugin are active after suspend + revoke returned", round, activeLeft, len(issued))
		}
		t.Logf("round %d: %d tokens issued during the race, refusals %v", round, len(issued), refused)
	}
	if !f.activeNow(t, other.AccessToken) {
		t.Error("another plugin's token died with the revoked one")
	}
}
