package embedded

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	var logs bytes.Buffer
	rdb, stop, err := start(slog.New(slog.NewTextHandler(&logs, nil)), 10*time.Millisecond)
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
