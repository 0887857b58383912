package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// demoAPI is one running `scopegate demo-api` process: the demo REST API,
// protected by package resource, introspecting at a running server.
type demoAPI struct{ *proc }

// startDemoAPI starts `scopegate demo-api` against s as resource server rs.
// The secret goes through the environment, as the README advises.
func startDemoAPI(t *testing.T, s *server, rs client, extra ...string) *demoAPI {
	t.Helper()
	args := append([]string{"demo-api", "--api-addr", "127.0.0.1:0", "--introspection-url", s.URL + "/oauth/introspect",
		"--api-client-id", rs.ID}, extra...)
	env := []string{"PATH=" + os.Getenv("PATH"), "SCOPEGATE_API_CLIENT_SECRET=" + rs.Secret}
	return &demoAPI{startProc(t, "demo-api", env, args, regexp.MustCompile(`^scopegate demo-api: listening on (http://\S+)`))}
}

// apiAnswer is what the demo API said.
type apiAnswer struct {
	status int
	auth   string // WWW-Authenticate
	body   map[string]any
}

func (a apiAnswer) String() string {
	return strings.TrimSpace(http.StatusText(a.status) + " " + a.auth)
}

// callAPI sends one request with a bearer token (none if tok is "") and a
// JSON body (none if body is nil).
func callAPI(t *testing.T, method, u, tok string, body any) apiAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := apiAnswer{status: resp.StatusCode, auth: resp.Header.Get("WWW-Authenticate")}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

// demoSetup is a server with an operator of site-1 and site-2 (the one
// consentOverHTTP logs in as), three plugins and a resource server, and the
// demo API in front of it.
type demoSetup struct {
	s                      *server
	rs                     client
	writer, reader, biller client
	cb                     string
}

const (
	msgRead   = "website:conversation:messages:read"
	msgWrite  = "website:conversation:messages:write"
	sessRead  = "website:conversation:sessions:read"
	dataRead  = "website:people:data:read"
	messages1 = "/v1/website/site-1/conversation/session_demo/messages"
	message1  = "/v1/website/site-1/conversation/session_demo/message"
)

func newDemoSetup(t *testing.T) *demoSetup {
	t.Helper()
	s := startServer(t)
	d := &demoSetup{s: s, cb: "http://127.0.0.1:1/callback"} // never fetched: consent is driven over HTTP
	s.cliJSON(t, "operator password 1\n", "operators", "create", "--email", "op@example.test", "--password-stdin",
		"--website", "site-1", "--website", "site-2")
	plugin := func(name string, approve ...string) client {
		args := []string{"--name", name, "--redirect-uri", d.cb, "--grant-type", "authorization_code", "--grant-type", "client_credentials"}
		for _, a := range approve {
			args = append(args, "--approve", a)
		}
		return s.createClient(t, args...)
	}
	d.writer = plugin("Sender", msgWrite, sessRead) // the source document's write-only example
	d.reader = plugin("Archiver", msgRead)
	d.biller = plugin("Biller", dataRead, billWrite)
	d.rs = s.createClient(t, "--name", "Demo REST API", "--role", "resource-server")
	return d
}

// website gets a website token for c through the operator's consent (the
// approved maximum of website scopes).
func (d *demoSetup) website(t *testing.T, c client, site string) string {
	t.Helper()
	return consentOverHTTP(t, d.s, c, d.cb, site).AccessToken
}

// TestDemoAPIWriteOnlyReallyMeansWriteOnly: through the built binaries, with
// tokens from real consents: a write-only messages token sends and cannot
// read, a read-only token the reverse, a token for site-1 is refused on
// site-2's routes, and the RFC 6750 answers name the missing scope.
func TestDemoAPIWriteOnlyReallyMeansWriteOnly(t *testing.T) {
	d := newDemoSetup(t)
	api := startDemoAPI(t, d.s, d.rs)
	w1, r1 := d.website(t, d.writer, "site-1"), d.website(t, d.reader, "site-1")
	send := map[string]string{"type": "text", "from": "operator", "origin": "chat", "content": "Your order left today."}

	tests := []struct {
		name, tok, method, path string
		body                    any
		want                    int
		wantAuth                string
	}{
		{"write-only token sends", w1, "POST", message1, send, 202, ""},
		{"write-only token cannot read", w1, "GET", messages1, nil, 403,
			`error="insufficient_scope", error_description="the token lacks ` + msgRead + `", scope="` + msgRead + `"`},
		{"read-only token reads", r1, "GET", messages1, nil, 200, ""},
		{"read-only token cannot send", r1, "POST", message1, send, 403, `error="insufficient_scope"`},
		{"read-only token names the write scope", r1, "POST", message1, send, 403, `scope="` + msgWrite + `"`},
		{"site-1 token on site-2 (read)", r1, "GET", "/v1/website/site-2/conversation/session_demo/messages", nil, 403,
			`error="insufficient_scope", error_description="the token is not for this website"`},
		{"site-1 token on site-2 (write)", w1, "POST", "/v1/website/site-2/conversation/session_demo/message", send, 403, `scope="` + msgWrite + `"`},
		{"a scope the token lacks entirely", r1, "PATCH", "/v1/website/site-1/conversation/session_demo/state", map[string]string{"state": "resolved"}, 403,
			`scope="website:conversation:states:write"`},
		{"no token", "", "GET", messages1, nil, 401, `Bearer realm="scopegate-demo-api"`},
		{"unknown token", "sga_nonsense", "GET", messages1, nil, 401, `error="invalid_token"`},
		{"malformed header", "a b", "GET", messages1, nil, 400, `error="invalid_request"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := callAPI(t, tt.method, api.URL+tt.path, tt.tok, tt.body)
			if a.status != tt.want || !strings.Contains(a.auth, tt.wantAuth) {
				t.Fatalf("%s %s: %d %q %v; want %d with %q", tt.method, tt.path, a.status, a.auth, a.body, tt.want, tt.wantAuth)
			}
			if tt.want == 401 && tt.tok == "" && strings.Contains(a.auth, "error=") {
				t.Fatalf("RFC 6750 §3.1: no error code without credentials: %q", a.auth)
			}
		})
	}
	// The message the write-only token sent is there for the reader.
	a := callAPI(t, "GET", api.URL+messages1, r1, nil)
	if !strings.Contains(jsonString(a.body), "Your order left today.") {
		t.Fatalf("the sent message is not listed: %v", a.body)
	}
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestDemoAPIBillNeedsAPluginToken: the plugin-scope route takes the
// plugin's client-credentials token (whatever website the subscription is
// for) and refuses a website token of the same plugin, and the plugin bills
// for itself only.
func TestDemoAPIBillNeedsAPluginToken(t *testing.T) {
	d := newDemoSetup(t)
	api := startDemoAPI(t, d.s, d.rs)
	cc, err := ccConfig(d.s, d.biller, billWrite).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	site := d.website(t, d.biller, "site-1")
	usage := map[string]any{"name": "Messages translated", "units": 120, "price": 5}
	bill := func(plugin string) string {
		return api.URL + "/v1/plugins/subscription/site-1/" + plugin + "/bill/usage"
	}

	if a := callAPI(t, "POST", bill(d.biller.ID), cc.AccessToken, usage); a.status != 202 {
		t.Fatalf("client-credentials token: %d %q %v", a.status, a.auth, a.body)
	}
	if a := callAPI(t, "POST", bill(d.biller.ID), site, usage); a.status != 403 || !strings.Contains(a.auth, `scope="`+billWrite+`"`) {
		t.Fatalf("website token on the bill route: %d %q", a.status, a.auth)
	}
	if a := callAPI(t, "POST", bill(d.writer.ID), cc.AccessToken, usage); a.status != 403 {
		t.Fatalf("billing for another plugin: %d %v", a.status, a.body)
	}
	// And the plugin token reaches no website route.
	if a := callAPI(t, "GET", api.URL+"/v1/website/site-1/people/data/people-1", cc.AccessToken, nil); a.status != 403 {
		t.Fatalf("plugin token on a website route: %d %q", a.status, a.auth)
	}
	if a := callAPI(t, "GET", api.URL+"/v1/website/site-1/people/data/people-1", site, nil); a.status != 200 {
		t.Fatalf("website token on its website's data: %d %q", a.status, a.auth)
	}
}

// TestDemoAPIRefusesARevokedTokenWithinTheCacheTTL: a token in the demo
// API's cache is revoked through the admin CLI; the API refuses it within
// the cache TTL (2 s here, plus a margin for the poll).
func TestDemoAPIRefusesARevokedTokenWithinTheCacheTTL(t *testing.T) {
	const ttl = 2 * time.Second
	d := newDemoSetup(t)
	api := startDemoAPI(t, d.s, d.rs, "--api-cache-ttl", ttl.String())
	r1 := d.website(t, d.reader, "site-1")
	if a := callAPI(t, "GET", api.URL+messages1, r1, nil); a.status != 200 {
		t.Fatalf("before revocation: %v", a)
	}
	if _, errOut, code := d.s.cli(t, r1+"\n", "revoke", "--token", "-"); code != 0 {
		t.Fatalf("revoke: %s", errOut)
	}
	var last apiAnswer
	eventually(t, ttl+500*time.Millisecond, "revoked token refused", func() bool {
		last = callAPI(t, "GET", api.URL+messages1, r1, nil)
		return last.status == 401
	})
	if !strings.Contains(last.auth, `error="invalid_token"`) {
		t.Fatalf("revoked token: %d %q", last.status, last.auth)
	}
}

// TestDemoAPIFailsClosedWhileTheServerIsDown: with scopegate stopped the
// demo API answers 503 (never allowed, never 500), for a token it never saw
// and, once the cache TTL has passed, for one it had accepted; when
// scopegate returns on the same address, both work again.
func TestDemoAPIFailsClosedWhileTheServerIsDown(t *testing.T) {
	d := newDemoSetup(t)
	api := startDemoAPI(t, d.s, d.rs, "--api-cache-ttl", "1s")
	seen, unseen := d.website(t, d.reader, "site-1"), d.website(t, d.reader, "site-2")
	if a := callAPI(t, "GET", api.URL+messages1, seen, nil); a.status != 200 {
		t.Fatalf("before the outage: %v", a)
	}
	u, _ := url.Parse(d.s.URL)
	_ = d.s.cmd.Process.Signal(os.Interrupt)
	_ = d.s.cmd.Wait()
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Fatal("scopegate still listening after it stopped")
	}

	a := callAPI(t, "GET", api.URL+"/v1/website/site-2/conversation/session_demo/messages", unseen, nil)
	if a.status != 503 || a.body["error"] != "temporarily_unavailable" {
		t.Fatalf("unseen token with scopegate down: %d %v", a.status, a.body)
	}
	eventually(t, 3*time.Second, "cached token refused once the TTL passed", func() bool {
		a = callAPI(t, "GET", api.URL+messages1, seen, nil)
		if a.status != 200 && a.status != 503 {
			t.Fatalf("cached token with scopegate down: %d %v", a.status, a.body)
		}
		return a.status == 503
	})

	startServerOn(t, d.s.RedisURL, "--addr", u.Host)
	eventually(t, 5*time.Second, "recovered when scopegate returned", func() bool {
		return callAPI(t, "GET", api.URL+messages1, seen, nil).status == 200
	})
	if a := callAPI(t, "GET", api.URL+"/v1/website/site-2/conversation/session_demo/messages", unseen, nil); a.status != 200 {
		t.Fatalf("unseen token after recovery: %v", a)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ id, name, data string }

// openStream opens the realtime stream of a website and returns its events
// as they come; it fails the test if the stream does not open with 200.
func openStream(t *testing.T, u, tok string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("stream: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("WWW-Authenticate"))
	}
	out := make(chan sseEvent, 256)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return out
}

// next returns the next event of a stream, failing the test after bound.
func next(t *testing.T, events <-chan sseEvent, bound time.Duration, what string) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatalf("%s: the stream ended", what)
		}
		return ev
	case <-time.After(bound):
		t.Fatalf("%s: no event within %v", what, bound)
	}
	return sseEvent{}
}

// TestDemoAPIRealtimeDeliversByScope: the write-only token sends a message;
// the realtime stream delivers message:received to the messages-read token
// and never to the write-only token, which keeps receiving the session
// events its sessions:read allows, in order: once it has seen an event
// published after the message, the message was certainly withheld.
func TestDemoAPIRealtimeDeliversByScope(t *testing.T) {
	d := newDemoSetup(t)
	api := startDemoAPI(t, d.s, d.rs, "--event-interval", "100ms")
	w1, r1 := d.website(t, d.writer, "site-1"), d.website(t, d.reader, "site-1")
	stream := api.URL + "/v1/website/site-1/realtime"
	readerEvents, writerEvents := openStream(t, stream, r1), openStream(t, stream, w1)

	a := callAPI(t, "POST", api.URL+message1, w1, map[string]string{"content": "Shipped!"})
	if a.status != 202 {
		t.Fatalf("send: %v %v", a, a.body)
	}
	data, _ := a.body["data"].(map[string]any)
	sentID, _ := data["event_id"].(string)
	if sentID == "" {
		t.Fatalf("send gave no event id: %v", a.body)
	}
	for {
		ev := next(t, readerEvents, 10*time.Second, "reader waiting for message:received")
		if !strings.HasPrefix(ev.name, "message:") {
			t.Fatalf("messages-read token received %q", ev.name)
		}
		if ev.name == "message:received" && ev.id == sentID {
			if !strings.Contains(ev.data, "Shipped!") {
				t.Fatalf("message:received data %s", ev.data)
			}
			break
		}
	}
	seenAfter := false
	for !seenAfter {
		ev := next(t, writerEvents, 10*time.Second, "write-only token waiting for a session event after the message")
		if strings.HasPrefix(ev.name, "message:") {
			t.Fatalf("write-only messages token received %s (id %s)", ev.name, ev.id)
		}
		if ev.name != "session:update_availability" && ev.name != "session:set_email" {
			t.Fatalf("sessions:read token received %q", ev.name)
		}
		seenAfter = len(ev.id) > len(sentID) || (len(ev.id) == len(sentID) && ev.id > sentID)
	}
	// A token for site-1 cannot open site-2's stream.
	if a := callAPI(t, "GET", api.URL+"/v1/website/site-2/realtime", r1, nil); a.status != 403 {
		t.Fatalf("site-2 stream with a site-1 token: %v", a)
	}
}
