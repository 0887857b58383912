package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// The web layer's Prometheus metrics, on the registry given in
// Options.Registry. Labels are routes, endpoint names, status codes and
// fixed kinds: never a client ID, a token or anything a caller chooses.
type metrics struct {
	// requests counts every request by route pattern and status.
	requests *prometheus.CounterVec
	// latency is the time to answer, by route pattern.
	latency *prometheus.HistogramVec
	// endpoint counts the OAuth endpoints (token, introspect, revoke,
	// leaked) by status, the outcome of each request.
	endpoint *prometheus.CounterVec
	// endpointLatency is the time to answer by OAuth endpoint.
	endpointLatency *prometheus.HistogramVec
	// revocations counts revocations by kind (revocationKinds).
	revocations *prometheus.CounterVec
	// rateLimited counts requests refused by a rate limit, by limit name.
	rateLimited *prometheus.CounterVec
}

// Revocation kinds, the values of scopegate_revocations_total's label.
// The administration service (oauth/admin) reports the others
// (admin_token, admin_grant, admin_client, admin_website, leak,
// disconnect) through Server.revoked.
const (
	revokeRFC7009 = "rfc7009" // a client's POST /oauth/revoke answered 200
)

// latencyBuckets span 0.5 ms to about 4 s.
var latencyBuckets = prometheus.ExponentialBuckets(0.0005, 2.5, 11)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scopegate_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scopegate_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route.", Buckets: latencyBuckets,
		}, []string{"route"}),
		endpoint: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scopegate_oauth_requests_total", Help: "OAuth endpoint requests by endpoint and status.",
		}, []string{"endpoint", "status"}),
		endpointLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scopegate_oauth_request_duration_seconds", Help: "Time to answer OAuth endpoint requests, by endpoint.", Buckets: latencyBuckets,
		}, []string{"endpoint"}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scopegate_revocations_total",
			Help: "Revocations by kind: admin_token, admin_grant, admin_client, admin_website, leak, disconnect, rfc7009 (accepted RFC 7009 requests).",
		}, []string{"kind"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scopegate_rate_limited_total", Help: "Requests refused by a rate limit, by limit.",
		}, []string{"limit"}),
	}
	reg.MustRegister(m.requests, m.latency, m.endpoint, m.endpointLatency, m.revocations, m.rateLimited)
	return m
}

// observe records a finished request on route (a pattern, "" when no
// route matched).
func (m *metrics) observe(route string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
}

// count is the middleware of the OAuth endpoints: requests by status and
// latency, and an answered RFC 7009 request as a revocation.
func (s *Server) count(endpoint string) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		s.metrics.endpoint.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
		s.metrics.endpointLatency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		if endpoint == "revoke" && status == http.StatusOK {
			s.revoked(revokeRFC7009)
		}
	}
}

// revoked counts one revocation of a kind (the revoke* constants).
func (s *Server) revoked(kind string) { s.metrics.revocations.WithLabelValues(kind).Inc() }

// rateLimited counts a request refused by the named limit (a fixed name
// such as "leaked" or "admin_login", never a client's key).
func (s *Server) rateLimited(limit string) { s.metrics.rateLimited.WithLabelValues(limit).Inc() }
