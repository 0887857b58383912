package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/embedded"
	"github.com/scopegate/scopegate/web"
)

func runServe(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) int {
	var cfg ServeConfig
	// The flag package prints the usage on any parse error; it goes to a
	// buffer and reaches stdout only when --help asked for it.
	var help bytes.Buffer
	fs := newFlagSet("serve", "scopegate serve [--addr 127.0.0.1:8080] [--issuer URL] [--redis URL] [--demo] [flags]", &help)
	cfg.bind(fs)
	if errs := parseFlags(fs, args, getenv); len(errs) > 0 {
		if errors.Is(errs[0], flag.ErrHelp) {
			_, _ = stdout.Write(help.Bytes())
			return 0
		}
		// Every problem together: bad values, then what validation finds
		// in the rest.
		return fail(stderr, append(errs, validate(newValidator(), &cfg)...)...)
	}
	if errs := validate(newValidator(), &cfg); len(errs) > 0 {
		return fail(stderr, errs...)
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	// go-redis logs through a process-wide logger of its own (connection
	// failures); route it into ours. Only main may set process-wide state.
	redis.SetLogger(redisLog{log})
	if err := serve(ctx, cfg, log, stdout); err != nil {
		fmt.Fprintf(stderr, "scopegate serve: %v\n", err)
		return 1
	}
	return 0
}

// fail prints one line per problem and returns the usage-error status.
func fail(stderr io.Writer, errs ...error) int {
	for _, err := range errs {
		fmt.Fprintf(stderr, "scopegate: %v\n", err)
	}
	return 2
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// redisLog adapts slog to go-redis's logger. Its messages are connection
// faults (addresses, errors), never commands or values.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	// go-redis starts most messages with "redis: " already: say it once.
	r.l.WarnContext(ctx, "redis: "+strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
}

// serve runs the server until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, cfg ServeConfig, log *slog.Logger, stdout io.Writer) error {
	var rdb redis.UniversalClient
	if cfg.RedisURL == "" && cfg.RedisWait > 0 {
		return errors.New("--redis-wait-replicas needs --redis: the embedded store has no replicas")
	}
	if cfg.RedisURL == "" {
		c, closeEmbedded, err := embedded.Start(log)
		if err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
		defer closeEmbedded()
		rdb = c
	} else {
		opts, err := redisOptions(cfg.RedisURL)
		if err != nil {
			return err
		}
		if cfg.RedisWait > 0 && opts.ReadTimeout > 0 && opts.ReadTimeout <= cfg.RedisWaitFor {
			return fmt.Errorf("--redis-wait-timeout %v must be shorter than the Redis read_timeout %v", cfg.RedisWaitFor, opts.ReadTimeout)
		}
		rdb = newRedisClient(opts)
	}
	// One registry for everything /metrics shows: Redis round trips here,
	// the web server's own, Go's runtime and the process.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	redisMetrics, merr := storage.NewRedisMetrics(reg)
	if merr != nil {
		return merr
	}
	rdb.AddHook(redisMetrics)
	store := storage.NewRedis(rdb, storage.RedisOptions{
		AuditRetention: cfg.AuditRetention,
		ReplicaWait:    storage.ReplicaWait{Replicas: cfg.RedisWait, Timeout: cfg.RedisWaitFor},
	})
	defer store.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := store.Ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if cfg.RedisURL != "" {
		checkPersistence(ctx, rdb, log)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = base
	}
	issuer = strings.TrimRight(issuer, "/")

	if err := bootstrapAdminToken(ctx, store, cfg, time.Now(), stdout); err != nil {
		ln.Close()
		return err
	}
	var demoAPISecret string
	if cfg.Demo {
		if demoAPISecret, err = seedDemo(ctx, store, issuer, stdout); err != nil {
			ln.Close()
			return fmt.Errorf("demo data: %w", err)
		}
	}

	provider := oauth.New(oauth.Config{
		Issuer: issuer, CodeTTL: cfg.CodeTTL, AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, Logger: log,
		Registerer: reg,
	}, store)
	limits, leakedRate := cfg.rateLimits()
	// Client changes made by any instance reach this one's cache at once,
	// until serve returns (requests still draining after ctx is done
	// keep getting them).
	stopFollowing, err := provider.FollowClientChanges(context.WithoutCancel(ctx), store)
	if err != nil {
		ln.Close()
		return fmt.Errorf("redis: %w", err)
	}
	defer stopFollowing()
	// Rate limits ask Redis only about keys that failed recently anywhere
	// (storage/limiter_feed.go); without the feed every request would pay
	// a round trip for its limit check.
	stopLimitFeed, err := store.FollowRateLimits(context.WithoutCancel(ctx))
	if err != nil {
		ln.Close()
		return fmt.Errorf("redis: %w", err)
	}
	defer stopLimitFeed()
	w := web.New(web.Options{
		Limits:         limits,
		LeakedRate:     leakedRate,
		Provider:       provider,
		Store:          store,
		Logger:         log,
		SecureCookies:  strings.HasPrefix(issuer, "https://"),
		SeparateAdmin:  cfg.AdminAddr != "",
		Demo:           cfg.Demo,
		TrustedProxies: cfg.TrustedProxies,
		Registry:       reg,
		Pprof:          cfg.Pprof,
	})

	servers := []*http.Server{newHTTPServer(w.Handler(), log)}
	listeners := []net.Listener{ln}
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return err
		}
		servers = append(servers, newHTTPServer(w.AdminHandler(), log))
		listeners = append(listeners, aln)
		fmt.Fprintf(stdout, "scopegate: admin API on http://%s/admin/v1/\n", aln.Addr())
	}
	if cfg.Demo {
		dln, api, err := listenDemoAPI(ctx, cfg, ln.Addr(), demoAPISecret, log, stdout)
		if err != nil {
			ln.Close()
			return err
		}
		servers = append(servers, newHTTPServer(api, log))
		listeners = append(listeners, dln)
	}
	// This line is the contract tests and scripts wait for.
	fmt.Fprintf(stdout, "scopegate: listening on %s (issuer %s)\n", base, issuer)
	log.Info("listening", "addr", ln.Addr().String(), "issuer", issuer)

	errc := make(chan error, len(servers))
	for i := range servers {
		go func() { errc <- servers[i].Serve(listeners[i]) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			log.Warn("shutdown", "err", err)
		}
	}
	return nil
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           withRetryAfter(withDeadline(h, requestTimeout)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
