package oautherr_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/oauth/oautherr"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name       string
		err        *oautherr.Error
		wantStatus int
		wantBody   string
		wantHeader map[string]string // "" value: header must be absent
	}{
		{
			name: "sanitized description", err: oautherr.ErrInvalidScope.WithDescription("bad \"scope\" \\ é\n"),
			wantStatus: 400, wantBody: `{"error":"invalid_scope","error_description":"bad 'scope' / ???"}`,
			wantHeader: map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache", "WWW-Authenticate": "", "Retry-After": "",
				"Content-Type": "application/json;charset=UTF-8"},
		},
		{
			name: "invalid_client challenges Basic", err: oautherr.ErrInvalidClient,
			wantStatus: 401, wantBody: `{"error":"invalid_client","error_description":"client authentication failed"}`,
			wantHeader: map[string]string{"WWW-Authenticate": `Basic realm="scopegate", charset="UTF-8"`},
		},
		{
			name: "503 retries after a second", err: oautherr.ErrTemporarilyUnavailable,
			wantStatus: 503, wantBody: `{"error":"temporarily_unavailable","error_description":"storage is unavailable; try again"}`,
			wantHeader: map[string]string{"Retry-After": "1"},
		},
		{
			name: "429 rounds Retry-After up", err: oautherr.ErrRateLimited.WithDescription("slow down").WithRetryAfter(2100 * time.Millisecond),
			wantStatus: 429, wantBody: `{"error":"temporarily_unavailable","error_description":"slow down"}`,
			wantHeader: map[string]string{"Retry-After": "3"},
		},
		{
			name: "admin fields", err: oautherr.ErrInvalidRequest.WithDescription("invalid request").WithFields(map[string]string{"name": "is required"}),
			wantStatus: 400, wantBody: `{"error":"invalid_request","error_description":"invalid request","fields":{"name":"is required"}}`,
		},
		{
			name: "not found", err: oautherr.ErrNotFound.WithDescription("client not found"),
			wantStatus: 404, wantBody: `{"error":"not_found","error_description":"client not found"}`,
		},
		{
			name: "conflict", err: oautherr.ErrConflict.WithDescription("a client with this id already exists"),
			wantStatus: 409, wantBody: `{"error":"conflict","error_description":"a client with this id already exists"}`,
		},
		{
			name: "method not allowed", err: oautherr.ErrMethodNotAllowed,
			wantStatus: 405, wantBody: `{"error":"invalid_request","error_description":"method not allowed"}`,
		},
		{
			name: "cause never reaches the wire", err: oautherr.ErrServerError.WithCause(errors.New("redis 10.0.0.1:6379 secret")),
			wantStatus: 500, wantBody: `{"error":"server_error","error_description":"internal error"}`,
		},
		{
			name: "nil is server_error", err: nil,
			wantStatus: 500, wantBody: `{"error":"server_error","error_description":"internal error"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			oautherr.Write(rec, tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != tt.wantBody {
				t.Errorf("body %s, want %s", got, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestWriteBearer(t *testing.T) {
	tests := []struct {
		name       string
		err        *oautherr.Error
		scope      string
		wantStatus int
		wantAuth   string
		wantBody   map[string]string
	}{
		{
			name: "no credentials: no error code (RFC 6750 §3.1)", err: &oautherr.Error{Status: 401, Description: "a bearer token is required"},
			wantStatus: 401, wantAuth: `Bearer realm="api"`, wantBody: map[string]string{"error_description": "a bearer token is required"},
		},
		{
			name: "invalid_token", err: oautherr.ErrInvalidToken.WithDescription("expired"),
			wantStatus: 401, wantAuth: `Bearer realm="api", error="invalid_token", error_description="expired"`,
			wantBody: map[string]string{"error": "invalid_token", "error_description": "expired"},
		},
		{
			name: "insufficient_scope names the scope", err: oautherr.ErrInsufficientScope.WithDescription(`lacks "x"`), scope: "website:people:data:write",
			wantStatus: 403, wantAuth: `Bearer realm="api", error="insufficient_scope", error_description="lacks 'x'", scope="website:people:data:write"`,
			wantBody: map[string]string{"error": "insufficient_scope", "error_description": "lacks 'x'", "scope": "website:people:data:write"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			oautherr.WriteBearer(rec, "api", tt.err, tt.scope)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.wantAuth {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantAuth)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Error("no Cache-Control: no-store")
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body) != len(tt.wantBody) {
				t.Fatalf("body %s (%v), want %v", rec.Body, err, tt.wantBody)
			}
			for k, v := range tt.wantBody {
				if body[k] != v {
					t.Errorf("body[%s] = %q, want %q", k, body[k], v)
				}
			}
		})
	}
}

func TestErrorMatchesByCode(t *testing.T) {
	cause := errors.New("replayed")
	e := oautherr.ErrInvalidGrant.WithDescription("x").WithCause(cause)
	if !errors.Is(e, oautherr.ErrInvalidGrant) || errors.Is(e, oautherr.ErrInvalidScope) {
		t.Error("errors.Is does not match an *Error by code alone")
	}
	if !errors.Is(e, cause) {
		t.Error("an *Error does not unwrap to its cause")
	}
	if oautherr.ErrInvalidGrant.Description != "" || oautherr.ErrInvalidGrant.Cause != nil {
		t.Error("a With method changed the prototype")
	}
}

func TestSanitizeLimits(t *testing.T) {
	if got := oautherr.Sanitize(strings.Repeat("a", 400)); len(got) != 300 {
		t.Errorf("len %d, want 300", len(got))
	}
	if s := "plain text: ok!"; oautherr.Sanitize(s) != s {
		t.Error("a clean description changed")
	}
}
