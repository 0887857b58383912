package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func noEnv(string) string { return "" }

func envMap(m map[string]string) env { return func(k string) string { return m[k] } }

func TestServeConfigFlagsAndEnv(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    func(ServeConfig) bool
		wantErr []string // substrings, one per expected problem line
	}{
		{name: "defaults", want: func(c ServeConfig) bool {
			return c.Addr == "127.0.0.1:8080" && c.RedisURL == "" && c.AccessTTL == time.Hour && c.RefreshTTL == 720*time.Hour && c.CodeTTL == time.Minute
		}},
		{name: "env fills unset flags", env: map[string]string{"SCOPEGATE_REDIS_URL": "redis://10.0.0.1:6379/2", "SCOPEGATE_ACCESS_TTL": "15m", "SCOPEGATE_DEMO": "true"},
			want: func(c ServeConfig) bool {
				return c.RedisURL == "redis://10.0.0.1:6379/2" && c.AccessTTL == 15*time.Minute && c.Demo
			}},
		{name: "flag beats env", args: []string{"--addr", "127.0.0.1:9999"}, env: map[string]string{"SCOPEGATE_ADDR": "127.0.0.1:1111"},
			want: func(c ServeConfig) bool { return c.Addr == "127.0.0.1:9999" }},
		{name: "cluster url", args: []string{"--redis", "redis+cluster://127.0.0.1:7000?addr=127.0.0.1:7001"},
			want: func(c ServeConfig) bool { return strings.HasPrefix(c.RedisURL, "redis+cluster://") }},
		{name: "every problem reported together",
			args:    []string{"--addr", "nope", "--issuer", "ftp://x", "--access-ttl", "1s", "--log-level", "loud", "--redis", "mysql://x"},
			wantErr: []string{"--addr (SCOPEGATE_ADDR)", "--issuer (SCOPEGATE_ISSUER)", "--redis (SCOPEGATE_REDIS_URL)", "--access-ttl (SCOPEGATE_ACCESS_TTL)", "--log-level (SCOPEGATE_LOG_LEVEL)"}},
		{name: "http issuer only on loopback", args: []string{"--issuer", "http://auth.example.com"}, wantErr: []string{"must be https"}},
		{name: "issuer without query", args: []string{"--issuer", "https://auth.example.com/?x=1"}, wantErr: []string{"no query"}},
		{name: "trusted proxies from env", env: map[string]string{"SCOPEGATE_TRUSTED_PROXY": "10.0.0.1, 192.168.0.0/16"},
			want: func(c ServeConfig) bool { return len(c.TrustedProxies) == 2 && c.TrustedProxies[1] == "192.168.0.0/16" }},
		{name: "bad trusted proxy", args: []string{"--trusted-proxy", "not-an-ip"}, wantErr: []string{"--trusted-proxy"}},
		{name: "short admin token", args: []string{"--admin-token", "short"}, wantErr: []string{"--admin-token (SCOPEGATE_ADMIN_TOKEN): must be at least 32"}},
		{name: "long admin token", args: []string{"--admin-token", strings.Repeat("x", 257)}, wantErr: []string{"--admin-token (SCOPEGATE_ADMIN_TOKEN): must be at most 256 characters"}},
		{name: "int below minimum", args: []string{"--redis-wait-replicas", "-1"}, wantErr: []string{"--redis-wait-replicas (SCOPEGATE_REDIS_WAIT_REPLICAS): -1 is below the minimum 0"}},
		{name: "int above maximum", args: []string{"--redis-wait-replicas", "6"}, wantErr: []string{"--redis-wait-replicas (SCOPEGATE_REDIS_WAIT_REPLICAS): 6 is above the maximum 5"}},
		{name: "duration below minimum", args: []string{"--code-ttl", "1s"}, wantErr: []string{"--code-ttl (SCOPEGATE_CODE_TTL): 1s is shorter than the minimum 5s"}},
		{name: "duration above maximum", args: []string{"--code-ttl", "11m"}, wantErr: []string{"--code-ttl (SCOPEGATE_CODE_TTL): 11m0s is longer than the maximum 10m"}},
		{name: "bad env value names the variable", env: map[string]string{"SCOPEGATE_CODE_TTL": "soon"}, wantErr: []string{"SCOPEGATE_CODE_TTL: invalid value"}},
		{name: "unknown flag", args: []string{"--bogus"}, wantErr: []string{"bogus"}},
		{name: "stray argument", args: []string{"extra"}, wantErr: []string{`unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg ServeConfig
			fs := newFlagSet("serve", "", io.Discard)
			cfg.bind(fs)
			errs := parseFlags(fs, tt.args, envMap(tt.env))
			if len(errs) == 0 {
				errs = validate(newValidator(), &cfg)
			}
			if len(tt.wantErr) == 0 {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				if !tt.want(cfg) {
					t.Fatalf("config not as expected: %+v", cfg)
				}
				return
			}
			if len(errs) != len(tt.wantErr) {
				t.Fatalf("got %d problems %v, want %d", len(errs), errs, len(tt.wantErr))
			}
			for i, want := range tt.wantErr {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
		})
	}
}

func TestServeBadFlagsExitNonZeroWithOneLinePerProblem(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "nope", "--refresh-ttl", "1m"}, noEnv, nil, &stdout, &stderr)
	if code == 0 {
		t.Fatal("exit status 0 for bad flags")
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines on stderr, got %q", stderr.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "scopegate: --") {
			t.Errorf("line %q does not name the flag", l)
		}
	}
}

func TestServeHelpExplainsEverySetting(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--help"}, noEnv, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	var cfg ServeConfig
	n := 0
	for _, name := range flagNames(&cfg) {
		n++
		if !strings.Contains(stdout.String(), "--"+name+" ") && !strings.Contains(stdout.String(), "--"+name+"\n") {
			t.Errorf("--help does not list --%s", name)
		}
		if !strings.Contains(stdout.String(), envName(name)) {
			t.Errorf("--help does not name %s", envName(name))
		}
	}
	if n < 10 {
		t.Fatalf("only %d flags found", n)
	}
}

func TestUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, noEnv, nil, &stdout, &stderr); code == 0 {
		t.Fatal("exit 0 for an unknown command")
	}
	if got := strings.Count(stderr.String(), "\n"); got != 1 {
		t.Fatalf("want one line on stderr, got %q", stderr.String())
	}
}

// flagNames lists the flags ServeConfig binds.
func flagNames(cfg *ServeConfig) []string {
	fs := newFlagSet("serve", "", io.Discard)
	cfg.bind(fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// TestComposeFileAgreesWithTheBinary checks docker-compose.yml without a
// Docker engine: every SCOPEGATE_ variable it sets is one the binary reads,
// the values pass the binary's own validation, ports are published on
// loopback only and match the listen address, Redis keeps an AOF, and the
// Dockerfile it names exists and builds this command.
func TestComposeFileAgreesWithTheBinary(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			Build struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	sg, ok := doc.Services["scopegate"]
	if !ok {
		t.Fatal("no scopegate service")
	}
	rd, ok := doc.Services["redis"]
	if !ok {
		t.Fatal("no redis service")
	}
	if !slices.Contains(rd.Command, "--appendonly") || rd.Command[slices.Index(rd.Command, "--appendonly")+1] != "yes" {
		t.Errorf("redis does not run with --appendonly yes: %v", rd.Command)
	}
	if sg.Command[0] != "serve" {
		t.Errorf("scopegate command %v, want serve", sg.Command)
	}

	var cfg ServeConfig
	fs := newFlagSet("serve", "", io.Discard)
	cfg.bind(fs)
	known := map[string]bool{}
	for _, n := range flagNames(&cfg) {
		known[envName(n)] = true
	}
	env := map[string]string{}
	interp := regexp.MustCompile(`^\$\{[A-Z_]+:-(.*)\}$`)
	for k, v := range sg.Environment {
		if !known[k] {
			t.Errorf("compose sets %s, which the binary does not read", k)
		}
		if m := interp.FindStringSubmatch(v); m != nil {
			v = m[1] // ${VAR:-default}: the default
		}
		env[k] = v
	}
	if errs := parseFlags(fs, nil, envMap(env)); len(errs) > 0 {
		t.Fatalf("compose environment rejected: %v", errs)
	}
	if errs := validate(newValidator(), &cfg); len(errs) > 0 {
		t.Fatalf("compose environment rejected: %v", errs)
	}
	if !strings.Contains(cfg.RedisURL, "//redis:") {
		t.Errorf("SCOPEGATE_REDIS_URL %q does not point at the redis service", cfg.RedisURL)
	}
	_, listenPort, _ := net.SplitHostPort(cfg.Addr)
	if len(sg.Ports) == 0 {
		t.Fatal("scopegate publishes no port")
	}
	for _, svc := range doc.Services {
		for _, p := range svc.Ports {
			parts := strings.Split(p, ":")
			if len(parts) != 3 || net.ParseIP(parts[0]) == nil || !net.ParseIP(parts[0]).IsLoopback() {
				t.Errorf("port %q is not published on loopback only", p)
			}
		}
	}
	if parts := strings.Split(sg.Ports[0], ":"); parts[2] != listenPort {
		t.Errorf("container port %s differs from SCOPEGATE_ADDR port %s", parts[2], listenPort)
	}
	df, err := os.ReadFile(filepath.Join(root, sg.Build.Context, sg.Build.Dockerfile))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	if !strings.Contains(string(df), "./cmd/scopegate") {
		t.Error("Dockerfile does not build ./cmd/scopegate")
	}
	checkDockerHealthcheck(t, root, string(df), sg.Healthcheck.Test, cfg.Addr)
}

// TestServeEndToEnd starts `scopegate serve` in process on a free port with
// the embedded store and demo data, checks discovery and health over real
// HTTP, then stops it with the context (as SIGTERM does).
func TestServeEndToEnd(t *testing.T) {
	base, stop := startServe(t, "--addr", "127.0.0.1:0", "--demo", "--admin-token", strings.Repeat("a", 40))
	resp, err := http.Get(base + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md struct {
		Issuer          string   `json:"issuer"`
		ScopesSupported []string `json:"scopes_supported"`
		TokenEndpoint   string   `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || md.Issuer != base || len(md.ScopesSupported) != 70 || md.TokenEndpoint != base+"/oauth/token" {
		t.Fatalf("metadata: status %d, %+v (%d scopes)", resp.StatusCode, md, len(md.ScopesSupported))
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		r, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Errorf("%s: status %d", path, r.StatusCode)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d after shutdown", code)
	}
}

// startServe runs `scopegate serve args...` in process and returns its base
// URL and a stop function that cancels it and returns the exit status.
func startServe(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		code := run(ctx, append([]string{"serve"}, args...), noEnv, nil, pw, &stderr)
		pw.Close()
		done <- code
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := regexp.MustCompile(`^scopegate: listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				lines <- m[1]
			}
		}
		close(lines)
	}()
	var base string
	select {
	case b, ok := <-lines:
		if !ok {
			cancel()
			t.Fatalf("serve exited before listening: %s", stderr.String())
		}
		base = b
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not start within 30s: %s", stderr.String())
	}
	stopped := false
	stop := func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop within 15s")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

// TestReadmeDocumentsEverySetting keeps the README's configuration table
// true: every serve flag and its environment variable appear in it.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	var cfg ServeConfig
	for _, name := range flagNames(&cfg) {
		row := "| `--" + name + "` | `" + envName(name) + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README configuration table has no row starting %q", row)
		}
	}
}
