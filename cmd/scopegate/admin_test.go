package main

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

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
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

func TestCLIClients(t *testing.T) {
	c := newCLIEnv(t)
	m := c.json(t, "", "clients", "create", "--name", "Helpdesk", "--redirect-uri", "https://helpdesk.example/cb",
		"--approve", "website:people:data:write", "--approve", "plugin:subscription:bill:write")
	id, secret := m["client_id"].(string), m["client_secret"].(string)
	if !strings.HasPrefix(id, "plg_") || !strings.HasPrefix(secret, "sgs_") || m["review_id"] == "" {
		t.Fatalf("clients create --json = %v", m)
	}
	// The secret works for the approved plugin scope; beyond it, invalid_scope.
	tok, err := c.ccConfig(id, secret, "plugin:subscription:bill:write").Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	_, err = c.ccConfig(id, secret, "bucket:url:write").Token(context.Background())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
		t.Errorf("unapproved scope: %v", err)
	}

	pub := c.json(t, "", "clients", "create", "--name", "SPA", "--public", "--redirect-uri", "http://127.0.0.1:3000/cb", "--id", "spa-1")
	if _, has := pub["client_secret"]; has || pub["client_id"] != "spa-1" || pub["type"] != "public" {
		t.Errorf("public client --json = %v", pub)
	}
	rs := c.json(t, "", "clients", "create", "--name", "REST API", "--role", "resource-server")
	rsID, rsSecret := rs["client_id"].(string), rs["client_secret"].(string)
	if !strings.HasPrefix(rsID, "rs_") || rs["role"] != "resource-server" {
		t.Errorf("resource server --json = %v", rs)
	}
	if !active(c.introspect(t, rsID, rsSecret, tok.AccessToken)) {
		t.Fatal("token inactive")
	}

	// Text output: a table with every client; show without the secret.
	list := c.ok(t, "", "clients", "list")
	if !strings.HasPrefix(list, "CLIENT_ID") || !strings.Contains(list, id) || !strings.Contains(list, "spa-1") || !strings.Contains(list, rsID) {
		t.Errorf("clients list:\n%s", list)
	}
	show := c.ok(t, "", "clients", "show", id)
	if !strings.Contains(show, "website:people:data:write plugin:subscription:bill:write") || strings.Contains(show, secret) {
		t.Errorf("clients show:\n%s", show)
	}
	if got := c.json(t, "", "clients", "list")["clients"].([]any); len(got) != 3 {
		t.Errorf("clients list --json: %d clients", len(got))
	}

	// Suspend: tokens inactive, token requests refused; resume undoes it.
	if out := c.ok(t, "", "clients", "suspend", id); out != "client "+id+" is suspended\n" {
		t.Errorf("suspend output %q", out)
	}
	if active(c.introspect(t, rsID, rsSecret, tok.AccessToken)) {
		t.Error("suspended client's token active")
	}
	if _, err := c.ccConfig(id, secret).Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("suspended client's token request: %v", err)
	}
	if m := c.json(t, "", "clients", "resume", id); m["status"] != "active" {
		t.Errorf("resume --json = %v", m)
	}
	if !active(c.introspect(t, rsID, rsSecret, tok.AccessToken)) {
		t.Error("token inactive after resume")
	}

	// Rotate with no grace: the old secret stops at once.
	rot := c.json(t, "", "clients", "rotate-secret", id, "--grace", "0s")
	fresh := rot["client_secret"].(string)
	if fresh == secret || !strings.HasPrefix(fresh, "sgs_") {
		t.Fatalf("rotate-secret --json = %v", rot)
	}
	if _, err := c.ccConfig(id, secret).Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("old secret after rotation: %v", err)
	}
	if _, err := c.ccConfig(id, fresh).Token(context.Background()); err != nil {
		t.Errorf("new secret: %v", err)
	}
	// Default grace: both work.
	rot = c.json(t, "", "clients", "rotate-secret", "--grace", "1h", id)
	if _, err := c.ccConfig(id, fresh).Token(context.Background()); err != nil {
		t.Errorf("previous secret during the grace period: %v", err)
	}

	// Lower and update.
	if out := c.ok(t, "", "clients", "lower", id, "--scope", "plugin:subscription:bill:write"); out != "client "+id+" approved maximum: website:people:data:write\n" {
		t.Errorf("lower output %q", out)
	}
	if m := c.json(t, "", "clients", "update", "spa-1", "--name", "SPA 2", "--redirect-uri", "http://127.0.0.1:4000/cb"); m["name"] != "SPA 2" {
		t.Errorf("update --json = %v", m)
	}

	// Delete revokes everything.
	del := c.json(t, "", "clients", "delete", id)
	if del["deleted"] != true || del["grants"].(float64) < 1 || del["tokens"].(float64) < 1 {
		t.Errorf("delete --json = %v", del)
	}
	c.fails(t, c.env(), 1, "", []string{"clients", "show", id}, "scopegate clients show: client not found")
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

func TestCLIOperators(t *testing.T) {
	c := newCLIEnv(t)
	// One website exists already; the other is created with its ID as name.
	c.json(t, "", "clients", "list") // server up
	if err := c.store.PutWebsite(context.Background(), storage.Website{ID: "site-old", Name: "Old Shop"}); err != nil {
		t.Fatal(err)
	}
	const pw = "a long enough password"
	m := c.json(t, pw+"\n", "operators", "create", "--email", "Ops@Shop.example", "--password-stdin", "--website", "site-old", "--website", "site-new")
	if !strings.HasPrefix(m["operator_id"].(string), "op_") || m["email"] != "ops@shop.example" {
		t.Fatalf("operators create --json = %v", m)
	}
	if got := toStrings(m["websites_created"]); strings.Join(got, ",") != "site-new" {
		t.Errorf("websites_created = %v", got)
	}
	ctx := context.Background()
	if w, err := c.store.GetWebsite(ctx, "site-old"); err != nil || w.Name != "Old Shop" {
		t.Errorf("existing website changed: %+v %v", w, err)
	}
	if w, err := c.store.GetWebsite(ctx, "site-new"); err != nil || w.Name != "site-new" {
		t.Errorf("new website: %+v %v", w, err)
	}
	op, err := c.store.GetOperatorByEmail(ctx, "ops@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword(op.PasswordHash, []byte(pw)) != nil || strings.Join(op.Websites, ",") != "site-old,site-new" {
		t.Errorf("operator = %+v", op)
	}
	c.fails(t, c.env(), 1, pw+"\n", []string{"operators", "create", "--email", "ops@shop.example", "--password-stdin", "--website", "site-old"},
		"an operator with this e-mail already exists")
	c.fails(t, c.env(), 1, "short\n", []string{"operators", "create", "--email", "b@shop.example", "--password-stdin", "--website", "site-old"},
		"password: must be at least 12 characters")
	c.fails(t, c.env(), 2, "", []string{"operators", "create", "--email", "b@shop.example", "--password-stdin", "--website", "site-old"},
		"--password-stdin: standard input is empty")
	if out := c.ok(t, "another long password\n", "operators", "create", "--email", "c@shop.example", "--password-stdin", "--website", "site-new"); !strings.Contains(out, "created for websites site-new") {
		t.Errorf("operators create text:\n%s", out)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestCLIReviewsRevokeAudit(t *testing.T) {
	c := newCLIEnv(t)
	p := c.json(t, "", "clients", "create", "--name", "Uploader", "--grant-type", "client_credentials")
	id, secret := p["client_id"].(string), p["client_secret"].(string)
	rs := c.json(t, "", "clients", "create", "--name", "API", "--role", "resource-server")
	rsID, rsSecret := rs["client_id"].(string), rs["client_secret"].(string)

	// The plugin files its own request.
	body := `{"lines":[{"scope":"bucket:url:write","justification":"We upload the PDF invoices the plugin generates."},
		{"scope":"plugin:subscription:bill:write","justification":"We report metered usage for billing every hour."}]}`
	req, _ := http.NewRequest(http.MethodPost, c.base+"/plugin/v1/scope-requests", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var filed struct {
		ID string `json:"id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&filed)
	resp.Body.Close()
	if resp.StatusCode != 201 || filed.ID == "" {
		t.Fatalf("file request: %d", resp.StatusCode)
	}

	list := c.ok(t, "", "reviews", "list")
	if !strings.HasPrefix(list, "REVIEW") || strings.Count(list, filed.ID) != 2 || !strings.Contains(list, "bucket:url:write") {
		t.Errorf("reviews list:\n%s", list)
	}
	if got := c.json(t, "", "reviews", "list")["reviews"].([]any); len(got) != 1 {
		t.Errorf("reviews list --json: %v", got)
	}
	out := c.ok(t, "", "reviews", "decide", filed.ID, "--line", "0", "--approve", "--note", "ok")
	if out != "line 0 of review "+filed.ID+" approved; client "+id+" approved maximum: bucket:url:write\n" {
		t.Errorf("decide output %q", out)
	}
	dec := c.json(t, "", "reviews", "decide", filed.ID, "--line", "1", "--reject", "--note", "needs a contract")
	if dec["review"].(map[string]any)["status"] != "decided" {
		t.Errorf("decide --json = %v", dec)
	}
	c.fails(t, c.env(), 1, "", []string{"reviews", "decide", filed.ID, "--line", "1", "--approve"}, "line 1 is already rejected")
	show := c.ok(t, "", "reviews", "show", filed.ID)
	if !strings.Contains(show, "approved") || !strings.Contains(show, "rejected") || !strings.Contains(show, "admin:configured token: needs a contract") {
		t.Errorf("reviews show:\n%s", show)
	}
	if _, err := c.ccConfig(id, secret, "plugin:subscription:bill:write").Token(context.Background()); err == nil {
		t.Error("rejected scope granted")
	}
	tok, err := c.ccConfig(id, secret, "bucket:url:write").Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Revoke by token read from stdin: its grant dies; counts in JSON.
	rv := c.json(t, tok.AccessToken+"\n", "revoke", "--token", "-")
	if rv["grants"] != 1.0 || rv["tokens"] != 1.0 || rv["durable"] != true || len(rv) != 3 {
		t.Errorf("revoke --token - --json = %v", rv)
	}
	if active(c.introspect(t, rsID, rsSecret, tok.AccessToken)) {
		t.Error("revoked token active")
	}
	tok2, err := c.ccConfig(id, secret).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out := c.ok(t, "", "revoke", "--client", id); out != "revoked 1 grant, 1 token\n" {
		t.Errorf("revoke --client output %q", out)
	}
	if active(c.introspect(t, rsID, rsSecret, tok2.AccessToken)) {
		t.Error("token active after revoking its client")
	}
	c.fails(t, c.env(), 1, "", []string{"revoke", "--website", "nope-site"}, "scopegate revoke: website not found")

	// Audit: filters, paging, text table.
	a := c.json(t, "", "audit", "--client", id, "--kind", "revoke.client")
	evs := a["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["actor"] != "admin:configured token" || a["next"] != "" {
		t.Errorf("audit --kind revoke.client = %v", a)
	}
	if strings.Contains(c.ok(t, "", "audit", "--limit", "1000"), tok.AccessToken) {
		t.Error("the audit trail holds a token")
	}
	page1 := c.json(t, "", "audit", "--client", id, "--limit", "2")
	next, _ := page1["next"].(string)
	if len(page1["events"].([]any)) != 2 || next == "" {
		t.Fatalf("audit page 1 = %v", page1)
	}
	page2 := c.json(t, "", "audit", "--client", id, "--limit", "2", "--after", next)
	if e1, e2 := page1["events"].([]any)[1].(map[string]any), page2["events"].([]any)[0].(map[string]any); e1["id"] == e2["id"] {
		t.Error("page 2 repeats page 1")
	}
	text := c.ok(t, "", "audit", "--client", id, "--limit", "2", "--since", "1h")
	if !strings.HasPrefix(text, "TIME") || !strings.Contains(text, "more: --after ") {
		t.Errorf("audit text:\n%s", text)
	}
	if got := c.json(t, "", "audit", "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))["events"].([]any); len(got) != 0 {
		t.Errorf("audit since the future = %v", got)
	}
}
