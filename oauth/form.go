package oauth

import (
	"errors"
	"mime"
	"net/http"
	"slices"
	"unicode/utf8"
)

// FormRules are what the readers of a posted form may differ in. The zero
// value is the OAuth endpoints' rules (ParseForm); the operator and admin
// pages relax some of them (web's parsePageForm).
type FormRules struct {
	// MaxBytes bounds the body; zero means MaxBodyBytes.
	MaxBytes int64
	// Repeatable names the parameters that may be given more than once,
	// such as a page's checkboxes. Every other parameter may appear once.
	Repeatable []string
	// QueryAllowed lets a URL query through, unread, instead of refusing
	// it. Only body parameters are used either way.
	QueryAllowed bool
}

// ParseFormWith reads a posted form under rules: POST only, no query
// string (unless QueryAllowed), application/x-www-form-urlencoded only, a
// bounded body, valid UTF-8, and no parameter twice except the Repeatable
// ones. Only body parameters are used: r.Form is replaced by r.PostForm.
// A refusal is an invalid_request *Error: 405 for another method, 413 for
// a body over the bound, 400 otherwise. See ParseForm for why parameters
// in the URL are refused.
func ParseFormWith(w http.ResponseWriter, r *http.Request, rules FormRules) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return &Error{Code: CodeInvalidRequest, Status: http.StatusMethodNotAllowed, Description: "use POST"}
	}
	if !rules.QueryAllowed && (r.URL.RawQuery != "" || r.URL.ForceQuery) {
		return ErrInvalidRequest.WithDescription("parameters belong in the request body, not in the URL query (RFC 6749 section 3.2)")
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" { // the usual case parses nothing
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return ErrInvalidRequest.WithDescription("Content-Type must be application/x-www-form-urlencoded")
		}
	}
	limit := rules.MaxBytes
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Code: CodeInvalidRequest, Status: http.StatusRequestEntityTooLarge, Description: "request body too large"}
		}
		return ErrInvalidRequest.WithDescription("malformed form body")
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 && !slices.Contains(rules.Repeatable, k) {
			return ErrInvalidRequest.WithDescription("parameter %q is given more than once", k)
		}
		if !utf8.ValidString(k) {
			return ErrInvalidRequest.WithDescription("parameters must be valid UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return ErrInvalidRequest.WithDescription("parameters must be valid UTF-8")
			}
		}
	}
	r.Form = r.PostForm
	return nil
}
