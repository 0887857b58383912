package oautherr

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1 and RFC 6750
// §3.1. Only these ever go on an OAuth endpoint's wire.
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

// The admin API's two answers that have no OAuth code. Never used on
// /oauth/* endpoints.
const (
	CodeNotFound = "not_found"
	CodeConflict = "conflict"
)

// Error is an OAuth protocol error: an RFC error code, a human description
// safe to show the client, the HTTP status, and an internal cause that never
// reaches the wire. It follows fosite's errors.go. Build one from a
// prototype (ErrInvalidGrant ...) with WithDescription, WithCause,
// WithFields and WithRetryAfter; the prototypes themselves are never
// modified.
type Error struct {
	// Code is the RFC error code. Empty only in an RFC 6750 §3.1 answer to
	// a request that carried no credentials (WriteBearer).
	Code        string
	Description string
	Status      int
	// Fields holds one message per offending input field (admin API); it
	// goes out as the JSON member "fields".
	Fields map[string]string
	// RetryAfter is the Retry-After a 429 or 503 answer carries, rounded up
	// to whole seconds; zero means one second.
	RetryAfter time.Duration
	Cause      error
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

// WithFields returns a copy carrying per-field messages.
func (e *Error) WithFields(fields map[string]string) *Error {
	c := *e
	c.Fields = fields
	return &c
}

// WithRetryAfter returns a copy that tells the client when to retry.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// Prototypes; use the With methods to specialise.
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

	// RFC 6750 §3.1, for protected resources (WriteBearer).
	ErrInvalidToken      = &Error{Code: CodeInvalidToken, Status: http.StatusUnauthorized}
	ErrInsufficientScope = &Error{Code: CodeInsufficientScope, Status: http.StatusForbidden}

	// ErrRateLimited is a 429: RFC 6749 has no rate-limit code, and
	// temporarily_unavailable is the registered "try again later"; give
	// the wait with WithRetryAfter.
	ErrRateLimited = &Error{Code: CodeTemporarilyUnavailable, Status: http.StatusTooManyRequests}
	// ErrMethodNotAllowed answers a known path with the wrong method.
	ErrMethodNotAllowed = &Error{Code: CodeInvalidRequest, Status: http.StatusMethodNotAllowed, Description: "method not allowed"}
	// ErrNotFound and ErrConflict are the admin API's (and NoRoute's)
	// answers outside OAuth; never on /oauth/*.
	ErrNotFound = &Error{Code: CodeNotFound, Status: http.StatusNotFound}
	ErrConflict = &Error{Code: CodeConflict, Status: http.StatusConflict}
)

// Body is the JSON error body: RFC 6749 §5.2's error and
// error_description, plus scope for an RFC 6750 insufficient_scope answer
// and fields for the admin API's per-field messages.
type Body struct {
	Error       string            `json:"error,omitempty"`
	Description string            `json:"error_description,omitempty"`
	Scope       string            `json:"scope,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
}

// Write writes e as an RFC 6749 §5.2 JSON body with its status and
// Cache-Control: no-store, Pragma: no-cache; WWW-Authenticate: Basic on
// invalid_client (required when the client used HTTP Basic, harmless and
// helpful otherwise); Retry-After on 503 and 429. A nil e is server_error.
func Write(w http.ResponseWriter, e *Error) {
	if e == nil {
		e = ErrServerError
	}
	if e.Code == CodeInvalidClient {
		w.Header().Set("WWW-Authenticate", `Basic realm="scopegate", charset="UTF-8"`)
	}
	write(w, e, "")
}

// WriteBearer answers a protected-resource request as RFC 6750 §3 says:
// WWW-Authenticate: Bearer with realm, and error, error_description and
// scope when present (an e without a code is the §3.1 answer to a request
// without credentials), then the same JSON body and headers as Write.
// scope is the scope the resource needed, for insufficient_scope; "" for
// none.
func WriteBearer(w http.ResponseWriter, realm string, e *Error, scope string) {
	if e == nil {
		e = ErrServerError
	}
	v := `Bearer realm="` + Sanitize(realm) + `"`
	if e.Code != "" {
		v += `, error="` + e.Code + `", error_description="` + Sanitize(e.Description) + `"`
	}
	if scope != "" {
		v += `, scope="` + Sanitize(scope) + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	write(w, e, scope)
}

func write(w http.ResponseWriter, e *Error, scope string) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests {
		h.Set("Retry-After", RetryAfterSeconds(e.RetryAfter))
	}
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Body{Error: e.Code, Description: Sanitize(e.Description), Scope: scope, Fields: e.Fields})
}

// RetryAfterSeconds is d as a Retry-After value (RFC 9110 §10.2.3): whole
// seconds, rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// Sanitize keeps an error_description within RFC 6749's allowed characters
// (%x20-21 / %x23-5B / %x5D-7E): no quotes, backslashes or non-ASCII, at
// most 300 bytes. Also safe inside a quoted-string header parameter.
func Sanitize(s string) string {
	clean := len(s) <= 300
	for i := 0; clean && i < len(s); i++ {
		c := s[i]
		clean = c != '"' && c != '\\' && c >= 0x20 && c <= 0x7e
	}
	if clean {
		return s
	}
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
