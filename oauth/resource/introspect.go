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
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/scopegate/scopegate/scopes"
)

// Config configures an Introspector. Only IntrospectionURL, ClientID and
// ClientSecret are required.
type Config struct {
	// IntrospectionURL is scopegate's /oauth/introspect.
	IntrospectionURL string
	// ClientID and ClientSecret are this resource server's credentials
	// (a client with role resource-server), sent with HTTP Basic
	// (RFC 7662 §2.1, RFC 6749 §2.3.1).
	ClientID, ClientSecret string
	// HTTPClient sends the introspection requests (default: a client of its
	// own, not http.DefaultClient).
	HTTPClient *http.Client
	// Timeout bounds one introspection call (default 3 s).
	Timeout time.Duration
	// CacheTTL bounds how long an "active" answer is reused (default 2 s);
	// an answer is never reused past the token's exp. Negative disables the
	// cache: every request introspects.
	CacheTTL time.Duration
	// NegativeTTL bounds how long an "inactive" answer is reused (default
	// 1 s, at most CacheTTL); negative disables negative caching.
	NegativeTTL time.Duration
	// CacheSize bounds the number of cached tokens (default 10000); when it
	// is full, the oldest answer not used since the last eviction pass goes
	// first (second-chance, an approximation of least-recently-used).
	CacheSize int
	// Realm is the RFC 6750 realm in WWW-Authenticate (default "api").
	Realm string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Token is what introspection said about a bearer token (RFC 7662 §2.2 and
// scopegate's extensions). Handlers get it with FromContext.
type Token struct {
	Active     bool
	Scope      scopes.Set
	ClientID   string // the plugin the token was issued to
	Subject    string // sub: the operator for website tokens, the client for plugin tokens
	WebsiteID  string // the website a website-scope token is bound to; empty for plugin scopes
	OperatorID string
	GrantID    string
	TokenType  string
	Issuer     string
	Expires    time.Time // zero when introspection gave no exp
	IssuedAt   time.Time
}

// wireToken is the RFC 7662 response body.
type wireToken struct {
	Active     bool   `json:"active"`
	Scope      string `json:"scope"`
	ClientID   string `json:"client_id"`
	Sub        string `json:"sub"`
	WebsiteID  string `json:"website_id"`
	OperatorID string `json:"operator_id"`
	GrantID    string `json:"grant_id"`
	TokenType  string `json:"token_type"`
	Iss        string `json:"iss"`
	Exp        int64  `json:"exp"`
	Iat        int64  `json:"iat"`
}

// ErrUnavailable means introspection could not answer; middleware fails
// closed with 503.
var ErrUnavailable = errors.New("resource: introspection unavailable")

// Introspector asks scopegate about tokens. It is safe for concurrent use.
type Introspector struct {
	cfg    Config
	cache  *lru // nil when caching is off
	flight singleflight.Group
}

// New returns an Introspector with cfg's defaults filled in.
func New(cfg Config) *Introspector {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second, ResponseHeaderTimeout: 5 * time.Second,
		}}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 2 * time.Second
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = time.Second
	}
	if cfg.NegativeTTL > cfg.CacheTTL {
		cfg.NegativeTTL = cfg.CacheTTL
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
	in := &Introspector{cfg: cfg}
	if cfg.CacheTTL > 0 {
		in.cache = newLRU(cfg.CacheSize)
	}
	return in
}

// Introspect returns what scopegate says of tok, from the cache when fresh.
// Concurrent calls for one token share one request to scopegate. The error
// is ErrUnavailable (wrapped) when no answer could be had, or ctx's error.
func (in *Introspector) Introspect(ctx context.Context, tok string) (Token, error) {
	key := sha256.Sum256([]byte(tok)) // neither the cache nor the flight key holds a token
	if in.cache != nil {
		if t, ok := in.cache.get(key, in.cfg.Now()); ok {
			return t, nil
		}
	}
	// The shared call must not die with the first caller's context: it
	// runs detached, bounded by Timeout; each caller waits on its own ctx.
	ch := in.flight.DoChan(string(key[:]), func() (any, error) {
		// A caller that missed the cache just before an earlier flight
		// stored its answer and ended starts a new flight: look again.
		if in.cache != nil {
			if t, ok := in.cache.get(key, in.cfg.Now()); ok {
				return t, nil
			}
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.cfg.Timeout)
		defer cancel()
		t, err := in.call(cctx, tok)
		if err == nil && in.cache != nil {
			// Stored before the flight ends, so a caller arriving after it
			// finds the answer in the cache instead of starting another.
			in.cache.put(key, t, in.expiry(t))
		}
		return t, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Token{}, r.Err
		}
		return r.Val.(Token), nil
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// expiry is when a cached answer stops being used: CacheTTL (NegativeTTL for
// inactive) from now, and never past the token's own exp.
func (in *Introspector) expiry(t Token) time.Time {
	now := in.cfg.Now()
	if !t.Active {
		if in.cfg.NegativeTTL < 0 {
			return now // not reused
		}
		return now.Add(in.cfg.NegativeTTL)
	}
	exp := now.Add(in.cfg.CacheTTL)
	if !t.Expires.IsZero() && t.Expires.Before(exp) {
		exp = t.Expires
	}
	return exp
}

// call is one RFC 7662 §2.1 request.
func (in *Introspector) call(ctx context.Context, tok string) (Token, error) {
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.IntrospectionURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: the id and secret are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret))
	resp, err := in.cfg.HTTPClient.Do(req)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrUnavailable, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		// 401 here means this resource server's own credentials are wrong:
		// still no answer about the token, so fail closed.
		return Token{}, fmt.Errorf("%w: introspection answered %d", ErrUnavailable, resp.StatusCode)
	}
	var w wireToken
	if err := json.Unmarshal(body, &w); err != nil {
		return Token{}, fmt.Errorf("%w: bad introspection body: %v", ErrUnavailable, err)
	}
	if !w.Active {
		return Token{}, nil // RFC 7662 §2.2: nothing else is said of an inactive token
	}
	s, err := scopes.Parse(w.Scope)
	if err != nil {
		return Token{}, fmt.Errorf("%w: bad scope in introspection: %v", ErrUnavailable, err)
	}
	t := Token{
		Active: true, Scope: s, ClientID: w.ClientID, Subject: w.Sub, WebsiteID: w.WebsiteID,
		OperatorID: w.OperatorID, GrantID: w.GrantID, TokenType: w.TokenType, Issuer: w.Iss,
	}
	if w.Exp > 0 {
		t.Expires = time.Unix(w.Exp, 0)
	}
	if w.Iat > 0 {
		t.IssuedAt = time.Unix(w.Iat, 0)
	}
	return t, nil
}

// redactURLError drops the URL from a transport error: it is ours and
// harmless, but keeping errors short keeps logs readable.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
