package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the scopegate binary built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scopegate-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "scopegate")
	build := exec.Command("go", "build", "-o", binary, "github.com/scopegate/scopegate/cmd/scopegate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "integration: building scopegate failed:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const adminToken = "it-admin-token-0123456789abcdefghijklmnopqrstuv"

// server is one running `scopegate serve` process.
type server struct {
	*proc
	RedisURL string
}

// startServer starts a real redis-server, persistent as the README asks
// (durableArgs), and scopegate against it.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	return startServerOn(t, "redis://"+durableRedis(t).Addr, extra...)
}

// startServerOn starts scopegate against the given Redis URL. Several
// servers on one Redis act as instances of one deployment.
func startServerOn(t testing.TB, redisURL string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--redis", redisURL, "--admin-token", adminToken}, extra...)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	return &server{proc: startProc(t, "scopegate", env, args, regexp.MustCompile(`^scopegate: listening on (http://\S+)`)), RedisURL: redisURL}
}

// proc is one running process of the built binary: its command, what it
// wrote to stderr, and the URL it announced on stdout.
type proc struct {
	URL string
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

// startProc starts the binary with args and env, waits (30 s at most) for
// the stdout line listening matches (its one group is the URL), and stops
// the process at cleanup: SIGINT, then SIGKILL after 10 s. The log is
// shown when the test failed.
func startProc(t testing.TB, name string, env, args []string, listening *regexp.Regexp) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, args...)}
	p.cmd.Env = env
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.out.Write(b)
	})
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.log())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("%s exited before listening:\n%s", name, p.log())
		}
		p.URL = u
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30s:\n%s", name, p.log())
	}
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// cli runs the scopegate CLI against s and returns stdout, stderr and the
// exit status.
func (s *server) cli(t testing.TB, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SCOPEGATE_SERVER=" + s.URL, "SCOPEGATE_ADMIN_TOKEN=" + adminToken}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("scopegate %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// cliJSON runs a CLI command with --json and decodes its one JSON object.
func (s *server) cliJSON(t testing.TB, stdin string, args ...string) map[string]any {
	t.Helper()
	out, errOut, code := s.cli(t, stdin, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("scopegate %v: exit %d: %s", args, code, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("scopegate %v: output is not one JSON object: %v\n%s", args, err, out)
	}
	return m
}

// client is a provisioned OAuth client.
type client struct{ ID, Secret string }

func (s *server) createClient(t testing.TB, args ...string) client {
	t.Helper()
	m := s.cliJSON(t, "", append([]string{"clients", "create"}, args...)...)
	id, _ := m["client_id"].(string)
	secret, _ := m["client_secret"].(string)
	if id == "" {
		t.Fatalf("clients create gave no client_id: %v", m)
	}
	return client{ID: id, Secret: secret}
}

// introspect calls the introspection endpoint as resource server rs.
func (s *server) introspect(t *testing.T, rs client, tok string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rs.ID), url.QueryEscape(rs.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("introspect: %d %s", resp.StatusCode, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func active(m map[string]any) bool { b, _ := m["active"].(bool); return b }

// eventually polls cond every 20 ms until it holds or the bound passes. It
// is for effects that the design allows to take time (client changes reach
// other instances within 1 s), never for timing.
func eventually(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, bound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
