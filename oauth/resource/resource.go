// Package resource is the resource-server side of scopegate: a client of the
// introspection endpoint (RFC 7662) with a short, bounded cache, and a Gin
// middleware that enforces a route's scope with the permission its HTTP
// method needs, the website the token is bound to, and RFC 6750 errors.
//
// A REST API imports this package alone: it depends on scopes, Gin and the
// standard library, never on the server's packages.
//
//	rs := resource.New(resource.Config{
//		IntrospectionURL: "https://auth.example.com/oauth/introspect",
//		ClientID:         "my-api", ClientSecret: secret,
//	})
//	r.GET("/websites/:website_id/people/data", rs.Require("website:people:data", "website_id"), handler)
//
// Caching: an answer is reused for at most Config.CacheTTL (default 2 s)
// and never past the token's exp, so a revocation takes effect here within
// CacheTTL. Set CacheTTL negative to introspect every request.
package resource

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/scopes"
)

// Config configures an Introspector.
type Config struct {
	// IntrospectionURL is scopegate's /oauth/introspect.
	IntrospectionURL string
	// ClientID and ClientSecret are this resource server's credentials
	// (a client with role resource-server), sent with HTTP Basic.
	ClientID, ClientSecret string
	// HTTPClient defaults to a client with a 5 s timeout.
	HTTPClient *http.Client
	// CacheTTL bounds how long an answer is reused (default 2 s; negative
	// disables the cache). CacheSize bounds the entries (default 10000).
	CacheTTL  time.Duration
	CacheSize int
	// Realm is the RFC 6750 realm in WWW-Authenticate (default "api").
	Realm string
	Now   func() time.Time
}

// Result is what introspection said about a token.
type Result struct {
	Active     bool       `json:"active"`
	Scope      scopes.Set `json:"-"`
	ClientID   string     `json:"client_id"`
	Sub        string     `json:"sub"`
	WebsiteID  string     `json:"website_id"`
	OperatorID string     `json:"operator_id"`
	TokenType  string     `json:"token_type"`
	Exp        int64      `json:"exp"`
	Iat        int64      `json:"iat"`
	Iss        string     `json:"iss"`
}

// ErrUnavailable means introspection could not be answered; the middleware
// fails closed with 503.
var ErrUnavailable = errors.New("resource: introspection unavailable")

// Introspector asks scopegate about tokens. It is safe for concurrent use.
type Introspector struct {
	cfg   Config
	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	res Result
	exp time.Time
}

// New returns an Introspector.
func New(cfg Config) *Introspector {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 2 * time.Second
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.Realm == "" {
		cfg.Realm = "api"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Introspector{cfg: cfg, cache: make(map[[32]byte]cached)}
}

// Introspect returns what scopegate says of tok, from the cache when fresh.
func (in *Introspector) Introspect(ctx context.Context, tok string) (Result, error) {
	key := sha256.Sum256([]byte(tok)) // the cache never holds a token
	now := in.cfg.Now()
	if in.cfg.CacheTTL > 0 {
		in.mu.Lock()
		c, ok := in.cache[key]
		in.mu.Unlock()
		if ok && now.Before(c.exp) {
			return c.res, nil
		}
	}
	res, err := in.call(ctx, tok)
	if err != nil {
		return Result{}, err
	}
	if in.cfg.CacheTTL > 0 {
		exp := now.Add(in.cfg.CacheTTL)
		if res.Active && res.Exp > 0 && time.Unix(res.Exp, 0).Before(exp) {
			exp = time.Unix(res.Exp, 0)
		}
		in.mu.Lock()
		if len(in.cache) >= in.cfg.CacheSize {
			clear(in.cache)
		}
		in.cache[key] = cached{res: res, exp: exp}
		in.mu.Unlock()
	}
	return res, nil
}

func (in *Introspector) call(ctx context.Context, tok string) (Result, error) {
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.IntrospectionURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret))
	resp, err := in.cfg.HTTPClient.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("%w: introspection answered %d", ErrUnavailable, resp.StatusCode)
	}
	var raw struct {
		Result
		Scope string `json:"scope"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Result{}, fmt.Errorf("%w: bad introspection body: %v", ErrUnavailable, err)
	}
	res := raw.Result
	if res.Active {
		s, err := scopes.Parse(raw.Scope)
		if err != nil {
			return Result{}, fmt.Errorf("%w: bad scope in introspection: %v", ErrUnavailable, err)
		}
		res.Scope = s
	}
	return res, nil
}

// resultKey is where Require leaves the Result in the gin.Context.
const resultKey = "scopegate.token"

// FromContext returns the introspection result Require stored.
func FromContext(c *gin.Context) (Result, bool) {
	v, ok := c.Get(resultKey)
	r, _ := v.(Result)
	return r, ok
}

// Require returns middleware demanding a bearer token that is active, holds
// the scope name with the permission the request's method needs (POST, PUT,
// PATCH, DELETE: write; others: read), and, when websiteParam is not empty,
// is bound to the website named by that route parameter. Failures are RFC
// 6750 §3 answers with WWW-Authenticate; an unavailable introspection is 503.
func (in *Introspector) Require(name, websiteParam string) gin.HandlerFunc {
	if _, ok := scopes.Lookup(name); !ok {
		panic("resource: Require with unknown scope " + name)
	}
	return func(c *gin.Context) {
		tok, ok := bearer(c.Request)
		if !ok {
			// RFC 6750 §3.1: no error code when no credentials were sent.
			in.deny(c, http.StatusUnauthorized, "", "", "a bearer token is required")
			return
		}
		res, err := in.Introspect(c.Request.Context(), tok)
		if err != nil {
			c.Header("Retry-After", "1")
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "temporarily_unavailable", "error_description": "cannot check the token now"})
			return
		}
		if !res.Active {
			in.deny(c, http.StatusUnauthorized, "invalid_token", "", "the token is invalid, expired or revoked")
			return
		}
		need := scopes.Scope{Name: name, Perm: scopes.RequiredPermission(c.Request.Method)}
		if websiteParam != "" && res.WebsiteID != c.Param(websiteParam) {
			in.deny(c, http.StatusForbidden, "insufficient_scope", need.String(), "the token is not for this website")
			return
		}
		if !res.Scope.Contains(need) {
			in.deny(c, http.StatusForbidden, "insufficient_scope", need.String(), "the token lacks "+need.String())
			return
		}
		c.Set(resultKey, res)
		c.Next()
	}
}

func (in *Introspector) deny(c *gin.Context, status int, code, scope, desc string) {
	v := `Bearer realm="` + in.cfg.Realm + `"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + desc + `"`
	}
	if scope != "" {
		v += `, scope="` + scope + `"`
	}
	c.Header("WWW-Authenticate", v)
	body := gin.H{"error": code, "error_description": desc}
	if code == "" {
		body["error"] = "invalid_request"
	}
	c.AbortWithStatusJSON(status, body)
}

// bearer reads an RFC 6750 §2.1 Authorization: Bearer token (the scheme is
// case-insensitive). Tokens in the query or body are not accepted.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 8 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != "" && !strings.ContainsAny(tok, " \t")
}
