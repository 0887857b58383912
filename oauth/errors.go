package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/scopegate/scopegate/storage"
)

// Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1 and RFC 6750
// §3.1. Only these ever go on the wire.
const (
	CodeInvalidRequest          = "invalid_request"
	CodeInvalidClient           = "invalid_client"
	CodeInvalidGrant            = "invalid_grant"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedGrantType    = "unsupported_grant_type"
	CodeInvalidScope            = "invalid_scope"
	CodeAccessDenied            = "access_denied"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeServerError             = "server_error"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	CodeUnsupportedTokenType    = "unsupported_token_type"
	CodeInvalidToken            = "invalid_token"
	CodeInsufficientScope       = "insufficient_scope"
)

// Error is an OAuth protocol error: an RFC error code, a human description
// safe to show the client, the HTTP status, and an internal cause that never
// reaches the wire. It follows fosite's errors.go.
type Error struct {
	Code        string
	Description string
	Status      int
	// BasicAuth marks an invalid_client answer to a request that used HTTP
	// Basic: RFC 6749 §5.2 then requires 401 with WWW-Authenticate.
	BasicAuth bool
	Cause     error
}

func (e *Error) Error() string {
	s := e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Cause != nil {
		s += " (" + e.Cause.Error() + ")"
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is matches another *Error with the same code, so errors.Is(err,
// ErrInvalidGrant) works whatever the description.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithDescription returns a copy with a description.
func (e *Error) WithDescription(format string, args ...any) *Error {
	c := *e
	c.Description = fmt.Sprintf(format, args...)
	return &c
}

// WithCause returns a copy carrying an internal cause.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.Cause = err
	return &c
}

// Prototypes; use WithDescription / WithCause to specialise.
var (
	ErrInvalidRequest          = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest}
	ErrInvalidClient           = &Error{Code: CodeInvalidClient, Status: http.StatusUnauthorized, Description: "client authentication failed"}
	ErrInvalidGrant            = &Error{Code: CodeInvalidGrant, Status: http.StatusBadRequest}
	ErrUnauthorizedClient      = &Error{Code: CodeUnauthorizedClient, Status: http.StatusBadRequest}
	ErrUnsupportedGrantType    = &Error{Code: CodeUnsupportedGrantType, Status: http.StatusBadRequest}
	ErrInvalidScope            = &Error{Code: CodeInvalidScope, Status: http.StatusBadRequest}
	ErrAccessDenied            = &Error{Code: CodeAccessDenied, Status: http.StatusForbidden, Description: "the operator denied the request"}
	ErrUnsupportedResponseType = &Error{Code: CodeUnsupportedResponseType, Status: http.StatusBadRequest}
	ErrServerError             = &Error{Code: CodeServerError, Status: http.StatusInternalServerError, Description: "internal error"}
	ErrTemporarilyUnavailable  = &Error{Code: CodeTemporarilyUnavailable, Status: http.StatusServiceUnavailable, Description: "storage is unavailable; try again"}
	ErrUnsupportedTokenType    = &Error{Code: CodeUnsupportedTokenType, Status: http.StatusBadRequest}
)

// engineErrors maps the go-oauth2 engine's sentinel errors (compared by
// value there) to ours, with RFC statuses: the engine sends invalid_grant
// and unsupported_grant_type as 401, RFC 6749 §5.2 says 400.
var engineErrors = map[error]*Error{
	oerrors.ErrInvalidRequest:          ErrInvalidRequest.WithDescription("the request is missing a required parameter or is malformed"),
	oerrors.ErrUnauthorizedClient:      ErrUnauthorizedClient.WithDescription("the client may not use this grant type"),
	oerrors.ErrAccessDenied:            ErrAccessDenied,
	oerrors.ErrUnsupportedResponseType: ErrUnsupportedResponseType.WithDescription("only response_type=code is supported"),
	oerrors.ErrInvalidScope:            ErrInvalidScope.WithDescription("the requested scope is invalid"),
	oerrors.ErrServerError:             ErrServerError,
	oerrors.ErrTemporarilyUnavailable:  ErrTemporarilyUnavailable,
	oerrors.ErrInvalidClient:           ErrInvalidClient,
	oerrors.ErrInvalidGrant:            ErrInvalidGrant.WithDescription("the grant is invalid, expired, revoked or was issued to another client"),
	oerrors.ErrUnsupportedGrantType:    ErrUnsupportedGrantType.WithDescription("grant_type is not supported"),
	oerrors.ErrInvalidAuthorizeCode:    ErrInvalidGrant.WithDescription("the authorization code is invalid or expired"),
	oerrors.ErrInvalidRefreshToken:     ErrInvalidGrant.WithDescription("the refresh token is invalid or expired"),
	oerrors.ErrExpiredRefreshToken:     ErrInvalidGrant.WithDescription("the refresh token is invalid or expired"),
	oerrors.ErrInvalidRedirectURI:      ErrInvalidGrant.WithDescription("redirect_uri does not match"),
}

// AsError turns any error into the *Error to send. Storage outages become
// temporarily_unavailable (503); anything unknown becomes server_error with
// no detail. ok is false for those unknown errors, which callers log.
func AsError(err error) (e *Error, known bool) {
	var pe *Error
	switch {
	case errors.As(err, &pe):
		if errors.Is(pe.Cause, storage.ErrUnavailable) && pe.Code == CodeServerError {
			return ErrTemporarilyUnavailable.WithCause(err), true
		}
		return pe, pe.Code != CodeServerError
	case errors.Is(err, storage.ErrUnavailable):
		return ErrTemporarilyUnavailable.WithCause(err), true
	}
	if m, ok := engineErrors[err]; ok {
		return m, true
	}
	// The engine's errors are compared by value there; ours may wrap them.
	for k, m := range engineErrors {
		if errors.Is(err, k) {
			return m, true
		}
	}
	return ErrServerError.WithCause(err), false
}

// Body is the JSON error body of RFC 6749 §5.2.
type Body struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// WriteError writes err as an RFC 6749 §5.2 JSON body with the right status
// and headers (Cache-Control: no-store; WWW-Authenticate for invalid_client
// when the client used HTTP Basic). It returns the *Error written.
func WriteError(w http.ResponseWriter, err error) *Error {
	e, _ := AsError(err)
	h := w.Header()
	if e.Code == CodeInvalidClient {
		// Sent on every invalid_client: required when Basic was used
		// (RFC 6749 §5.2), harmless and helpful otherwise.
		h.Set("WWW-Authenticate", `Basic realm="scopegate", charset="UTF-8"`)
	}
	if e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	writeJSON(w, e.Status, Body{Error: e.Code, Description: sanitize(e.Description)})
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sanitize keeps error_description within RFC 6749's allowed characters
// (%x20-21 / %x23-5B / %x5D-7E): no quotes, backslashes or non-ASCII.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 300; i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteByte('\'')
		case c == '\\':
			b.WriteByte('/')
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
