package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestScopeReviewEndToEnd: a plugin with nothing approved files a scope
// request with justifications; the admin approves two lines and rejects
// one through the CLI; tokens within the approved lines are issued, beyond
// them refused; lowering the maximum on another instance narrows a live
// token's introspected scope within a second.
func TestScopeReviewEndToEnd(t *testing.T) {
	a := startServer(t)
	b := startServerOn(t, a.RedisURL)
	plugin := a.createClient(t, "--name", "Billing Plugin", "--grant-type", "client_credentials")
	rs := a.createClient(t, "--name", "REST API", "--role", "resource-server")
	ctx := context.Background()

	var re *oauth2.RetrieveError
	if _, err := ccConfig(a, plugin).Token(ctx); !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
		t.Fatalf("token before any approval: %v", err)
	}

	body, _ := json.Marshal(map[string]any{"lines": []map[string]string{
		{"scope": "plugin:subscription:bill:write", "justification": "We report metered usage so the website is billed for its plan."},
		{"scope": "bucket:url:read", "justification": "We read back upload URLs to show export status to operators."},
		{"scope": "bucket:url:write", "justification": "We would like to create upload URLs for exported reports."},
	}})
	req, _ := http.NewRequest("POST", a.URL+"/plugin/v1/scope-requests", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(plugin.ID, plugin.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var filed struct {
		ID    string `json:"id"`
		Lines []struct {
			Status string `json:"status"`
		} `json:"lines"`
	}
	err = json.NewDecoder(resp.Body).Decode(&filed)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 201 || filed.ID == "" || len(filed.Lines) != 3 || filed.Lines[0].Status != "pending" {
		t.Fatalf("filing: %d %+v %v", resp.StatusCode, filed, err)
	}

	out, _, code := a.cli(t, "", "reviews", "list")
	if code != 0 || !strings.Contains(out, filed.ID) {
		t.Fatalf("reviews list (exit %d) does not show %s:\n%s", code, filed.ID, out)
	}
	a.cliJSON(t, "", "reviews", "decide", filed.ID, "--line", "0", "--approve", "--note", "billing is the plugin's purpose")
	a.cliJSON(t, "", "reviews", "decide", filed.ID, "--line", "1", "--approve", "--note", "read-only is fine")
	a.cliJSON(t, "", "reviews", "decide", filed.ID, "--line", "2", "--reject", "--note", "no write access to buckets")

	if _, err := ccConfig(a, plugin, "bucket:url:write").Token(ctx); !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
		t.Fatalf("token for the rejected line: %v", err)
	}
	tok, err := ccConfig(a, plugin, "plugin:subscription:bill:write", "bucket:url:read").Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in := a.introspect(t, rs, tok.AccessToken); in["scope"] != "bucket:url:read plugin:subscription:bill:write" {
		t.Fatalf("introspection: %v", in)
	}

	if _, errOut, code := b.cli(t, "", "clients", "lower", plugin.ID, "--scope", "bucket:url:read"); code != 0 {
		t.Fatalf("clients lower: exit %d: %s", code, errOut)
	}
	start := time.Now()
	eventually(t, 2*time.Second, "lowered maximum narrows the live token on the other instance", func() bool {
		in := a.introspect(t, rs, tok.AccessToken)
		return active(in) && in["scope"] == "plugin:subscription:bill:write"
	})
	t.Logf("lowered maximum visible on the other instance after %v", time.Since(start).Round(time.Millisecond))

	events := a.cliJSON(t, "", "audit", "--client", plugin.ID)
	raw, _ := json.Marshal(events)
	for _, kind := range []string{"review.", "client.maximum_lowered"} { // issuance is counted in metrics, not audited
		if !bytes.Contains(raw, []byte(kind)) {
			t.Errorf("audit trail has no %q event: %s", kind, raw)
		}
	}
}

// TestEachRevocationKillsExactlyWhatItShould runs every kind of revocation
// through the built binary, checking after each that exactly the expected
// tokens died: a leaked token (its grant), a grant, a website, a client,
// and a public leak report.
func TestEachRevocationKillsExactlyWhatItShould(t *testing.T) {
	s := startServer(t)
	cbURL := "http://127.0.0.1:1/callback" // never fetched: consent is driven over HTTP
	s.cliJSON(t, "operator password 1\n", "operators", "create", "--email", "op@example.test", "--password-stdin",
		"--website", "site-1", "--website", "site-2")
	mk := func(name string) client {
		return s.createClient(t, "--name", name, "--redirect-uri", cbURL, "--grant-type", "authorization_code",
			"--grant-type", "refresh_token", "--grant-type", "client_credentials",
			"--approve", "website:people:data:read", "--approve", billWrite)
	}
	pa, pb := mk("Plugin A"), mk("Plugin B")
	rs := s.createClient(t, "--name", "REST API", "--role", "resource-server")

	toks := map[string]string{} // name -> access token
	grants := map[string]string{}
	for _, p := range []struct {
		name string
		c    client
	}{{"A", pa}, {"B", pb}} {
		for _, w := range []string{"site-1", "site-2"} {
			tok := consentOverHTTP(t, s, p.c, cbURL, w)
			toks[p.name+"@"+w] = tok.AccessToken
			grants[p.name+"@"+w] = s.introspect(t, rs, tok.AccessToken)["grant_id"].(string)
		}
		cc, err := ccConfig(s, p.c).Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		toks[p.name+"-cc"] = cc.AccessToken
	}
	dead := map[string]bool{}
	check := func(step string) {
		t.Helper()
		for name, tok := range toks {
			if got := active(s.introspect(t, rs, tok)); got == dead[name] {
				t.Errorf("after %s: %s active = %v, want %v", step, name, got, !dead[name])
			}
		}
	}
	check("setup")
	counts := func(m map[string]any) (int, int) {
		g, _ := m["grants"].(float64)
		n, _ := m["tokens"].(float64)
		return int(g), int(n)
	}

	// A leaked token, pasted by an admin (from stdin): its whole grant.
	m := s.cliJSON(t, toks["B@site-2"]+"\n", "revoke", "--token", "-")
	if g, n := counts(m); g != 1 || n != 2 {
		t.Errorf("revoke --token: %v, want 1 grant, 2 tokens (access + refresh)", m)
	}
	dead["B@site-2"] = true
	check("revoke --token")

	m = s.cliJSON(t, "", "revoke", "--grant", grants["A@site-2"])
	if g, n := counts(m); g != 1 || n != 2 {
		t.Errorf("revoke --grant: %v", m)
	}
	dead["A@site-2"] = true
	check("revoke --grant")

	m = s.cliJSON(t, "", "revoke", "--website", "site-1")
	if g, n := counts(m); g != 2 || n != 4 {
		t.Errorf("revoke --website: %v", m)
	}
	dead["A@site-1"], dead["B@site-1"] = true, true
	check("revoke --website")

	m = s.cliJSON(t, "", "revoke", "--client", pa.ID)
	if g, n := counts(m); g != 1 || n != 1 {
		t.Errorf("revoke --client: %v", m)
	}
	dead["A-cc"] = true
	check("revoke --client")

	// Anyone can report a token found in the wild; the answer says nothing.
	resp, err := http.PostForm(s.URL+"/oauth/leaked", url.Values{"token": {toks["B-cc"]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("leak report: %d", resp.StatusCode)
	}
	dead["B-cc"] = true
	check("leak report")

	// Revoking again counts nothing.
	if m := s.cliJSON(t, "", "revoke", "--website", "site-1"); m["grants"] != float64(0) {
		t.Errorf("second revoke --website: %v", m)
	}
}

// consentOverHTTP runs the operator's part of the authorization code flow
// with a plain cookie-keeping HTTP client (the browser path is proven in
// TestAuthorizationCodeFlowInBrowser) and exchanges the code.
func consentOverHTTP(t *testing.T, s *server, c client, redirect, website string) *oauth2.Token {
	t.Helper()
	return operatorOf(t, s).tokens(c, redirect, website)
}
