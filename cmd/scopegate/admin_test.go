package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
)

const cliAdminToken = "sgadm_cli-test-admin-token-0123456789abcdefghij"

// cliEnv is a real `scopegate serve` started in process against a real
// redis-server, and the store on the same Redis for checks behind the API.
type cliEnv struct {
	base  string
	store storage.Store
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	addr := redistest.StartServer(t)
	base, _ := startServe(t, "--addr", "127.0.0.1:0", "--redis", "redis://"+addr, "--admin-token", cliAdminToken, "--log-level", "error")
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	t.Cleanup(func() { _ = store.Close() })
	return &cliEnv{base: base, store: store}
}

// env is the environment scripts would set.
func (c *cliEnv) env() env {
	return envMap(map[string]string{"SCOPEGATE_SERVER": c.base, "SCOPEGATE_ADMIN_TOKEN": cliAdminToken})
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, getenv env, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, getenv, strings.NewReader(stdin), &out, &errOut)
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ok runs a command that must succeed.
func (c *cliEnv) ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := runCLI(t, c.env(), stdin, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("scopegate %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// json runs a command with --json and decodes its one JSON object.
func (c *cliEnv) json(t *testing.T, stdin string, args ...string) map[string]any {
	t.Helper()
	out := c.ok(t, stdin, append(args, "--json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("scopegate %s --json: not a JSON object: %v\n%s", strings.Join(args, " "), err, out)
	}
	if dec.More() {
		t.Fatalf("scopegate %s --json: more than one JSON value:\n%s", strings.Join(args, " "), out)
	}
	return m
}

// typed runs a command with --json and decodes its one JSON object into
// v, one of the admin API's types, strictly: a field the type does not
// have fails the test.
func (c *cliEnv) typed(t *testing.T, v any, stdin string, args ...string) {
	t.Helper()
	out := c.ok(t, stdin, append(args, "--json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("scopegate %s --json: not a %T: %v\n%s", strings.Join(args, " "), v, err, out)
	}
	if dec.More() {
		t.Fatalf("scopegate %s --json: more than one JSON value:\n%s", strings.Join(args, " "), out)
	}
}

// fails runs a command that must fail with code and one stderr line
// containing each of want.
func (c *cliEnv) fails(t *testing.T, getenv env, code int, stdin string, args []string, want ...string) {
	t.Helper()
	r := runCLI(t, getenv, stdin, args...)
	if r.code != code {
		t.Errorf("scopegate %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("scopegate %s: stdout %q on failure", strings.Join(args, " "), r.stdout)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("scopegate %s: stderr is not one line: %q", strings.Join(args, " "), r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("scopegate %s: stderr %q lacks %q", strings.Join(args, " "), r.stderr, w)
		}
	}
}

func (c *cliEnv) ccConfig(id, secret string, scope ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: c.base + "/oauth/token", Scopes: scope, AuthStyle: oauth2.AuthStyleInHeader}
}

func (c *cliEnv) introspect(t *testing.T, rsID, rsSecret, tok string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/oauth/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rsID, rsSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&m) != nil {
		t.Fatalf("introspect: status %d", resp.StatusCode)
	}
	return m
}

func active(m map[string]any) bool { b, _ := m["active"].(bool); return b }

func TestCLIErrors(t *testing.T) {
	c := newCLIEnv(t)
	c.fails(t, c.env(), 1, "", []string{"clients", "create", "--name", "X", "--redirect-uri", "http://evil.example/cb", "--privacy-url", "ftp://x.example/p"},
		"scopegate clients create: invalid request:", "privacy_url: must be https; redirect_uris[0]: must be https (http only for loopback hosts)")
	c.fails(t, noEnv, 2, "", []string{"clients", "list", "--server", c.base},
		"scopegate clients list: no admin token: set --admin-token or SCOPEGATE_ADMIN_TOKEN")
	c.fails(t, envMap(map[string]string{"SCOPEGATE_SERVER": c.base, "SCOPEGATE_ADMIN_TOKEN": "sgadm_wrong-wrong-wrong-wrong-wrong-wrong"}), 1, "",
		[]string{"clients", "list"}, "scopegate clients list: admin token rejected: the admin token is invalid")
	// Flags beat the environment.
	if out := runCLI(t, envMap(map[string]string{"SCOPEGATE_SERVER": "http://127.0.0.1:1", "SCOPEGATE_ADMIN_TOKEN": "wrong"}), "",
		"clients", "list", "--server", c.base, "--admin-token", cliAdminToken); out.code != 0 {
		t.Errorf("flags over env: exit %d %s", out.code, out.stderr)
	}

	// Connection refused: a closed port.
	r := runCLI(t, envMap(map[string]string{"SCOPEGATE_SERVER": "http://127.0.0.1:1", "SCOPEGATE_ADMIN_TOKEN": cliAdminToken}), "", "revoke", "--client", "x-1")
	if r.code != 1 || r.stderr != "scopegate revoke: cannot reach server at http://127.0.0.1:1\n" {
		t.Errorf("connection refused: exit %d, stderr %q", r.code, r.stderr)
	}
	c.fails(t, c.env(), 2, "", []string{"revoke", "--client", "a-1", "--website", "w-1"}, "give exactly one of --token, --grant, --client, --website")
	c.fails(t, c.env(), 2, "", []string{"revoke"}, "give exactly one of")
	c.fails(t, c.env(), 2, "", []string{"clients", "show"}, "scopegate clients show: missing client ID")
	c.fails(t, c.env(), 2, "", []string{"clients", "show", "a-1", "b-1"}, `unexpected argument "b-1"`)
	c.fails(t, c.env(), 2, "", []string{"clients", "frobnicate"}, `unknown subcommand "frobnicate"`)
	c.fails(t, c.env(), 2, "", []string{"clients"}, "missing subcommand")
	c.fails(t, c.env(), 2, "", []string{"clients", "create"}, "--name is required")
	c.fails(t, c.env(), 2, "", []string{"clients", "create", "--nme", "x"}, "unknown flag --nme (did you mean --name?)")
	c.fails(t, c.env(), 2, "", []string{"clients", "rotate-secret", "a-1", "--grace", "200h"}, "--grace must be whole seconds from 0 to 168h")
	c.fails(t, c.env(), 2, "", []string{"reviews", "decide", "0123456789012345678901", "--line", "0"}, "give exactly one of --approve and --reject")
	c.fails(t, c.env(), 2, "", []string{"audit", "--since", "last tuesday"}, "--since: not an RFC 3339 time or a duration")
	c.fails(t, c.env(), 2, "", []string{"operators", "create", "--email", "a@b.example", "--website", "w-1"}, "--password-stdin is required")
	c.fails(t, c.env(), 1, "", []string{"revoke", "--token", "not-a-token"}, "token: is not a scopegate token")
	// A stale SCOPEGATE_TOKEN (or NAME) in the environment is never used.
	c.fails(t, envMap(map[string]string{"SCOPEGATE_SERVER": c.base, "SCOPEGATE_ADMIN_TOKEN": cliAdminToken, "SCOPEGATE_TOKEN": "sga_x"}), 2, "",
		[]string{"revoke"}, "give exactly one of")

	// --help prints the flags (with their environment variables) and exits 0.
	h := runCLI(t, noEnv, "", "revoke", "--help")
	if h.code != 0 || !strings.Contains(h.stdout, "--token") || !strings.Contains(h.stdout, "env SCOPEGATE_ADMIN_TOKEN") || strings.Contains(h.stdout, "SCOPEGATE_TOKEN") {
		t.Errorf("revoke --help: exit %d\n%s", h.code, h.stdout)
	}
	if h := runCLI(t, noEnv, "", "clients", "--help"); h.code != 0 || !strings.Contains(h.stdout, "scopegate clients create") {
		t.Errorf("clients --help: exit %d\n%s", h.code, h.stdout)
	}
}
