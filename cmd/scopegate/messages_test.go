package main

import (
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/storage"
)

// TestCLIMessages is what a newcomer sees when a command goes wrong: one
// clean line, the right exit status (2 for a mistake found locally, 1 for
// one the server refused), a suggestion for a mistyped flag, no doubled
// wording and no parser internals.
func TestCLIMessages(t *testing.T) {
	c := newCLIEnv(t)
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		want    string
		notWant []string
	}{
		{"role checked locally", []string{"clients", "create", "--name", "X", "--role", "admin"}, 2,
			`scopegate clients create: --role "admin" is not one of: plugin, resource-server`, nil},
		{"grant type checked locally", []string{"clients", "create", "--name", "X", "--grant-type", "password"}, 2,
			`scopegate clients create: --grant-type "password" is not one of: authorization_code, refresh_token, client_credentials`, nil},
		{"update grant type checked locally", []string{"clients", "update", "plg_x", "--grant-type", "implicit"}, 2,
			`--grant-type "implicit" is not one of:`, nil},
		{"mistyped flag gets a suggestion", []string{"reviews", "decide", "r1", "--line", "0", "--aprove"}, 2,
			"scopegate reviews decide: unknown flag --aprove (did you mean --approve?)", []string{"flag provided but not defined"}},
		{"unknown flag without a near one", []string{"clients", "list", "--zzzzzzzz"}, 2,
			"scopegate clients list: unknown flag --zzzzzzzz", []string{"did you mean"}},
		{"bad number named in words", []string{"reviews", "decide", "r1", "--line", "one", "--approve"}, 2,
			`scopegate reviews decide: --line: invalid value "one": not a whole number`, []string{"parse error"}},
		{"flag without its value", []string{"audit", "--kind"}, 2, "scopegate audit: --kind needs a value", nil},
		{"audit kind checked locally", []string{"audit", "--kind", "revoke.nope"}, 2,
			`scopegate audit: --kind "revoke.nope" is not one of: grant.created,`, nil},
		{"review status checked locally", []string{"reviews", "list", "--status", "done"}, 2,
			`scopegate reviews list: --status "done" is not one of: pending, decided, all`, nil},
		{"scope checked locally, no offset", []string{"clients", "create", "--name", "X", "--approve", "website:nope:read"}, 2,
			`scopegate clients create: --approve "website:nope:read": unknown scope`, []string{"offset", "scopes:"}},
		{"lowered scope checked locally", []string{"clients", "lower", "plg_x", "--scope", "website:people:data"}, 2,
			`scopegate clients lower: --scope "website:people:data":`, []string{"offset"}},
		{"redirect URI reason said once", []string{"clients", "create", "--name", "X", "--redirect-uri", "http://evil.example/cb"}, 1,
			"scopegate clients create: invalid request: redirect_uris[0]: must be https (http only for loopback hosts)",
			[]string{"absolute https URL (http only for loopback):", "allowed only for loopback"}},
		{"homepage validated by the server", []string{"clients", "create", "--name", "X", "--homepage", "http://plugin.example/"}, 1,
			"invalid request: homepage_url: must be https (http only for loopback hosts)", nil},
		{"field complaint reads after its name", []string{"clients", "create", "--name", "X", "--public"}, 1,
			"invalid request: redirect_uris: are required for a public client", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.fails(t, c.env(), tc.code, "", tc.args, tc.want)
			r := runCLI(t, c.env(), "", tc.args...)
			for _, bad := range tc.notWant {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr %q contains %q", r.stderr, bad)
				}
			}
		})
	}

	// Local checks come before the missing admin token.
	c.fails(t, noEnv, 2, "", []string{"audit", "--kind", "revoke.nope"}, `scopegate audit: --kind "revoke.nope" is not one of:`)
	c.fails(t, noEnv, 2, "", []string{"audit"}, "scopegate audit: no admin token")

	// Plural wording.
	m := c.json(t, "", "clients", "create", "--name", "One", "--approve", "bucket:url:write",
		"--publisher", "One Ltd", "--homepage", "https://one.example/", "--privacy-url", "https://one.example/privacy")
	id := m["client_id"].(string)
	if m["publisher"] != "One Ltd" || m["homepage_url"] != "https://one.example/" || m["privacy_url"] != "https://one.example/privacy" {
		t.Errorf("clients create with trust fields --json = %v", m)
	}
	if show := c.ok(t, "", "clients", "show", id); !strings.Contains(show, "publisher      One Ltd") || !strings.Contains(show, "homepage       https://one.example/") {
		t.Errorf("clients show lacks the publisher and homepage:\n%s", show)
	}
	if upd := c.json(t, "", "clients", "update", id, "--publisher", "One Limited"); upd["publisher"] != "One Limited" || upd["homepage_url"] != "https://one.example/" {
		t.Errorf("clients update --publisher --json = %v", upd)
	}
	if list := c.ok(t, "", "clients", "list"); !regexp.MustCompile(`\b1 scope\n`).MatchString(list) {
		t.Errorf("clients list does not say '1 scope':\n%s", list)
	}
	if out := c.ok(t, "", "revoke", "--client", id); out != "revoked 0 grants, 0 tokens\n" {
		t.Errorf("revoke output %q", out)
	}

	// Decided reviews are listed without --client.
	out := c.ok(t, "", "reviews", "list", "--status", "decided")
	if !strings.Contains(out, id) || !strings.Contains(out, "bucket:url:write") || !strings.Contains(out, "approved") {
		t.Errorf("reviews list --status decided:\n%s", out)
	}

	// Per-command help.
	for _, cmd := range []string{"reviews", "operators", "clients"} {
		h := runCLI(t, noEnv, "", cmd, "--help")
		if h.code != 0 || !strings.Contains(h.stdout, "scopegate "+cmd+" ") {
			t.Errorf("%s --help: exit %d\n%s", cmd, h.code, h.stdout)
		}
		for _, other := range []string{"reviews", "operators", "clients", "revoke", "audit"} {
			if other != cmd && strings.Contains(h.stdout, "scopegate "+other+" ") {
				t.Errorf("%s --help also lists %s:\n%s", cmd, other, h.stdout)
			}
		}
	}
}

// TestServeReportsEveryBadValue: bad flag values, bad environment values
// and settings that fail validation all come out together, one line each.
func TestServeReportsEveryBadValue(t *testing.T) {
	r := runCLI(t, envMap(map[string]string{"SCOPEGATE_REFRESH_TTL": "forever"}), "",
		"serve", "--code-ttl", "5x", "--demo=maybe", "--log-level", "loud")
	want := []string{
		`scopegate: --code-ttl: invalid value "5x": not a duration such as 90s, 10m or 1h`,
		`scopegate: --demo: invalid value "maybe": not true or false`,
		`scopegate: SCOPEGATE_REFRESH_TTL: invalid value "forever": not a duration such as 90s, 10m or 1h`,
		`scopegate: --log-level (SCOPEGATE_LOG_LEVEL): "loud" is not one of: debug info warn error`,
	}
	got := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if r.code != 2 || !slices.Equal(got, want) {
		t.Errorf("exit %d, stderr lines:\n%s\nwant:\n%s", r.code, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r = runCLI(t, noEnv, "", "serve", "--isuer", "https://auth.example")
	if r.code != 2 || r.stderr != "scopegate: unknown flag --isuer (did you mean --issuer?)\n" {
		t.Errorf("serve --isuer: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, noEnv, "", "serve", "--admin-token-only")
	if r.code != 2 || !strings.Contains(r.stderr, "--admin-token-only (SCOPEGATE_ADMIN_TOKEN_ONLY): needs --admin-token") {
		t.Errorf("serve --admin-token-only alone: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestAdminTokenLabelsAndRetirement: the generated admin token carries a
// human label, and --admin-token-only leaves exactly one valid token.
func TestAdminTokenLabelsAndRetirement(t *testing.T) {
	c := newCLIEnv(t) // serves with cliAdminToken, label "configured token"
	ctx := context.Background()
	if label, err := c.store.CheckAdminToken(ctx, cliAdminToken); err != nil || label != "configured token" {
		t.Fatalf("configured token label = %q, %v", label, err)
	}
	old := "sgadm_an-old-admin-token-someone-lost-0123456789"
	if err := c.store.AddAdminToken(ctx, old, "laptop"); err != nil {
		t.Fatal(err)
	}
	store, ok := c.store.(*storage.Redis)
	if !ok {
		t.Fatalf("store is %T", c.store)
	}
	fresh := "sgadm_the-new-admin-token-after-recovery-0123456789"
	var out strings.Builder
	cfg := ServeConfig{AdminToken: fresh, AdminTokenOnly: true, AdminTokenLabel: "ops, recovered"}
	if err := bootstrapAdminToken(ctx, store, cfg, time.Now(), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "retired 2 other admin tokens") {
		t.Errorf("output %q", out.String())
	}
	for _, tok := range []string{cliAdminToken, old} {
		if _, err := store.CheckAdminToken(ctx, tok); err == nil {
			t.Errorf("retired admin token %s still valid", tok[:12])
		}
	}
	if label, err := store.CheckAdminToken(ctx, fresh); err != nil || label != "ops, recovered" {
		t.Errorf("kept token: %q, %v", label, err)
	}
	// The admin API now refuses the old token and takes the new one.
	c.fails(t, c.env(), 1, "", []string{"clients", "list"}, "admin token rejected")
	if r := runCLI(t, envMap(map[string]string{"SCOPEGATE_SERVER": c.base, "SCOPEGATE_ADMIN_TOKEN": fresh}), "", "clients", "list"); r.code != 0 {
		t.Errorf("new token: exit %d %s", r.code, r.stderr)
	}

	// A generated first token is labelled with its date, not
	// "generated at first start".
	var gen strings.Builder
	rec := &labelRecorder{}
	day := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	if err := bootstrapAdminToken(ctx, rec, ServeConfig{}, day, &gen); err != nil {
		t.Fatal(err)
	}
	if rec.label != "first-start token, 2026-12-07" || !strings.Contains(gen.String(), `("first-start token, 2026-12-07")`) {
		t.Errorf("first-start label %q, output %q", rec.label, gen.String())
	}
}

// labelRecorder is an empty admin-token store.
type labelRecorder struct{ label string }

func (l *labelRecorder) AddAdminToken(_ context.Context, _, label string) error {
	l.label = label
	return nil
}
func (l *labelRecorder) HasAdminTokens(context.Context) (bool, error) { return false, nil }
func (l *labelRecorder) RetireAdminTokensExcept(context.Context, string, string) (int, error) {
	return 0, nil
}

// TestMakefileStampsTheVersion: `make build` passes the git version to
// the linker, so `scopegate version` tells builds apart.
func TestMakefileStampsTheVersion(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make not found: it runs the test suite, install it")
	}
	out, err := exec.Command("make", "-n", "-C", filepath.Join("..", ".."), "build", "VERSION=v9.9.9-test").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "-X main.version=v9.9.9-test") {
		t.Errorf("make build does not stamp the version:\n%s", out)
	}
	if r := runCLI(t, noEnv, "", "version"); r.code != 0 || r.stdout != "scopegate "+versionString()+"\n" {
		t.Errorf("version: exit %d, %q", r.code, r.stdout)
	}
}

// TestRedisLogSaysRedisOnce: go-redis's own messages begin with "redis: ";
// the log line must not read "redis: redis: connection pool…".
func TestRedisLogSaysRedisOnce(t *testing.T) {
	var buf strings.Builder
	l := redisLog{slog.New(slog.NewTextHandler(&buf, nil))}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 1, "refused")
	l.Printf(context.Background(), "sentinel: new master=%q", "m1")
	out := buf.String()
	if strings.Contains(out, "redis: redis:") || !strings.Contains(out, `msg="redis: connection pool: failed to dial after 1 attempts: refused"`) ||
		!strings.Contains(out, `msg="redis: sentinel: new master=\"m1\""`) {
		t.Errorf("redis log lines:\n%s", out)
	}
}
