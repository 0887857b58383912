package oauth

import (
	"encoding/json"
	"errors"
	"net/http"

	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/scopegate/scopegate/oauth/oautherr"
	"github.com/scopegate/scopegate/storage"
)

// Error is the one OAuth error model, defined in the leaf package oautherr
// so the resource kit can share it. The names below keep package oauth's
// callers compiling; new code may use oautherr directly.
type Error = oautherr.Error

// Error codes; see oautherr.
const (
	CodeInvalidRequest          = oautherr.CodeInvalidRequest
	CodeInvalidClient           = oautherr.CodeInvalidClient
	CodeInvalidGrant            = oautherr.CodeInvalidGrant
	CodeUnauthorizedClient      = oautherr.CodeUnauthorizedClient
	CodeUnsupportedGrantType    = oautherr.CodeUnsupportedGrantType
	CodeInvalidScope            = oautherr.CodeInvalidScope
	CodeAccessDenied            = oautherr.CodeAccessDenied
	CodeUnsupportedResponseType = oautherr.CodeUnsupportedResponseType
	CodeServerError             = oautherr.CodeServerError
	CodeTemporarilyUnavailable  = oautherr.CodeTemporarilyUnavailable
	CodeUnsupportedTokenType    = oautherr.CodeUnsupportedTokenType
	CodeInvalidToken            = oautherr.CodeInvalidToken
	CodeInsufficientScope       = oautherr.CodeInsufficientScope
)

// Prototypes; see oautherr.
var (
	ErrInvalidRequest          = oautherr.ErrInvalidRequest
	ErrInvalidClient           = oautherr.ErrInvalidClient
	ErrInvalidGrant            = oautherr.ErrInvalidGrant
	ErrUnauthorizedClient      = oautherr.ErrUnauthorizedClient
	ErrUnsupportedGrantType    = oautherr.ErrUnsupportedGrantType
	ErrInvalidScope            = oautherr.ErrInvalidScope
	ErrAccessDenied            = oautherr.ErrAccessDenied
	ErrUnsupportedResponseType = oautherr.ErrUnsupportedResponseType
	ErrServerError             = oautherr.ErrServerError
	ErrTemporarilyUnavailable  = oautherr.ErrTemporarilyUnavailable
	ErrUnsupportedTokenType    = oautherr.ErrUnsupportedTokenType
)

// engineErrors maps the go-oauth2 engine's sentinel errors to ours, with
// RFC statuses: the engine sends invalid_grant and unsupported_grant_type
// as 401, RFC 6749 §5.2 says 400. On our paths the engine returns
// invalid_request (a missing code, redirect_uri or refresh_token) and,
// should our own checks ever let one through, unsupported_grant_type or
// unauthorized_client; the rest are listed so that no engine error can
// become a 500.
var engineErrors = [...]struct {
	engine error
	ours   *Error
}{
	{oerrors.ErrInvalidRequest, ErrInvalidRequest.WithDescription("the request is missing a required parameter or is malformed")},
	{oerrors.ErrUnauthorizedClient, ErrUnauthorizedClient.WithDescription("the client may not use this grant type")},
	{oerrors.ErrAccessDenied, ErrAccessDenied},
	{oerrors.ErrUnsupportedResponseType, ErrUnsupportedResponseType.WithDescription("only response_type=code is supported")},
	{oerrors.ErrInvalidScope, ErrInvalidScope.WithDescription("the requested scope is invalid")},
	{oerrors.ErrServerError, ErrServerError},
	{oerrors.ErrTemporarilyUnavailable, ErrTemporarilyUnavailable},
	{oerrors.ErrInvalidClient, ErrInvalidClient},
	{oerrors.ErrInvalidGrant, ErrInvalidGrant.WithDescription("the grant is invalid, expired, revoked or was issued to another client")},
	{oerrors.ErrUnsupportedGrantType, ErrUnsupportedGrantType.WithDescription("grant_type is not supported")},
	{oerrors.ErrInvalidAuthorizeCode, ErrInvalidGrant.WithDescription("the authorization code is invalid or expired")},
	{oerrors.ErrInvalidRefreshToken, ErrInvalidGrant.WithDescription("the refresh token is invalid or expired")},
	{oerrors.ErrExpiredRefreshToken, ErrInvalidGrant.WithDescription("the refresh token is invalid or expired")},
	{oerrors.ErrInvalidRedirectURI, ErrInvalidGrant.WithDescription("redirect_uri does not match")},
}

// AsError is the one conversion of an error into the *Error to send: ours
// as they are, the engine's through engineErrors, storage outages as
// temporarily_unavailable (503), anything unknown as server_error with no
// detail. known is false for those unknown errors, which callers log.
// What storage says about a code or refresh token becomes an *Error in
// the flow, which knows which it was (grantError).
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
	// The engine compares its errors by value; ours may wrap them.
	for _, m := range engineErrors {
		if errors.Is(err, m.engine) {
			return m.ours, true
		}
	}
	return ErrServerError.WithCause(err), false
}

// grantError maps what storage says about an authorization code or a
// refresh token (what names which) to RFC 6749 §5.2: anything the client
// did wrong is invalid_grant; outages and faults stay as they are.
func grantError(err error, what string) error {
	var mm *storage.MismatchError
	switch {
	case errors.As(err, &mm):
		// RedeemChecked's refusals.
		switch mm.What {
		case "client_id":
			return ErrInvalidGrant.WithDescription("the %s was issued to another client", what)
		case "redirect_uri":
			return ErrInvalidGrant.WithDescription("redirect_uri differs from the authorization request")
		case "pkce_required":
			// Only possible if the client became public after the code
			// was issued; a public client proves itself with PKCE alone.
			return ErrInvalidGrant.WithDescription("public clients must use PKCE")
		case "code_verifier_unexpected":
			return ErrInvalidGrant.WithDescription("code_verifier sent but the authorization request had no code_challenge")
		case "code_verifier_missing":
			return ErrInvalidGrant.WithDescription("code_verifier is required")
		}
		return ErrInvalidGrant.WithDescription("code_verifier does not match the code_challenge")
	case errors.Is(err, storage.ErrReplayed):
		return ErrInvalidGrant.WithDescription("the %s was already used; its grant is revoked", what).WithCause(err)
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrGrantRevoked):
		return ErrInvalidGrant.WithDescription("the %s is invalid, expired or revoked", what).WithCause(err)
	}
	return err
}

// WriteError writes err, classified by AsError, with oautherr.Write: RFC
// 6749 §5.2 JSON body, status and headers.
func WriteError(w http.ResponseWriter, err error) {
	e, _ := AsError(err)
	oautherr.Write(w, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
