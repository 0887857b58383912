package oauth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-oauth2/oauth2/v4"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// MaxBodyBytes bounds every form body the endpoints read.
const MaxBodyBytes = 16 << 10

// ParseForm applies the request hygiene every form endpoint shares: POST
// only, no query string, application/x-www-form-urlencoded only, a bounded
// body, valid UTF-8, and no parameter twice (RFC 6749 §3.1, §3.2). Only
// body parameters are used: r.Form is replaced by r.PostForm.
//
// Parameters in the URL are refused rather than ignored: RFC 6749 §3.2 and
// §2.3.1 put them in the body (RFC 7009 §2.1 and RFC 7662 §2.1 likewise),
// URLs end up in logs, and a parameter in both places (scope in the query
// and in the body) would otherwise be read one way here and another way by
// a proxy. Our endpoint URLs have no query of their own (RFC 8414
// metadata).
func ParseForm(w http.ResponseWriter, r *http.Request) error {
	return ParseFormWith(w, r, FormRules{})
}

// Token is the token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6). Here the
// client is authenticated and authorized for the grant type, with the
// request's context; the engine then reads the grant's parameters and
// calls the grant's handler through our manager (engine.go). Every answer,
// success or error, is written here.
func (p *Provider) Token(w http.ResponseWriter, r *http.Request) {
	if err := ParseForm(w, r); err != nil {
		WriteError(w, err)
		return
	}
	gt := oauth2.GrantType(r.PostForm.Get("grant_type"))
	switch {
	case gt == "":
		// The engine says unsupported_grant_type; a missing parameter is
		// invalid_request (RFC 6749 §5.2).
		WriteError(w, ErrInvalidRequest.WithDescription("grant_type is missing"))
		return
	case !p.engine.CheckGrantType(gt):
		// Checked before authentication, and as unsupported_grant_type:
		// the engine says unauthorized_client.
		WriteError(w, ErrUnsupportedGrantType.WithDescription("grant_type %q is not supported", gt))
		return
	}
	c, err := p.authenticateRequest(r)
	if err != nil {
		p.writeError(w, err)
		return
	}
	if c.Role != storage.RolePlugin {
		WriteError(w, ErrUnauthorizedClient.WithDescription("resource-server clients cannot obtain tokens"))
		return
	}
	if !allowsGrant(c, string(gt)) {
		// The engine's ClientAuthorizedHandler would ask this without the
		// request's context; it is left unset and asked here instead.
		WriteError(w, ErrUnauthorizedClient.WithDescription("this client may not use grant_type %s", gt))
		return
	}
	egt, tgr, err := p.engine.ValidationTokenRequest(r)
	if err != nil {
		if name := missingParameter(gt, r.PostForm); name != "" {
			err = ErrInvalidRequest.WithDescription("%s is missing", name).WithCause(err)
		}
		p.writeError(w, err)
		return
	}
	ti, err := p.engine.GetAccessToken(withClient(r.Context(), c), egt, tgr)
	if err != nil {
		p.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p.engine.GetTokenData(ti))
}

// requiredParameters are the parameters the engine requires of each grant
// (go-oauth2 server.ValidationTokenRequest). The engine refuses a missing
// one with a bare invalid_request; missingParameter names it.
var requiredParameters = map[oauth2.GrantType][]string{
	oauth2.AuthorizationCode: {"code", "redirect_uri"},
	oauth2.Refreshing:        {"refresh_token"},
}

// missingParameter is the first required parameter of grant gt absent from
// form, or "".
func missingParameter(gt oauth2.GrantType, form map[string][]string) string {
	for _, name := range requiredParameters[gt] {
		if len(form[name]) == 0 || form[name][0] == "" {
			return name
		}
	}
	return ""
}

// authenticateRequest authenticates the client of a parsed form request.
func (p *Provider) authenticateRequest(r *http.Request) (storage.Client, error) {
	id, secret, _, err := ClientCredentials(r)
	if err != nil {
		return storage.Client{}, err
	}
	return p.authenticate(r.Context(), id, secret)
}

// authenticatedForm parses a form request (ParseForm) and authenticates its
// client; on failure it writes the error and reports false.
func (p *Provider) authenticatedForm(w http.ResponseWriter, r *http.Request) (storage.Client, bool) {
	if err := ParseForm(w, r); err != nil {
		WriteError(w, err)
		return storage.Client{}, false
	}
	c, err := p.authenticateRequest(r)
	if err != nil {
		p.writeError(w, err)
		return storage.Client{}, false
	}
	return c, true
}

func (p *Provider) writeError(w http.ResponseWriter, err error) {
	e, known := AsError(err)
	if !known {
		p.log.Error("oauth: internal error", "err", err)
	} else if e.Code == CodeTemporarilyUnavailable {
		p.log.Warn("oauth: storage unavailable", "err", err)
	}
	WriteError(w, e)
}

// Introspection is the RFC 7662 §2.2 response.
type Introspection struct {
	Active     bool   `json:"active"`
	Scope      string `json:"scope,omitempty"`
	ClientID   string `json:"client_id,omitempty"`
	Sub        string `json:"sub,omitempty"`
	TokenType  string `json:"token_type,omitempty"`
	Exp        int64  `json:"exp,omitempty"`
	Iat        int64  `json:"iat,omitempty"`
	Iss        string `json:"iss,omitempty"`
	WebsiteID  string `json:"website_id,omitempty"`
	OperatorID string `json:"operator_id,omitempty"`
	GrantID    string `json:"grant_id,omitempty"`
}

// Introspect is the introspection endpoint (RFC 7662). Callers authenticate
// as resource-server clients. The scope is re-capped at the token's client's
// current approved maximum, and a suspended client's tokens are inactive.
// A storage fault is 503, never an answer.
func (p *Provider) Introspect(w http.ResponseWriter, r *http.Request) {
	caller, ok := p.authenticatedForm(w, r)
	if !ok {
		return
	}
	if caller.Type == storage.Public {
		// RFC 7662 §2.1: introspection needs real client authentication;
		// a public client's ID is no secret (metadata lists no "none").
		WriteError(w, ErrInvalidClient.WithDescription("introspection requires a client secret"))
		return
	}
	if caller.Role != storage.RoleResourceServer {
		WriteError(w, &Error{Code: CodeUnauthorizedClient, Status: http.StatusForbidden, Description: "only resource-server clients may introspect"})
		return
	}
	value := r.PostForm.Get("token")
	if value == "" {
		WriteError(w, ErrInvalidRequest.WithDescription("token is missing"))
		return
	}
	res, err := p.IntrospectToken(r.Context(), value)
	if err != nil {
		p.writeError(w, err)
		return
	}
	p.metrics.introspected(res.Active)
	writeIntrospection(w, &res)
}

// IntrospectToken answers for one token value. It returns an error only when
// the answer is unknown (storage unavailable): the caller must fail closed.
func (p *Provider) IntrospectToken(ctx context.Context, value string) (Introspection, error) {
	inactive := Introspection{}
	kind, _, err := token.Parse(value)
	if err != nil || kind == token.Code {
		return inactive, nil // malformed: no storage call at all
	}
	t, g, err := p.store.LookupToken(ctx, value)
	if errors.Is(err, storage.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return inactive, err
	}
	now := p.now()
	if !now.Before(t.ExpiresAt) || g.Revoked {
		return inactive, nil
	}
	c, err := p.clients.get(ctx, t.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return inactive, err
	}
	scope := t.Scopes.Intersect(c.Approved)
	if c.Status != storage.Active || scope.IsEmpty() {
		return inactive, nil
	}
	res := Introspection{
		Active:     true,
		Scope:      scope.String(),
		ClientID:   t.ClientID,
		Exp:        t.ExpiresAt.Unix(),
		Iat:        t.IssuedAt.Unix(),
		Iss:        p.cfg.Issuer,
		WebsiteID:  g.WebsiteID,
		OperatorID: g.OperatorID,
		GrantID:    g.ID,
		Sub:        t.ClientID,
	}
	if g.OperatorID != "" {
		res.Sub = g.OperatorID
	}
	if kind == token.Access {
		res.TokenType = "Bearer"
	} else {
		res.TokenType = "refresh_token"
	}
	return res, nil
}

// Revoke is the revocation endpoint (RFC 7009). The client authenticates;
// an unknown or malformed token gets 200 and changes nothing (§2.2);
// another client's live token gets unauthorized_client (§2.1);
// revoking a refresh token revokes its grant; revoking an access token
// revokes that token. token_type_hint is only a hint: our tokens name their
// own kind.
func (p *Provider) Revoke(w http.ResponseWriter, r *http.Request) {
	c, ok := p.authenticatedForm(w, r)
	if !ok {
		return
	}
	value := r.PostForm.Get("token")
	if value == "" {
		WriteError(w, ErrInvalidRequest.WithDescription("token is missing"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	kind, _, err := token.Parse(value)
	if err != nil || kind == token.Code {
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx := r.Context()
	t, g, err := p.store.LookupToken(ctx, value)
	if errors.Is(err, storage.ErrNotFound) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		p.writeError(w, err)
		return
	}
	if t.ClientID != c.ID {
		// RFC 7009 §2.1: the server verifies the token was issued to
		// the client making the request and refuses otherwise; as
		// fosite does, the refusal is unauthorized_client. Nothing is
		// revoked.
		WriteError(w, ErrUnauthorizedClient.WithDescription("the token was not issued to this client"))
		return
	}
	n, err := p.store.RevokeToken(ctx, value)
	if err != nil {
		p.writeError(w, err)
		return
	}
	p.audit(ctx, "client:"+c.ID, storage.Event{Kind: storage.KindTokenRevoked, ClientID: c.ID, WebsiteID: g.WebsiteID, GrantID: g.ID,
		Detail: map[string]string{"token_type": kind.String(), "via": "rfc7009", "tokens": strconv.Itoa(n.Tokens), "grants": strconv.Itoa(n.Grants)}})
	w.WriteHeader(http.StatusOK)
}

// Metadata is the RFC 8414 authorization server metadata.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	ServiceDocumentation                       string   `json:"service_documentation,omitempty"`
}

// Metadata returns the server's RFC 8414 metadata.
func (p *Provider) Metadata() Metadata {
	iss := strings.TrimRight(p.cfg.Issuer, "/")
	auth := []string{"client_secret_basic", "client_secret_post"}
	return Metadata{
		Issuer:                                     iss,
		AuthorizationEndpoint:                      iss + "/oauth/authorize",
		TokenEndpoint:                              iss + "/oauth/token",
		IntrospectionEndpoint:                      iss + "/oauth/introspect",
		RevocationEndpoint:                         iss + "/oauth/revoke",
		ScopesSupported:                            scopes.All().Strings(),
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{"authorization_code", "client_credentials", "refresh_token"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		TokenEndpointAuthMethodsSupported:          append([]string{"none"}, auth...),
		RevocationEndpointAuthMethodsSupported:     append([]string{"none"}, auth...),
		IntrospectionEndpointAuthMethodsSupported:  auth,
		AuthorizationResponseIssParameterSupported: true,
	}
}
