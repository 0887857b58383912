package resource

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/scopegate/scopegate/scopes"
)

// DefaultWebsiteParam is the path parameter a website-scope route names its
// website with, unless WebsiteParam says otherwise.
const DefaultWebsiteParam = "website_id"

// Rule is what a route demands of a token. Build it with NewRule.
type Rule struct {
	name  string            // catalogue name; "" for Authenticate (any scope)
	perm  scopes.Permission // 0: from the request method
	param string            // path parameter that must equal the token's website; "" for none
}

// Option adjusts a Rule.
type Option func(*Rule)

// Permission demands p whatever the request method (for example a POST
// search route that only reads).
func Permission(p scopes.Permission) Option { return func(r *Rule) { r.perm = p } }

// WebsiteParam names the path parameter holding the website the route is
// about (default "website_id" for website scopes). The token must be bound
// to that website.
func WebsiteParam(name string) Option { return func(r *Rule) { r.param = name } }

// NewRule returns the rule for scope name (a catalogue name without
// permission, such as "website:people:data"). A website scope checks the
// website path parameter; a plugin scope has no website and checks none.
// It panics on a name outside the catalogue: that is a wiring mistake,
// caught at start-up.
func NewRule(name string, opts ...Option) Rule {
	def, ok := scopes.Lookup(name)
	if !ok {
		panic("resource: unknown scope " + name)
	}
	r := Rule{name: name}
	if def.Kind == scopes.KindWebsite {
		r.param = DefaultWebsiteParam
	}
	for _, o := range opts {
		o(&r)
	}
	if def.Kind == scopes.KindPlugin {
		r.param = ""
	}
	if r.perm != 0 && r.perm != scopes.Read && r.perm != scopes.Write {
		panic("resource: bad permission for " + name)
	}
	return r
}

// Scope is the scope the rule demands for a request with the given method.
func (r Rule) Scope(method string) scopes.Scope {
	p := r.perm
	if p == 0 {
		p = scopes.RequiredPermission(method)
	}
	return scopes.Scope{Name: r.name, Perm: p}
}

// Error is a refusal with its RFC 6750 §3 fields.
type Error struct {
	Status      int    // 400, 401 or 403
	Code        string // invalid_request, invalid_token, insufficient_scope; "" when no credentials were sent (§3.1)
	Description string
	Scope       string // the missing scope, for insufficient_scope
}

func (e *Error) Error() string {
	if e.Code == "" {
		return "resource: " + e.Description
	}
	return "resource: " + e.Code + ": " + e.Description
}

// Authorize applies rule to a request: header is its Authorization header
// values, method its HTTP method, param reads a path parameter. It returns
// the token, an *Error to answer with, or ErrUnavailable (wrapped). Require
// and the Gin adapter are thin wrappers; other routers can call it too.
func (in *Introspector) Authorize(ctx context.Context, header []string, method string, param func(string) string, rule Rule) (Token, error) {
	tok, err := bearer(header)
	if err != nil {
		return Token{}, err
	}
	t, err := in.Introspect(ctx, tok)
	if err != nil {
		return Token{}, err
	}
	if !t.Active {
		return Token{}, &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "the token is invalid, expired or revoked"}
	}
	var need string
	if rule.name != "" {
		need = rule.Scope(method).String()
	}
	if rule.param != "" {
		// An empty parameter never matches: a token without a website (a
		// plugin token) gets nothing from a website route.
		if w := param(rule.param); w == "" || w != t.WebsiteID {
			return Token{}, &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Scope: need, Description: "the token is not for this website"}
		}
	}
	if rule.name != "" && !t.Scope.Contains(rule.Scope(method)) {
		return Token{}, &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Scope: need, Description: "the token lacks " + need}
	}
	return t, nil
}

// bearer reads the RFC 6750 §2.1 Authorization header. No header, or
// another scheme, is "no credentials" (§3.1: no error code); a Bearer
// header that does not hold exactly one b64token is invalid_request.
// Tokens in the query or the body (§2.2, §2.3) are not accepted.
func bearer(header []string) (string, error) {
	if len(header) == 0 {
		return "", &Error{Status: http.StatusUnauthorized, Description: "a bearer token is required"}
	}
	if len(header) > 1 {
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: "more than one Authorization header"}
	}
	h := header[0]
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", &Error{Status: http.StatusUnauthorized, Description: "a bearer token is required"}
	}
	if !isB64Token(tok) {
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: "the Authorization header is not Bearer and one token"}
	}
	return tok, nil
}

// isB64Token checks RFC 6750 §2.1's b64token: 1*( ALPHA / DIGIT / "-" / "."
// / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	if s == "" || len(s) > 4096 {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0 {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// WriteError answers a request Authorize refused: RFC 6750 §3 status and
// WWW-Authenticate for an *Error, 503 temporarily_unavailable with
// Retry-After for anything else (fail closed). The JSON body repeats the
// error code and description.
func (in *Introspector) WriteError(w http.ResponseWriter, err error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	var e *Error
	if !errors.As(err, &e) {
		h.Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable", "error_description": "the token cannot be checked now"})
		return
	}
	v := `Bearer realm="` + in.cfg.Realm + `"`
	if e.Code != "" {
		v += `, error="` + e.Code + `", error_description="` + e.Description + `"`
	}
	if e.Scope != "" {
		v += `, scope="` + e.Scope + `"`
	}
	h.Set("WWW-Authenticate", v)
	w.WriteHeader(e.Status)
	body := map[string]string{"error_description": e.Description}
	if e.Code != "" {
		body["error"] = e.Code
	}
	if e.Scope != "" {
		body["scope"] = e.Scope
	}
	_ = json.NewEncoder(w).Encode(body)
}

// Require returns net/http middleware for the scope name: the request needs
// an active bearer token holding name with the permission its method needs
// (POST, PUT, PATCH, DELETE: write; others: read) or the one Permission
// gives, and for a website scope, bound to the website in the path
// parameter (Request.PathValue, Go 1.22 patterns). The token reaches the
// handler through FromContext. Panics on an unknown scope name.
func (in *Introspector) Require(name string, opts ...Option) func(http.Handler) http.Handler {
	return in.Middleware(NewRule(name, opts...))
}

// Authenticate returns net/http middleware that demands an active token
// (bound to the website in WebsiteParam, if given) without any particular
// scope: for routes that filter what they return by scope themselves, such
// as an event stream.
func (in *Introspector) Authenticate(opts ...Option) func(http.Handler) http.Handler {
	return in.Middleware(AnyScope(opts...))
}

// AnyScope returns the rule of Authenticate: an active token, bound to the
// website in WebsiteParam if that option is given, whatever its scopes.
func AnyScope(opts ...Option) Rule {
	var r Rule
	for _, o := range opts {
		o(&r)
	}
	if r.perm != 0 {
		panic("resource: AnyScope with a permission")
	}
	return r
}

// Middleware returns net/http middleware enforcing rule.
func (in *Introspector) Middleware(rule Rule) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t, err := in.Authorize(r.Context(), r.Header.Values("Authorization"), r.Method, r.PathValue, rule)
			if err != nil {
				in.WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), t)))
		})
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying t.
func NewContext(ctx context.Context, t Token) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the token the middleware accepted for this request.
func FromContext(ctx context.Context) (Token, bool) {
	t, ok := ctx.Value(ctxKey{}).(Token)
	return t, ok
}
