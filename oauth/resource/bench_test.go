package resource_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkMiddlewareWarmCache reports, in one run, requests per second
// through the same handler bare and behind Require with a warm cache
// (a real scopegate answered the first introspection); the ratio of the
// two req/s figures is the target (≥ 0.9). Requests are served in process, so the figure is the
// middleware's own cost, not the network's.
func BenchmarkMiddlewareWarmCache(b *testing.B) {
	e := newEnv(b, time.Minute)
	tok := e.token(b)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"error": false, "reason": "dispatched", "data": map[string]int{"fingerprint": 42}})
	})
	protected := e.rs.Require("bucket:url")(handler)
	serve := func(h http.Handler) func(*testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/bucket/url", nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Errorf("status %d", rec.Code)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		}
	}
	// Sub-benchmarks, not testing.Benchmark: that deadlocks inside a
	// running benchmark. The ratio is middleware-req/s over bare-req/s.
	b.Run("bare", serve(handler))
	b.Run("middleware", serve(protected))
	if n := e.calls.Load(); n != 1 {
		b.Errorf("%d introspection calls with a warm cache, want 1", n)
	}
}
