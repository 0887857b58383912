package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readmeWalkthrough is the heading of the README section whose requests
// the test runs.
const readmeWalkthrough = "### A plugin's requests, with curl\n"

// readmeCurlBlocks returns the ```sh blocks that run curl in the README's
// plugin walkthrough, in order.
func readmeCurlBlocks(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), readmeWalkthrough)
	if !ok {
		t.Fatalf("README has no section %q", strings.TrimSpace(readmeWalkthrough))
	}
	if i := regexp.MustCompile(`(?m)^#{1,3} `).FindStringIndex(section); i != nil {
		section = section[:i[0]]
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		if strings.HasPrefix(strings.TrimSpace(m[1]), "curl ") {
			out = append(out, m[1])
		}
	}
	return out
}

// TestReadmeExampleRequests runs every curl example of the README, as it
// stands, with bash and curl against the built binary: each must succeed
// (HTTP 2xx, no error body), in order, the answers feeding the next ones
// (REVIEW_ID, ACCESS_TOKEN) as the README says.
func TestReadmeExampleRequests(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: make test-deps installs it", tool)
		}
	}
	blocks := readmeCurlBlocks(t)
	if len(blocks) < 5 {
		t.Fatalf("README has %d curl examples, want the 5 of the plugin walkthrough", len(blocks))
	}
	s := startServer(t)
	plugin := s.createClient(t, "--name", "Billing Plugin", "--grant-type", "client_credentials")
	rs := s.createClient(t, "--name", "REST API", "--role", "resource-server")
	vars := map[string]string{
		"SCOPEGATE": s.URL, "SCOPEGATE_ADMIN_TOKEN": adminToken,
		"PLUGIN_ID": plugin.ID, "PLUGIN_SECRET": plugin.Secret, "RS_ID": rs.ID, "RS_SECRET": rs.Secret,
	}
	for i, block := range blocks {
		status, body := runCurlExample(t, block, vars)
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil && body != "" {
			t.Fatalf("example %d answered HTTP %d with a non-JSON body %q:\n%s", i, status, body, block)
		}
		if status < 200 || status > 299 || m["error"] != nil {
			t.Fatalf("example %d failed: HTTP %d %s\n%s", i, status, body, block)
		}
		if id, ok := m["id"].(string); ok && strings.Contains(block, "/plugin/v1/scope-requests") {
			vars["REVIEW_ID"] = id
		}
		if tok, ok := m["access_token"].(string); ok {
			vars["ACCESS_TOKEN"] = tok
		}
		if a, ok := m["active"]; ok && a != true {
			t.Fatalf("example %d: introspection says inactive: %s", i, body)
		}
		if strings.Contains(block, "/lines/0") {
			if st := m["review"].(map[string]any)["lines"].([]any)[0].(map[string]any)["status"]; st != "approved" {
				t.Fatalf("example %d: line 0 is %v, want approved: %s", i, st, body)
			}
		}
	}
	for _, v := range []string{"REVIEW_ID", "ACCESS_TOKEN"} {
		if vars[v] == "" {
			t.Errorf("no example answered with %s", v)
		}
	}
	// The last example revoked the token.
	if active(s.introspect(t, rs, vars["ACCESS_TOKEN"])) {
		t.Error("the token is active after the README's revoke example")
	}
}

// runCurlExample runs one README block with bash, with vars in the
// environment, and returns the last curl's HTTP status and body.
func runCurlExample(t *testing.T, block string, vars map[string]string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// -w appends the status on a line of its own; the command is unchanged
	// otherwise.
	script := strings.Replace(block, "curl ", `curl -w '\n%{http_code}' `, 1)
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("example failed to run: %v\n%s\n%s", err, stderr.String(), block)
	}
	out := strings.TrimRight(stdout.String(), "\n")
	i := strings.LastIndexByte(out, '\n')
	status, err := strconv.Atoi(out[i+1:])
	if err != nil {
		t.Fatalf("no HTTP status in the output %q", out)
	}
	if i < 0 {
		return status, ""
	}
	return status, out[:i]
}
