// Package oautherr is scopegate's one OAuth error model and its one writer:
// the RFC error codes, the Error type (code, description, status, internal
// cause, per-field messages, Retry-After) with its prototypes, and the two
// ways to put one on the wire:
//
//   - Write: RFC 6749 §5.2 JSON body, status and headers, for the OAuth
//     endpoints, the admin API, pages' JSON answers and NoRoute/NoMethod.
//   - WriteBearer: RFC 6750 §3, the WWW-Authenticate: Bearer challenge of a
//     protected resource plus the same JSON body.
//
// It is a leaf: it imports the standard library only, so the server
// (package oauth, web) and the resource-server kit (oauth/resource) share it
// without the kit dragging the server in. Classifying storage and engine
// errors into an *Error is package oauth's job (oauth.AsError).
package oautherr
