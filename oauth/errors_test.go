package oauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/scopegate/scopegate/storage"
)

// TestEngineDefaultsAreUnsafe pins down the go-oauth2 defaults that this
// package exists to replace, so each edge test's "engine default" comment
// is checked, not just claimed. If one of these starts failing, the engine
// changed: review the matching wrapper, do not delete the edge test.
func TestEngineDefaultsAreUnsafe(t *testing.T) {
	// (manage.DefaultValidateURI, the host-suffix redirect match, is not
	// called here: importing manage drags in the engine's JWT generator
	// and its module, which scopegate does not otherwise need.)
	for err, status := range map[error]int{
		oerrors.ErrInvalidGrant:            401,
		oerrors.ErrUnsupportedGrantType:    401,
		oerrors.ErrUnsupportedResponseType: 401,
	} {
		if got := oerrors.StatusCodes[err]; got != status {
			t.Errorf("engine sends %v as %d now, not %d", err, got, status)
		}
	}
	cfg := server.NewConfig()
	if !contains(cfg.AllowedResponseTypes, oauth2.Token) || !contains(cfg.AllowedGrantTypes, oauth2.PasswordCredentials) ||
		!contains(cfg.AllowedCodeChallengeMethods, oauth2.CodeChallengePlain) || cfg.ForcePKCE {
		t.Errorf("engine defaults changed: %+v", cfg)
	}
	// A wrapped error is unknown to the engine's table: server_error.
	srv := server.NewServer(server.NewConfig(), nil)
	if data, status, _ := srv.GetErrorData(fmt.Errorf("get: %w", storage.ErrUnavailable)); status != 500 || data["error"] != "server_error" {
		t.Errorf("engine maps a wrapped storage error to %d %v now", status, data)
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestEngineErrors: through the one error path (AsError, WriteError; the
// engine never writes an answer itself) the engine's own errors get RFC
// 6749 §5.2 statuses and wrapped errors keep their meaning.
func TestEngineErrors(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"engine invalid_grant", oerrors.ErrInvalidGrant, 400, CodeInvalidGrant},
		{"engine unsupported_grant_type", oerrors.ErrUnsupportedGrantType, 400, CodeUnsupportedGrantType},
		{"engine unsupported_response_type", oerrors.ErrUnsupportedResponseType, 400, CodeUnsupportedResponseType},
		{"engine unauthorized_client", oerrors.ErrUnauthorizedClient, 400, CodeUnauthorizedClient},
		{"engine invalid authorize code", oerrors.ErrInvalidAuthorizeCode, 400, CodeInvalidGrant},
		{"engine invalid refresh token", oerrors.ErrInvalidRefreshToken, 400, CodeInvalidGrant},
		{"engine invalid_client", oerrors.ErrInvalidClient, 401, CodeInvalidClient},
		{"wrapped storage outage", fmt.Errorf("lookup: %w", storage.ErrUnavailable), 503, CodeTemporarilyUnavailable},
		{"doubly wrapped outage", fmt.Errorf("a: %w", fmt.Errorf("b: %w", storage.ErrUnavailable)), 503, CodeTemporarilyUnavailable},
		{"server_error caused by an outage", ErrServerError.WithCause(fmt.Errorf("x: %w", storage.ErrUnavailable)), 503, CodeTemporarilyUnavailable},
		{"wrapped invalid_grant", fmt.Errorf("exchange: %w", ErrInvalidGrant.WithCause(storage.ErrReplayed)), 400, CodeInvalidGrant},
		{"wrapped engine invalid_grant", fmt.Errorf("x: %w", oerrors.ErrInvalidGrant), 400, CodeInvalidGrant},
		{"wrapped invalid_scope", fmt.Errorf("x: %w", ErrInvalidScope.WithDescription("nope")), 400, CodeInvalidScope},
		{"unknown", errors.New("boom at main.go:12 redis 127.0.0.1:6379"), 500, CodeServerError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if e, known := AsError(tc.err); e.Status != tc.status || e.Code != tc.code || known != (tc.code != CodeServerError) {
				t.Errorf("AsError = %d %s (known %v), want %d %s", e.Status, e.Code, known, tc.status, tc.code)
			}
			rec := httptest.NewRecorder()
			WriteError(rec, tc.err)
			r := reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
			wantError(t, r, tc.status, tc.code)
		})
	}
}

// TestWriteError: the one writer's headers and body.
func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, ErrInvalidScope.WithDescription("bad \"scope\" \\ é\n"))
	if rec.Code != 400 || rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Pragma") != "no-cache" {
		t.Errorf("status %d headers %v", rec.Code, rec.Header())
	}
	if got, want := strings.TrimSpace(rec.Body.String()), `{"error":"invalid_scope","error_description":"bad 'scope' / ???"}`; got != want {
		// RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
		t.Errorf("body = %s, want %s", got, want)
	}
	if rec.Header().Get("WWW-Authenticate") != "" {
		t.Error("WWW-Authenticate on a non-invalid_client error")
	}

	rec = httptest.NewRecorder()
	WriteError(rec, ErrInvalidClient)
	if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("invalid_client: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}

	rec = httptest.NewRecorder()
	WriteError(rec, errors.New("secret internal detail"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("unknown error: %d %s", rec.Code, rec.Body)
	}
	if !errors.Is(ErrInvalidGrant.WithDescription("x").WithCause(storage.ErrReplayed), ErrInvalidGrant) {
		t.Error("errors.Is does not match an *Error by code")
	}
	if !errors.Is(ErrInvalidGrant.WithCause(storage.ErrReplayed), storage.ErrReplayed) {
		t.Error("an *Error does not unwrap to its cause")
	}
}
