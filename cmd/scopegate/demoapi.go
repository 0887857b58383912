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
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scopegate/scopegate/oauth/resource"
)

// DemoAPIConfig is the configuration of `scopegate demo-api`: a small REST
// API, protected by package resource, that a newcomer tries tokens on.
type DemoAPIConfig struct {
	Addr             string        `flag:"api-addr" validate:"required,listenaddr"`
	IntrospectionURL string        `flag:"introspection-url" validate:"required,http_url"`
	ClientID         string        `flag:"api-client-id" validate:"required,max=200"`
	ClientSecret     string        `flag:"api-client-secret" validate:"required,max=200"`
	CacheTTL         time.Duration `flag:"api-cache-ttl" validate:"min=0,max=5s"`
	EventInterval    time.Duration `flag:"event-interval" validate:"min=10ms,max=1h"`
	LogLevel         string        `flag:"log-level" validate:"oneof=debug info warn error"`
}

func (c *DemoAPIConfig) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "api-addr", "127.0.0.1:8081", "`host:port` to listen on (port 0 picks a free one)")
	fs.StringVar(&c.IntrospectionURL, "introspection-url", "", "scopegate's introspection endpoint `URL`, e.g. http://127.0.0.1:8080/oauth/introspect")
	fs.StringVar(&c.ClientID, "api-client-id", "", "this resource server's client `id` (a client with --role resource-server)")
	fs.StringVar(&c.ClientSecret, "api-client-secret", "", "its client `secret`; prefer the environment variable to the flag")
	fs.DurationVar(&c.CacheTTL, "api-cache-ttl", 2*time.Second, "how long an introspection answer is reused (at most 5s); a revocation reaches the API within it")
	fs.DurationVar(&c.EventInterval, "event-interval", 2*time.Second, "how often the demo realtime stream makes up an event per website")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error")
}

func runDemoAPI(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) int {
	var cfg DemoAPIConfig
	var help bytes.Buffer
	fs := newFlagSet("demo-api", "scopegate demo-api --introspection-url URL --api-client-id ID [--api-addr 127.0.0.1:8081] (secret in SCOPEGATE_API_CLIENT_SECRET)", &help)
	cfg.bind(fs)
	if errs := parseFlags(fs, args, getenv); len(errs) > 0 {
		if errors.Is(errs[0], flag.ErrHelp) {
			_, _ = stdout.Write(help.Bytes())
			return 0
		}
		return fail(stderr, errs...)
	}
	if errs := validate(newValidator(), &cfg); len(errs) > 0 {
		return fail(stderr, errs...)
	}
	log := newLogger(stderr, cfg.LogLevel, "text")
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "scopegate demo-api: %v\n", err)
		return 1
	}
	api := newDemoAPI(ctx, cfg, log)
	srv := newHTTPServer(api.handler(), log)
	// This line is the contract tests and scripts wait for.
	fmt.Fprintf(stdout, "scopegate demo-api: listening on http://%s (introspecting at %s as %s)\n", ln.Addr(), cfg.IntrospectionURL, cfg.ClientID)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "scopegate demo-api: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

// demoAPIAddr is where `serve --demo` puts the demo API when
// --demo-api-addr is not given: the port after --addr's, or a free port
// when --addr asks for one.
func demoAPIAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	n, err := strconv.Atoi(port)
	if err != nil || n == 0 || n >= 65535 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// loopbackURL is a URL this process can reach a listener of its own at.
func loopbackURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return "http://" + a.String()
	}
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

// demoAPI is the demo REST API: in-memory people and conversations per
// website, routes shaped like the marketplace's example REST routes, and a
// realtime stream (Server-Sent Events) of made-up events, each delivered
// only to tokens whose scopes allow it (resource.EventRules).
type demoAPI struct {
	rs       *resource.Introspector
	log      *slog.Logger
	interval time.Duration
	done     <-chan struct{}

	mu    sync.Mutex
	sites map[string]*demoSite
	subs  map[string]map[chan resource.Event]struct{} // website -> realtime subscribers
	seq   atomic.Uint64                               // event ids, increasing across websites
}

func newDemoAPI(ctx context.Context, cfg DemoAPIConfig, log *slog.Logger) *demoAPI {
	a := &demoAPI{
		rs: resource.New(resource.Config{
			IntrospectionURL: cfg.IntrospectionURL, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			CacheTTL: cfg.CacheTTL, Realm: "scopegate-demo-api",
		}),
		log: log, interval: cfg.EventInterval, done: ctx.Done(),
		sites: map[string]*demoSite{}, subs: map[string]map[chan resource.Event]struct{}{},
	}
	go a.makeUpEvents(ctx)
	return a
}

// listenDemoAPI starts what `serve --demo` runs beside the server: the demo
// REST API, introspecting at this very server as the demo resource server.
func listenDemoAPI(ctx context.Context, cfg ServeConfig, server net.Addr, secret string, log *slog.Logger, stdout io.Writer) (net.Listener, http.Handler, error) {
	addr := cfg.DemoAPIAddr
	if addr == "" {
		addr = demoAPIAddr(cfg.Addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("demo REST API (--demo-api-addr): %w", err)
	}
	api := newDemoAPI(ctx, DemoAPIConfig{
		IntrospectionURL: loopbackURL(server) + "/oauth/introspect", ClientID: demoAPIID, ClientSecret: secret,
		CacheTTL: 2 * time.Second, EventInterval: 2 * time.Second,
	}, log)
	base := loopbackURL(ln.Addr())
	fmt.Fprintf(stdout, `scopegate: demo REST API on %s (resource server %s); with a token from /demo:
  curl -H "Authorization: Bearer $TOKEN" %s/v1/website/site-acme/people/data/people-1
  curl -N -H "Authorization: Bearer $TOKEN" %s/v1/website/site-acme/realtime
`, base, demoAPIID, base, base)
	return ln, api.handler(), nil
}
