package resource

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/scopegate/scopegate/oauth/oautherr"
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

// Refusals, all *oautherr.Error with RFC 6750 §3 codes and statuses.
var (
	// errNoToken answers a request without a bearer token: RFC 6750 §3.1
	// says no error code then.
	errNoToken      = &oautherr.Error{Status: http.StatusUnauthorized, Description: "a bearer token is required"}
	errInactive     = oautherr.ErrInvalidToken.WithDescription("the token is invalid, expired or revoked")
	errOtherWebsite = oautherr.ErrInsufficientScope.WithDescription("the token is not for this website")
	errTwoHeaders   = oautherr.ErrInvalidRequest.WithDescription("more than one Authorization header")
	errMalformed    = oautherr.ErrInvalidRequest.WithDescription("the Authorization header is not Bearer and one token")
	errUncheckable  = oautherr.ErrTemporarilyUnavailable.WithDescription("the token cannot be checked now")
)

// Authorize applies rule to a request: header is its Authorization header
// values, method its HTTP method, param reads a path parameter. It returns
// the token, an *oautherr.Error to answer with, or ErrUnavailable
// (wrapped). Check, Require and the Gin adapter are thin wrappers; other
// routers can call it too.
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
		return Token{}, errInactive
	}
	if rule.param != "" {
		// An empty parameter never matches: a token without a website (a
		// plugin token) gets nothing from a website route.
		if w := param(rule.param); w == "" || w != t.WebsiteID {
			return Token{}, errOtherWebsite
		}
	}
	if rule.name != "" {
		if need := rule.Scope(method); !t.Scope.Contains(need) {
			return Token{}, oautherr.ErrInsufficientScope.WithDescription("the token lacks %s", need)
		}
	}
	return t, nil
}

// bearer reads the RFC 6750 §2.1 Authorization header. No header, or
// another scheme, is "no credentials" (§3.1: no error code); a Bearer
// header that does not hold exactly one b64token is invalid_request.
// Tokens in the query or the body (§2.2, §2.3) are not accepted.
func bearer(header []string) (string, error) {
	if len(header) == 0 {
		return "", errNoToken
	}
	if len(header) > 1 {
		return "", errTwoHeaders
	}
	h := header[0]
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNoToken
	}
	if !isB64Token(tok) {
		return "", errMalformed
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

// Check applies rule like Authorize and, on a refusal, answers it: the RFC
// 6750 §3 status, WWW-Authenticate: Bearer challenge (naming the needed
// scope on insufficient_scope) and JSON body for an *oautherr.Error, 503
// temporarily_unavailable with Retry-After for anything else (fail
// closed). ok is false when the request has been answered.
func (in *Introspector) Check(w http.ResponseWriter, r *http.Request, param func(string) string, rule Rule) (t Token, ok bool) {
	t, err := in.Authorize(r.Context(), r.Header.Values("Authorization"), r.Method, param, rule)
	if err == nil {
		return t, true
	}
	var e *oautherr.Error
	if !errors.As(err, &e) {
		oautherr.Write(w, errUncheckable)
		return Token{}, false
	}
	var scope string
	if e.Code == oautherr.CodeInsufficientScope && rule.name != "" {
		scope = rule.Scope(r.Method).String()
	}
	oautherr.WriteBearer(w, in.cfg.Realm, e, scope)
	return Token{}, false
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
			t, ok := in.Check(w, r, r.PathValue, rule)
			if !ok {
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
