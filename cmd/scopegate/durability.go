package main

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// requestTimeout bounds every request's work: its context carries this
// deadline, and the Redis client honours it (ContextTimeoutEnabled), so a
// slow Redis yields 503 temporarily_unavailable instead of a hung request.
// Each Redis command is also bounded by the client's read and write
// timeouts (go-redis default 3 s, ?read_timeout= in the Redis URL).
const requestTimeout = 10 * time.Second

// shutdownTimeout bounds the graceful shutdown on SIGTERM or SIGINT: longer
// than requestTimeout, so every in-flight request can finish.
const shutdownTimeout = requestTimeout + 5*time.Second

// withDeadline gives every request's context the deadline d.
func withDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withRetryAfter makes every 503 carry Retry-After (RFC 9110 §10.2.3), so
// a client or proxy backs off and tries again. The OAuth error writer, the
// admin API and the pages set it themselves; this is the net under any
// writer of a 503 that does not (the admin console's error pages).
func withRetryAfter(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&retryAfterWriter{ResponseWriter: w}, r)
	})
}

type retryAfterWriter struct{ http.ResponseWriter }

func (w *retryAfterWriter) WriteHeader(code int) {
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	w.ResponseWriter.WriteHeader(code)
}

// Flush and Hijack keep the interfaces Gin's writer looks for; Unwrap lets
// http.ResponseController reach the rest.
func (w *retryAfterWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *retryAfterWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// checkPersistence logs one WARN line when the Redis behind rdb would lose
// acknowledged writes (issued tokens, revocations, consumed codes) in a
// crash: appendonly off, or an append-only file not fsynced before each
// reply (appendfsync everysec or no). Redis 7.0 has no WAITAOF, so
// appendfsync always is the setting that makes an acknowledged revocation
// survive a crash of a single node. CONFIG is often disabled on managed
// Redis: then it logs, at INFO, that it could not check, and goes on.
func checkPersistence(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var (
		mu      sync.Mutex
		weakest string // "" (all durable), "everysec", "no" or "off"
		errs    []string
	)
	check := func(ctx context.Context, c *redis.Client) error {
		cfg, err := c.ConfigGet(ctx, "append*").Result()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err.Error())
			return nil
		}
		level := ""
		switch {
		case cfg["appendonly"] != "yes":
			level = "off"
		case cfg["appendfsync"] != "always":
			level = cfg["appendfsync"]
		}
		if rank(level) > rank(weakest) {
			weakest = level
		}
		return nil
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		_ = c.ForEachMaster(ctx, check)
	case *redis.Client:
		_ = check(ctx, c)
	default:
		return
	}
	switch {
	case len(errs) > 0:
		log.Info("could not check Redis persistence (CONFIG GET refused or failed); make sure it runs with appendonly yes and appendfsync always",
			"err", strings.Join(errs, "; "))
	case weakest == "off":
		log.Warn("Redis persistence is off (appendonly no): a Redis crash or restart loses every token, code consumption and revocation; run it with appendonly yes and appendfsync always")
	case weakest != "":
		log.Warn("Redis runs with appendfsync " + weakest + ", not fsyncing before each reply: a crash of its host can lose acknowledged revocations and code consumptions; run it with appendfsync always")
	}
}

// rank orders appendfsync settings from durable ("") to none ("off").
func rank(level string) int {
	switch level {
	case "":
		return 0
	case "everysec":
		return 1
	case "no":
		return 2
	}
	return 3
}
