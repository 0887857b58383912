package embedded

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	var logs bytes.Buffer
	rdb, stop, _, err := start(slog.New(slog.NewTextHandler(&logs, nil)), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "LOST WHEN THE PROCESS EXITS") {
		t.Errorf("start logged %q, want a loud WARN that data is lost on exit", out)
	}

	ctx := t.Context()
	if err := rdb.Set(ctx, "short", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "long", "v", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	// TTLs follow the wall clock: the short key goes (bounded polling).
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := rdb.Exists(ctx, "short").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a key with a 50ms TTL still exists after 5s: TTLs do not follow the clock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := rdb.Exists(ctx, "long").Result(); err != nil || n != 1 {
		t.Errorf("key with a 1h TTL: exists = %d, %v", n, err)
	}

	// Closing the client first (as Store.Close does) is fine, and stop is
	// idempotent.
	_ = rdb.Close()
	for range 2 {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}

// TestNoListener: the embedded store is reachable only through its own
// client. This process holds no listening TCP socket after Start (the
// store used to listen on 127.0.0.1 with no password, open to every local
// user), and the startup log says so.
func TestNoListener(t *testing.T) {
	before := listeningSockets(t)
	var logs bytes.Buffer
	rdb, stop, m, err := start(slog.New(slog.NewTextHandler(&logs, nil)), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })
	ctx := t.Context()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("the store's own client: %v", err)
	}
	if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET k = %q, %v", got, err)
	}
	if addr := m.Addr(); addr != "" && addr != ":0" {
		t.Errorf("miniredis has an address %q: it listens", addr)
	}
	if after := listeningSockets(t); after > before {
		t.Errorf("listening TCP sockets of this process: %d before Start, %d after", before, after)
	}
	if !strings.Contains(logs.String(), "no other process can connect") {
		t.Errorf("startup log does not say the store is private: %q", logs.String())
	}
}

// listeningSockets counts this process's TCP sockets in LISTEN state, from
// /proc/self/fd and /proc/net/tcp{,6}.
func listeningSockets(t *testing.T) int {
	t.Helper()
	mine := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("reading /proc/self/fd (Linux only): %v", err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		raw, err := os.ReadFile(table)
		if err != nil {
			continue // no IPv6
		}
		for _, line := range strings.Split(string(raw), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 && f[3] == "0A" && mine[f[9]] { // 0A: TCP_LISTEN; field 9: inode
				n++
			}
		}
	}
	return n
}
