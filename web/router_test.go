package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth/oautherr"
)

// TestRouterErrorsThroughOneWriter: an unknown path, a wrong method and a
// panic are answered byte for byte as oautherr.Write answers the same
// error, headers included (no-store, JSON type).
func TestRouterErrorsThroughOneWriter(t *testing.T) {
	env := newTestEnv(t)
	h := env.Web.Handler()
	env.Web.public.GET("/test/panic", func(*gin.Context) { panic("test panic") })
	tests := []struct {
		name, method, path string
		want               *oautherr.Error
		wantStatus         int
		wantCode           string
	}{
		{"no route", http.MethodGet, "/nope", errNoRoute, 404, "not_found"},
		{"no route under /oauth", http.MethodGet, "/oauth/nope", errNoRoute, 404, "not_found"},
		{"no method", http.MethodPost, "/healthz", oautherr.ErrMethodNotAllowed, 405, "invalid_request"},
		{"panic", http.MethodGet, "/test/panic", oautherr.ErrServerError, 500, "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := httptest.NewRecorder()
			h.ServeHTTP(got, httptest.NewRequest(tt.method, tt.path, nil))
			want := httptest.NewRecorder()
			oautherr.Write(want, tt.want)
			if got.Code != tt.wantStatus || got.Code != want.Code || tt.want.Code != tt.wantCode {
				t.Fatalf("status %d (writer %d), want %d %s", got.Code, want.Code, tt.wantStatus, tt.wantCode)
			}
			if got.Body.String() != want.Body.String() {
				t.Errorf("body %q, want %q", got.Body, want.Body)
			}
			for _, k := range []string{"Content-Type", "Cache-Control", "Pragma"} {
				if got.Header().Get(k) != want.Header().Get(k) || want.Header().Get(k) == "" {
					t.Errorf("%s = %q, want %q", k, got.Header().Get(k), want.Header().Get(k))
				}
			}
		})
	}
}
