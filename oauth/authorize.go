package oauth

import (
	"context"
	"errors"
	"net/url"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/scopegate/scopegate/oauth/oautherr"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
)

// AuthorizeRequest is a validated authorization request (RFC 6749 §4.1.1,
// RFC 7636 §4.3). The web layer shows it to the operator and carries Params
// through login and consent; every POST re-validates them.
type AuthorizeRequest struct {
	Client              storage.Client
	RedirectURI         string
	State               string
	CodeChallenge       string
	CodeChallengeMethod string // "S256" or ""
	// Requested is what the operator is asked to consent to: the scope
	// parameter, or the client's approved website scopes when it was
	// omitted (ScopeOmitted).
	Requested    scopes.Set
	ScopeOmitted bool
	// Params are the request's own parameters, to round-trip in forms.
	Params url.Values
}

var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "response_mode"}

// ParseAuthorize validates an authorization request. On error, a nil
// request means the client or redirect URI cannot be trusted (or storage is
// down): show the error on a page, never redirect (RFC 6749 §4.1.2.1). A
// non-nil request means redirect the error to req.RedirectURI with
// ErrorRedirect.
func (p *Provider) ParseAuthorize(ctx context.Context, q url.Values) (*AuthorizeRequest, error) {
	// RFC 6749 §3.1: no parameter more than once. Until the client and
	// redirect URI are known good, nothing is redirected.
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return nil, ErrInvalidRequest.WithDescription("%s is given more than once", k)
		}
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		return nil, ErrInvalidRequest.WithDescription("client_id is missing")
	}
	c, err := p.clients.get(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidClient.WithDescription("unknown client_id")
	}
	if err != nil {
		return nil, err
	}
	if c.Status != storage.Active {
		return nil, ErrInvalidClient.WithDescription("this plugin is suspended")
	}
	if redirectURI == "" {
		return nil, ErrInvalidRequest.WithDescription("redirect_uri is required")
	}
	if !registered(c, redirectURI) {
		// Exact string comparison, as RFC 9700 §4.1.3 asks: no prefix,
		// suffix or host matching.
		return nil, ErrInvalidRequest.WithDescription("redirect_uri is not registered for this client")
	}
	req := &AuthorizeRequest{Client: c, RedirectURI: redirectURI, Params: url.Values{}}
	for _, k := range authorizeParams {
		if v, ok := q[k]; ok {
			req.Params[k] = v
		}
	}
	req.State = q.Get("state")
	for _, k := range authorizeParams {
		if len(q[k]) > 1 {
			return req, ErrInvalidRequest.WithDescription("%s is given more than once", k)
		}
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		return req, ErrInvalidRequest.WithDescription("response_type is missing")
	case rt != "code":
		return req, ErrUnsupportedResponseType.WithDescription("only response_type=code is supported")
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		// We answer in the query only (metadata response_modes_supported):
		// a fragment or form_post is refused, never silently ignored.
		return req, ErrInvalidRequest.WithDescription("response_mode %q is not supported; only query", rm)
	}
	if c.Role != storage.RolePlugin || !allowsGrant(c, "authorization_code") {
		// A resource server never gets tokens (Token refuses it): do not
		// ask an operator to consent for one.
		return req, ErrUnauthorizedClient.WithDescription("this client may not use the authorization code grant")
	}
	if err := p.parsePKCE(req, q); err != nil {
		return req, err
	}
	webMax := c.Approved.Intersect(scopes.WebsiteScopes())
	if q.Get("scope") == "" {
		req.Requested, req.ScopeOmitted = webMax, true
	} else {
		s, err := scopes.Parse(q.Get("scope"))
		if err != nil {
			return req, ErrInvalidScope.WithDescription("%s", err.Error())
		}
		if plug := s.Intersect(scopes.PluginScopes()); !plug.IsEmpty() {
			return req, ErrInvalidScope.WithDescription("plugin scopes come from the client_credentials grant, not consent: %s", plug)
		}
		if extra := s.Difference(webMax); !extra.IsEmpty() {
			return req, ErrInvalidScope.WithDescription("scope exceeds the client's approved maximum: %s", extra)
		}
		req.Requested = s
	}
	if req.Requested.IsEmpty() {
		return req, ErrInvalidScope.WithDescription("the client has no approved website scopes")
	}
	return req, nil
}

// parsePKCE enforces RFC 7636 with S256 only (RFC 9700 §2.1.1): plain is
// refused, and public clients must send a challenge.
func (p *Provider) parsePKCE(req *AuthorizeRequest, q url.Values) error {
	cc, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case cc == "" && method != "":
		return ErrInvalidRequest.WithDescription("code_challenge_method without code_challenge")
	case cc == "" && req.Client.Type == storage.Public:
		return ErrInvalidRequest.WithDescription("PKCE is required for public clients: send code_challenge with code_challenge_method=S256")
	case cc == "":
		return nil
	case method != "S256":
		// An absent method means plain (RFC 7636 §4.3), which we refuse.
		return ErrInvalidRequest.WithDescription("code_challenge_method must be S256")
	case len(cc) != 43 || !validVerifier(cc):
		return ErrInvalidRequest.WithDescription("code_challenge must be the 43-character base64url SHA-256 of the verifier")
	}
	req.CodeChallenge, req.CodeChallengeMethod = cc, method
	return nil
}

func registered(c storage.Client, uri string) bool {
	for _, u := range c.RedirectURIs {
		if u == uri {
			return true
		}
	}
	return false
}

// Consent is the operator's decision: the website the grant is for and the
// scopes ticked.
type Consent struct {
	OperatorID string
	WebsiteID  string
	Scopes     scopes.Set
}

type consent struct {
	Consent
	client storage.Client
}

// Approve issues an authorization code for the consent through the engine
// and returns the redirect to send the browser to. The ticked scopes must
// be a non-empty subset of the request; the caller has checked that the
// operator may act for the website.
func (p *Provider) Approve(ctx context.Context, req *AuthorizeRequest, c Consent) (string, error) {
	if c.Scopes.IsEmpty() {
		return "", ErrInvalidScope.WithDescription("no scope was approved")
	}
	if !c.Scopes.SubsetOf(req.Requested) {
		return "", ErrInvalidScope.WithDescription("approved scopes were not requested: %s", c.Scopes.Difference(req.Requested))
	}
	if c.WebsiteID == "" || c.OperatorID == "" {
		return "", ErrInvalidRequest.WithDescription("a website and an operator are required")
	}
	ctx = context.WithValue(ctx, consentKey, consent{Consent: c, client: req.Client})
	ereq := &server.AuthorizeRequest{
		ResponseType:        oauth2.Code,
		ClientID:            req.Client.ID,
		Scope:               c.Scopes.String(),
		RedirectURI:         req.RedirectURI,
		State:               req.State,
		UserID:              c.OperatorID,
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: oauth2.CodeChallengeMethod(req.CodeChallengeMethod),
	}
	ti, err := p.engine.GetAuthorizeToken(ctx, ereq)
	if err != nil {
		return "", err
	}
	return redirectWith(req.RedirectURI, p.authResponse(req, url.Values{"code": {ti.GetCode()}})), nil
}

// Deny returns the redirect for an operator's refusal (access_denied).
func (p *Provider) Deny(req *AuthorizeRequest) string {
	return p.ErrorRedirect(req, ErrAccessDenied)
}

// ErrorRedirect returns the redirect carrying err to the client (RFC 6749
// §4.1.2.1). req must be non-nil: its redirect URI was validated.
func (p *Provider) ErrorRedirect(req *AuthorizeRequest, err error) string {
	e, _ := AsError(err)
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", oautherr.Sanitize(e.Description))
	}
	return redirectWith(req.RedirectURI, p.authResponse(req, v))
}

// authResponse adds state and the RFC 9207 iss parameter.
func (p *Provider) authResponse(req *AuthorizeRequest, v url.Values) url.Values {
	if req.State != "" {
		v.Set("state", req.State)
	}
	if p.cfg.Issuer != "" {
		v.Set("iss", p.cfg.Issuer)
	}
	return v
}

// redirectWith adds params to a redirect URI, keeping its own query
// (RFC 6749 §3.1.2).
func redirectWith(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return redirectURI
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}
