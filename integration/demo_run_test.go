package integration

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeDemoStartsTheDemoAPI: `serve --demo` (what `make run` runs) also
// serves the demo REST API, wired to this server as its resource server: a
// request without a token gets RFC 6750's bare challenge, and a well-formed
// but unknown token gets invalid_token, which the API can only answer after
// a successful introspection with the demo resource server's credentials
// (a wrong secret or an unreachable server would give 503).
func TestServeDemoStartsTheDemoAPI(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiAddr := ln.Addr().String()
	ln.Close()
	s := startServer(t, "--demo", "--demo-api-addr", apiAddr)
	url := "http://" + apiAddr + "/v1/website/site-acme/people/data/people-1"
	get := func(tok string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("demo API at %s: %v\nserver log:\n%s", apiAddr, err, s.log())
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}
	code, challenge, body := get("")
	if code != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") || strings.Contains(challenge, "error=") {
		t.Fatalf("no token: %d %q %s; want 401 with a bare Bearer challenge", code, challenge, body)
	}
	unknown := "sga_" + strings.Repeat("A", 71)
	code, challenge, body = get(unknown)
	if code != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) {
		t.Fatalf("unknown token: %d %q %s; want 401 invalid_token (introspected by this server)", code, challenge, body)
	}
}
