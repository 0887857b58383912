package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// checkDockerHealthcheck: the compose healthcheck and the Dockerfile's
// HEALTHCHECK run `scopegate healthcheck` from where the Dockerfile puts the
// binary (the image has no curl or shell), the binary knows that command
// and finds the compose listen address from it, the image is version
// stamped, and .dockerignore keeps what the build needs.
func checkDockerHealthcheck(t *testing.T, root, dockerfile string, test []string, addr string) {
	t.Helper()
	dest := regexp.MustCompile(`(?m)^COPY --from=build /out/scopegate (\S+)$`).FindStringSubmatch(dockerfile)
	if dest == nil {
		t.Fatal("Dockerfile: no COPY of the binary into the final image")
	}
	if want := []string{"CMD", dest[1], "healthcheck"}; !slices.Equal(test, want) {
		t.Errorf("compose healthcheck test = %q, want %q", test, want)
	}
	if !regexp.MustCompile(`(?m)^HEALTHCHECK .*\n?.*CMD \["` + regexp.QuoteMeta(dest[1]) + `", "healthcheck"\]`).MatchString(dockerfile) {
		t.Error("Dockerfile has no HEALTHCHECK running the binary's healthcheck command")
	}
	if !strings.Contains(dockerfile, "ARG VERSION") || !strings.Contains(dockerfile, "-X main.version=${VERSION}") {
		t.Error("Dockerfile does not stamp the version (ARG VERSION, -X main.version=${VERSION})")
	}
	if u, err := healthURL(addr); err != nil || !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("healthcheck URL for the compose address %q = %q, %v; want loopback", addr, u, err)
	}
	if r := runCLI(t, noEnv, "", "healthcheck", "--help"); r.code != 0 || !strings.Contains(r.stdout, "scopegate healthcheck") {
		t.Errorf("scopegate healthcheck --help: exit %d, %q", r.code, r.stdout)
	}
	ign, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	for _, line := range strings.Split(string(ign), "\n") {
		line = strings.TrimSpace(line)
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "scopes", "storage", "oauth", "web"} {
			if line == needed || line == needed+"/" || line == "*" || line == "**" {
				t.Errorf(".dockerignore excludes %q, which the build needs", line)
			}
		}
	}
	if !strings.Contains(string(ign), ".git") {
		t.Error(".dockerignore does not keep .git out of the build context")
	}
}

// TestHealthcheck runs `scopegate healthcheck` against a real server, then
// against a port where nothing listens.
func TestHealthcheck(t *testing.T) {
	base, stop := startServe(t, "--addr", "127.0.0.1:0", "--admin-token", strings.Repeat("h", 40), "--log-level", "error")
	addr := strings.TrimPrefix(base, "http://")
	r := runCLI(t, envMap(map[string]string{"SCOPEGATE_ADDR": addr}), "", "healthcheck")
	if r.code != 0 || r.stdout != "ok "+base+"/healthz\n" || r.stderr != "" {
		t.Fatalf("healthcheck against a live server: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	stop()
	r = runCLI(t, noEnv, "", "healthcheck", "--addr", addr, "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stderr, "scopegate healthcheck: "+base+"/healthz: not reachable") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("healthcheck with the server stopped: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, noEnv, "", "healthcheck", "--addr", "127.0.0.1:0"); r.code != 2 || !strings.Contains(r.stderr, "not host:port with a fixed port") {
		t.Fatalf("healthcheck --addr 127.0.0.1:0: exit %d, stderr %q", r.code, r.stderr)
	}
}
