package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scopegate/scopegate/oauth"
	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/oauth/oautherr"
	"github.com/scopegate/scopegate/storage"
)

// Options configures the HTTP server.
type Options struct {
	Provider *oauth.Provider
	Store    storage.Store
	Logger   *slog.Logger
	Now      func() time.Time
	// SecureCookies sets the Secure attribute on cookies (an https issuer).
	SecureCookies bool
	// SeparateAdmin keeps /admin/ off the public handler; serve
	// AdminHandler on its own listener instead.
	SeparateAdmin bool
	// SessionTTL is how long an operator stays logged in (default 12 h).
	SessionTTL time.Duration
	// Demo enables the demo plugin's pages under /demo/ (make run).
	Demo bool
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// for the client IP (rate limits, logs). Empty: none; the peer address
	// is the client.
	TrustedProxies []string
	// LeakedRate bounds POST /oauth/leaked per client IP per minute
	// (default 30), shared by all instances through Limiter.
	LeakedRate int
	// Limits are the shared limits on failed attempts (see RateLimits).
	Limits RateLimits
	// Limiter keeps the shared limits; nil uses the Store when it is a
	// storage.Limiter (the Redis store is).
	Limiter storage.Limiter
	// Registry receives the server's metrics and is served at /metrics
	// (a new registry when nil). cmd adds the Redis and Go runtime
	// collectors to the same registry.
	Registry *prometheus.Registry
	// Pprof mounts net/http/pprof under /admin/debug/pprof/, behind the
	// admin token.
	Pprof bool
}

// Server holds the routes' shared state. Build it with New.
type Server struct {
	opts    Options
	p       *oauth.Provider
	store   storage.Store
	log     *slog.Logger
	now     func() time.Time
	reg     *prometheus.Registry
	metrics *metrics
	public  *gin.Engine
	admin   *gin.Engine
	limits  *rateLimits
	// svc is the administration service (clients, reviews, revocations,
	// audit) behind the admin API, the console, leak reports and
	// Disconnect.
	svc *adminsvc.Service
}

// New builds the routers.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{
		opts:    o,
		p:       o.Provider,
		store:   o.Store,
		log:     o.Logger,
		now:     o.Now,
		reg:     reg,
		metrics: newMetrics(reg),
	}
	s.limits = newRateLimits(o, s.metrics.rateLimited)
	s.svc = s.newAdminService()
	s.public = s.newEngine()
	s.routes(s.public)
	s.admin = s.newEngine()
	s.adminRoutes(s.admin)
	if !o.SeparateAdmin {
		s.adminRoutes(s.public)
	}
	return s
}

// Handler is the public handler: OAuth endpoints, pages, health, metrics
// (and the admin API unless SeparateAdmin).
func (s *Server) Handler() http.Handler { return s.public }

// AdminHandler serves only the admin API and admin pages.
func (s *Server) AdminHandler() http.Handler { return s.admin }

// errNoRoute answers a path the server does not have.
var errNoRoute = oautherr.ErrNotFound.WithDescription("no such endpoint")

func (s *Server) newEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	// Gin trusts X-Forwarded-For from anyone by default, which would let a
	// client pick its own IP and escape the rate limits.
	if err := e.SetTrustedProxies(s.opts.TrustedProxies); err != nil {
		s.log.Error("trusted proxies rejected; trusting none", "err", err)
		_ = e.SetTrustedProxies(nil)
	}
	e.Use(s.recoverer(), s.logRequests(), securityHeaders(), crossOriginGuard())
	e.NoRoute(func(c *gin.Context) {
		oautherr.Write(c.Writer, errNoRoute)
	})
	e.NoMethod(func(c *gin.Context) {
		oautherr.Write(c.Writer, oautherr.ErrMethodNotAllowed)
	})
	return e
}

func (s *Server) routes(e *gin.Engine) {
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))
	metadata := func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.JSON(http.StatusOK, s.p.Metadata())
	}
	e.GET("/.well-known/oauth-authorization-server", metadata)
	// The same RFC 8414 metadata at the OpenID discovery path (RFC 8414
	// §5 allows it), for client libraries that look there first. It
	// claims nothing of OpenID Connect: no id_token, userinfo or jwks_uri.
	e.GET("/.well-known/openid-configuration", metadata)
	oauthNoStore := func(h http.HandlerFunc) gin.HandlerFunc {
		return func(c *gin.Context) { h(c.Writer, c.Request) }
	}
	e.Any("/oauth/token", s.count("token"), s.limitOAuth(), oauthNoStore(s.p.Token))
	e.Any("/oauth/introspect", s.count("introspect"), s.limitOAuth(), oauthNoStore(s.p.Introspect))
	e.Any("/oauth/revoke", s.count("revoke"), s.limitOAuth(), oauthNoStore(s.p.Revoke))
	e.Any("/oauth/leaked", s.count("leaked"), s.reportLeaked)
	s.pageRoutes(e)
	s.pluginRoutes(e)
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readyz: storage unavailable", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
		return
	}
	// Replicas fewer than the store waits for leave the service up but
	// revocations unconfirmed (storage.ReplicaWait): degraded, not down,
	// so that losing a replica does not take every instance out of a
	// load balancer.
	if r, ok := s.store.(interface{ Replication(context.Context) error }); ok {
		if err := r.Replication(ctx); err != nil {
			s.log.Warn("readyz: replicas", "err", err)
			if !errors.Is(err, storage.ErrReplicasMissing) {
				c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
				return
			}
			c.JSON(http.StatusOK, gin.H{"status": "degraded", "replicas": "fewer than --redis-wait-replicas: revocations are not confirmed durable"})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// recoverer turns a panic into a bare 500 in the protocol's shape, logging
// the value (never the request body) and no stack on the wire.
func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic serving request", "path", c.Request.URL.Path, "panic", v)
				if !c.Writer.Written() {
					oautherr.Write(c.Writer, oautherr.ErrServerError)
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

// logRequests logs method, path (never the query: it can hold state and
// codes), status and duration.
func (s *Server) logRequests() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		took := time.Since(start)
		s.metrics.observe(c.FullPath(), status, took)
		if s.log.Enabled(c, slog.LevelDebug) { // skip boxing the arguments otherwise
			s.log.Debug("request", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "dur", took)
		}
	}
}

// securityHeaderValues are set on every response, keys in canonical form.
var securityHeaderValues = map[string][]string{
	"X-Frame-Options":         {"DENY"},
	"X-Content-Type-Options":  {"nosniff"},
	"Referrer-Policy":         {"no-referrer"},
	"Content-Security-Policy": {"default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"},
}

// securityHeaders applies to every response: no framing, no sniffing, no
// referrer, and a CSP that allows only our own assets. form-action is not
// restricted: the consent form's answer redirects to the client.
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		for k, v := range securityHeaderValues {
			h[k] = v // shared, never modified: Set and Add replace or copy
		}
		c.Next()
	}
}

// apiPrefixes are the routes called by programs with their own credentials
// (client authentication, bearer tokens), never by a browser form with a
// cookie: a browser-based public client may call /oauth/token cross-origin.
var apiPrefixes = []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke", "/oauth/leaked", "/plugin/v1/", "/admin/v1/"}

// crossOriginGuard refuses cross-origin state-changing requests to every
// HTML form (sign-in, website choice, consent, disconnect, the admin
// pages) with net/http.CrossOriginProtection (Sec-Fetch-Site, then Origin
// against Host). It is defence in depth beside each form's CSRF field. The
// programmatic endpoints in apiPrefixes are exempt: they carry no cookie.
func crossOriginGuard() gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		for _, pre := range apiPrefixes {
			if p == pre || (strings.HasSuffix(pre, "/") && strings.HasPrefix(p, pre)) {
				c.Next()
				return
			}
		}
		if err := cop.Check(c.Request); err != nil {
			c.Header("Cache-Control", "no-store")
			c.Data(http.StatusForbidden, "text/plain; charset=utf-8",
				[]byte("403 Forbidden: cross-origin form submissions are refused. Go back to the page and submit it again.\n"))
			c.Abort()
			return
		}
		c.Next()
	}
}
