package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// manager implements the engine's oauth2.Manager over our storage. The
// engine's own manage.Manager reads then deletes codes (not atomic),
// compares secrets as plain strings, matches redirect URIs by host suffix
// and lets refresh widen scope; this one does none of that.
type manager struct{ p *Provider }

var _ oauth2.Manager = (*manager)(nil)

type ctxKey int

const (
	clientKey ctxKey = iota
	consentKey
)

// withClient records the client authenticated by the token endpoint.
func withClient(ctx context.Context, c storage.Client) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

func clientFrom(ctx context.Context) (storage.Client, error) {
	c, ok := ctx.Value(clientKey).(storage.Client)
	if !ok {
		return storage.Client{}, ErrServerError.WithCause(errors.New("oauth: no authenticated client in context"))
	}
	return c, nil
}

// clientInfo adapts storage.Client to the engine's oauth2.ClientInfo. The
// secret is never exposed: verification happens in authenticate.
type clientInfo struct{ c storage.Client }

func (ci clientInfo) GetID() string     { return ci.c.ID }
func (ci clientInfo) GetSecret() string { return "" }
func (ci clientInfo) GetDomain() string {
	if len(ci.c.RedirectURIs) > 0 {
		return ci.c.RedirectURIs[0]
	}
	return ""
}
func (ci clientInfo) IsPublic() bool             { return ci.c.Type == storage.Public }
func (ci clientInfo) GetUserID() string          { return "" }
func (ci clientInfo) VerifyPassword(string) bool { return false }

func (m *manager) GetClient(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	c, err := m.p.clients.get(ctx, id)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, ErrInvalidClient
		}
		return nil, err
	}
	return clientInfo{c}, nil
}

// GenerateAuthToken issues an authorization code for the consent carried in
// ctx (see Provider.Approve): a new grant and its code.
func (m *manager) GenerateAuthToken(ctx context.Context, rt oauth2.ResponseType, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	if rt != oauth2.Code {
		return nil, ErrUnsupportedResponseType
	}
	cs, ok := ctx.Value(consentKey).(consent)
	if !ok {
		return nil, ErrServerError.WithCause(errors.New("oauth: no consent in context"))
	}
	p := m.p
	now := p.now()
	g := storage.Grant{
		ID:         token.NewID(),
		ClientID:   cs.client.ID,
		WebsiteID:  cs.WebsiteID,
		OperatorID: cs.OperatorID,
		Scopes:     cs.Scopes,
		CreatedAt:  now,
		ExpiresAt:  now.Add(p.cfg.CodeTTL),
	}
	if err := p.store.CreateGrant(ctx, g); err != nil {
		return nil, err
	}
	code := token.New(token.Code, g.ID)
	err := p.store.IssueTokens(ctx, storage.NewToken{Value: code, Token: storage.Token{
		Kind:                token.Code,
		GrantID:             g.ID,
		ClientID:            g.ClientID,
		Scopes:              g.Scopes,
		IssuedAt:            now,
		ExpiresAt:           now.Add(p.cfg.CodeTTL),
		RedirectURI:         tgr.RedirectURI,
		CodeChallenge:       tgr.CodeChallenge,
		CodeChallengeMethod: string(tgr.CodeChallengeMethod),
	}})
	if err != nil {
		return nil, err
	}
	p.audit(ctx, storage.Event{Kind: "grant.created", Actor: "operator:" + g.OperatorID, ClientID: g.ClientID, WebsiteID: g.WebsiteID, GrantID: g.ID,
		Detail: map[string]string{"scope": g.Scopes.String()}})
	ti := models.NewToken()
	ti.SetClientID(g.ClientID)
	ti.SetUserID(g.OperatorID)
	ti.SetRedirectURI(tgr.RedirectURI)
	ti.SetScope(g.Scopes.String())
	ti.SetCode(code)
	ti.SetCodeCreateAt(now)
	ti.SetCodeExpiresIn(p.cfg.CodeTTL)
	return ti, nil
}

// GenerateAccessToken serves the authorization_code and client_credentials
// grants. The client was authenticated before the engine ran.
func (m *manager) GenerateAccessToken(ctx context.Context, gt oauth2.GrantType, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	switch gt {
	case oauth2.AuthorizationCode:
		return m.exchangeCode(ctx, c, tgr)
	case oauth2.ClientCredentials:
		return m.clientCredentials(ctx, c, tgr)
	}
	return nil, ErrUnsupportedGrantType
}

// exchangeCode is RFC 6749 §4.1.3 with RFC 7636 §4.6 and the replay rule of
// §4.1.2: the client, redirect URI and PKCE verifier are checked and the
// code is redeemed with the new tokens in one atomic storage step (one
// Redis round trip). The tokens carry the consented scopes; the answer
// names them capped at the client's current maximum, as introspection
// does.
func (m *manager) exchangeCode(ctx context.Context, c storage.Client, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	p := m.p
	_, gid, err := token.Parse(tgr.Code)
	if err != nil {
		return nil, grantError(storage.ErrNotFound, "authorization code")
	}
	challenge := ""
	if v := tgr.CodeVerifier; v != "" {
		if !validVerifier(v) {
			return nil, ErrInvalidGrant.WithDescription("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")
		}
		sum := sha256.Sum256([]byte(v))
		challenge = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	toks := m.newTokens(gid, c.ID, scopes.Set{}, scopes.Set{}, true, allowsGrant(c, "refresh_token"))
	g, consented, err := p.store.RedeemChecked(ctx, tgr.Code, storage.Redemption{
		ClientID: c.ID, RedirectURI: tgr.RedirectURI, Challenge: challenge, RequirePKCE: c.Type == storage.Public,
	}, toks...)
	if err != nil {
		return nil, redeemError(err, "authorization code")
	}
	scope := consented.Intersect(c.Approved)
	if scope.IsEmpty() {
		return nil, p.unusable(ctx, g, "none of the consented scopes is still approved for this client")
	}
	p.metrics.issued("authorization_code")
	return m.tokenInfo(toks, scope), nil
}

// unusable answers a redemption that succeeded but whose tokens carry no
// scope the client is still approved for: the grant is revoked (its tokens
// could never be used) and the client gets invalid_scope.
func (p *Provider) unusable(ctx context.Context, g storage.Grant, why string) error {
	if _, err := p.store.RevokeGrant(ctx, g.ID); err != nil {
		p.log.Warn("oauth: revoking a grant left without approved scopes", "grant", g.ID, "err", err)
	}
	return ErrInvalidScope.WithDescription("%s", why)
}

// redeemError maps RedeemChecked's refusals to RFC 6749 §5.2 errors.
func redeemError(err error, what string) error {
	var mm *storage.MismatchError
	if !errors.As(err, &mm) {
		return grantError(err, what)
	}
	switch mm.What {
	case "client_id":
		return ErrInvalidGrant.WithDescription("the %s was issued to another client", what)
	case "redirect_uri":
		return ErrInvalidGrant.WithDescription("redirect_uri differs from the authorization request")
	case "pkce_required":
		// Only possible if the client became public after the code was
		// issued; a public client proves itself with PKCE alone.
		return ErrInvalidGrant.WithDescription("public clients must use PKCE")
	case "code_verifier_unexpected":
		return ErrInvalidGrant.WithDescription("code_verifier sent but the authorization request had no code_challenge")
	case "code_verifier_missing":
		return ErrInvalidGrant.WithDescription("code_verifier is required")
	}
	return ErrInvalidGrant.WithDescription("code_verifier does not match the code_challenge")
}

// validVerifier checks RFC 7636 §4.1's ABNF; the same shape is required of
// a code_challenge (43 characters of base64url for S256).
func validVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// clientCredentials is RFC 6749 §4.4: plugin scopes only, the client as
// subject, no refresh token (§4.4.3).
func (m *manager) clientCredentials(ctx context.Context, c storage.Client, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	p := m.p
	if c.Type == storage.Public {
		return nil, ErrUnauthorizedClient.WithDescription("public clients cannot use client_credentials")
	}
	max := c.Approved.Intersect(scopes.PluginScopes())
	scope, err := requestedScope(tgr.Scope, max)
	if err != nil {
		return nil, err
	}
	if web := scope.Intersect(scopes.WebsiteScopes()); !web.IsEmpty() {
		return nil, ErrInvalidScope.WithDescription("website scopes need a website operator's consent (authorization_code grant): %s", web)
	}
	if !scope.SubsetOf(max) {
		return nil, ErrInvalidScope.WithDescription("scope exceeds the client's approved maximum: %s", scope.Difference(max))
	}
	if scope.IsEmpty() {
		return nil, ErrInvalidScope.WithDescription("the client has no approved plugin scopes")
	}
	now := p.now()
	// One storage call: find (or create) the client's grant and store the
	// token in it. The grant's scope is the approved plugin maximum; the
	// token carries what was asked for.
	at, g, err := p.store.IssueClientCredentials(ctx,
		storage.Grant{ID: token.NewID(), ClientID: c.ID, Scopes: max, CreatedAt: now, ExpiresAt: now.Add(p.cfg.AccessTTL)},
		storage.Token{Kind: token.Access, ClientID: c.ID, Scopes: scope, IssuedAt: now, ExpiresAt: now.Add(p.cfg.AccessTTL)})
	if err != nil {
		return nil, err
	}
	p.metrics.issued("client_credentials")
	return m.tokenInfo([]storage.NewToken{{Value: at, Token: storage.Token{
		Kind: token.Access, GrantID: g.ID, ClientID: g.ClientID, Scopes: scope, IssuedAt: now, ExpiresAt: now.Add(p.cfg.AccessTTL),
	}}}, scope), nil
}

// requestedScope parses a scope parameter strictly. An omitted scope means
// def (RFC 6749 §3.3: our documented default is the approved maximum of the
// kind the grant can carry).
func requestedScope(param string, def scopes.Set) (scopes.Set, error) {
	if param == "" {
		return def, nil
	}
	s, err := scopes.Parse(param)
	if err != nil {
		return scopes.Set{}, ErrInvalidScope.WithDescription("%s", err.Error())
	}
	return s, nil
}

// RefreshAccessToken is RFC 6749 §6 with rotation: the client must own the
// refresh token; scope may narrow, never widen; the access token is re-capped
// at the client's current approved maximum; the new refresh token keeps the
// old one's scope (§6) and the old one is used up atomically.
func (m *manager) RefreshAccessToken(ctx context.Context, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	p := m.p
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	if tgr.Scope == "" {
		// The usual case, in one atomic step (one round trip): the new
		// tokens keep the old refresh token's scope; the answer caps it
		// at the client's current maximum, as introspection does.
		_, gid, err := token.Parse(tgr.Refresh)
		if err != nil {
			return nil, grantError(storage.ErrNotFound, "refresh token")
		}
		toks := m.newTokens(gid, c.ID, scopes.Set{}, scopes.Set{}, true, true)
		g, granted, err := p.store.RedeemChecked(ctx, tgr.Refresh, storage.Redemption{ClientID: c.ID}, toks...)
		if err != nil {
			return nil, redeemError(err, "refresh token")
		}
		scope := granted.Intersect(c.Approved)
		if scope.IsEmpty() {
			return nil, p.unusable(ctx, g, "none of the requested scopes is still approved for this client")
		}
		p.metrics.issued("refresh_token")
		return m.tokenInfo(toks, scope), nil
	}
	// A narrower scope was asked for: check it against the old token's
	// before rotating (two round trips).
	old, g, err := p.store.GetRefresh(ctx, tgr.Refresh)
	if err != nil {
		return nil, grantError(err, "refresh token")
	}
	if subtle.ConstantTimeCompare([]byte(old.ClientID), []byte(c.ID)) != 1 {
		return nil, ErrInvalidGrant.WithDescription("the refresh token was issued to another client")
	}
	want, err := requestedScope(tgr.Scope, old.Scopes)
	if err != nil {
		return nil, err
	}
	if !want.SubsetOf(old.Scopes) {
		return nil, ErrInvalidScope.WithDescription("refresh may narrow scope, never widen it: %s was not granted", want.Difference(old.Scopes))
	}
	scope := want.Intersect(c.Approved)
	if scope.IsEmpty() {
		return nil, ErrInvalidScope.WithDescription("none of the requested scopes is still approved for this client")
	}
	toks, ti := m.mint(g, scope, old.Scopes, true)
	if err := p.store.RotateRefresh(ctx, tgr.Refresh, toks...); err != nil {
		return nil, grantError(err, "refresh token")
	}
	p.metrics.issued("refresh_token")
	return ti, nil
}

// mint makes an access token (and optionally a refresh token) for grant g.
func (m *manager) mint(g storage.Grant, access, refresh scopes.Set, withRefresh bool) ([]storage.NewToken, oauth2.TokenInfo) {
	toks := m.newTokens(g.ID, g.ClientID, access, refresh, false, withRefresh)
	return toks, m.tokenInfo(toks, access)
}

// newTokens mints an access token (and optionally a refresh token) of grant
// gid for client clientID, with the given scopes, or with the scopes of the
// token being redeemed when same.
func (m *manager) newTokens(gid, clientID string, access, refresh scopes.Set, same, withRefresh bool) []storage.NewToken {
	p := m.p
	now := p.now()
	toks := []storage.NewToken{{Value: token.New(token.Access, gid), SameScopes: same, Token: storage.Token{
		Kind: token.Access, GrantID: gid, ClientID: clientID, Scopes: access, IssuedAt: now, ExpiresAt: now.Add(p.cfg.AccessTTL),
	}}}
	if withRefresh {
		toks = append(toks, storage.NewToken{Value: token.New(token.Refresh, gid), SameScopes: same, Token: storage.Token{
			Kind: token.Refresh, GrantID: gid, ClientID: clientID, Scopes: refresh, IssuedAt: now, ExpiresAt: now.Add(p.cfg.RefreshTTL),
		}})
	}
	return toks
}

// tokenInfo is the engine's view of tokens made by newTokens: what the
// token response (RFC 6749 §5.1) shows, with scope as the granted scope.
func (m *manager) tokenInfo(toks []storage.NewToken, scope scopes.Set) oauth2.TokenInfo {
	ti := models.NewToken()
	ti.SetClientID(toks[0].ClientID)
	ti.SetScope(scope.String())
	for _, t := range toks {
		switch t.Kind {
		case token.Access:
			ti.SetAccess(t.Value)
			ti.SetAccessCreateAt(t.IssuedAt)
			ti.SetAccessExpiresIn(t.ExpiresAt.Sub(t.IssuedAt))
		case token.Refresh:
			ti.SetRefresh(t.Value)
			ti.SetRefreshCreateAt(t.IssuedAt)
			ti.SetRefreshExpiresIn(t.ExpiresAt.Sub(t.IssuedAt))
		}
	}
	return ti
}

// grantError maps storage outcomes for a code or refresh token to RFC 6749
// errors: anything the client did wrong is invalid_grant; outages stay
// outages.
func grantError(err error, what string) error {
	switch {
	case errors.Is(err, storage.ErrReplayed):
		return ErrInvalidGrant.WithDescription("the %s was already used; its grant is revoked", what).WithCause(err)
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrGrantRevoked):
		return ErrInvalidGrant.WithDescription("the %s is invalid, expired or revoked", what).WithCause(err)
	}
	return err
}

func (m *manager) RemoveAccessToken(ctx context.Context, access string) error {
	_, err := m.p.store.RevokeToken(ctx, access)
	return err
}

func (m *manager) RemoveRefreshToken(ctx context.Context, refresh string) error {
	_, err := m.p.store.RevokeToken(ctx, refresh)
	return err
}

func (m *manager) LoadAccessToken(ctx context.Context, access string) (oauth2.TokenInfo, error) {
	return m.load(ctx, access, token.Access)
}

func (m *manager) LoadRefreshToken(ctx context.Context, refresh string) (oauth2.TokenInfo, error) {
	return m.load(ctx, refresh, token.Refresh)
}

func (m *manager) load(ctx context.Context, value string, kind token.Kind) (oauth2.TokenInfo, error) {
	t, g, err := m.p.store.LookupToken(ctx, value)
	if err != nil || t.Kind != kind {
		if err == nil || errors.Is(err, storage.ErrNotFound) {
			return nil, ErrInvalidGrant.WithDescription("the token is invalid, expired or revoked")
		}
		return nil, err
	}
	ti := models.NewToken()
	ti.SetClientID(t.ClientID)
	ti.SetUserID(g.OperatorID)
	ti.SetScope(t.Scopes.String())
	if kind == token.Access {
		ti.SetAccess(value)
		ti.SetAccessCreateAt(t.IssuedAt)
		ti.SetAccessExpiresIn(t.ExpiresAt.Sub(t.IssuedAt))
	} else {
		ti.SetRefresh(value)
		ti.SetRefreshCreateAt(t.IssuedAt)
		ti.SetRefreshExpiresIn(t.ExpiresAt.Sub(t.IssuedAt))
	}
	return ti, nil
}

// audit appends an event; a failure is logged, never returned: the action
// it records has already happened.
func (p *Provider) audit(ctx context.Context, e storage.Event) {
	if e.Time.IsZero() {
		e.Time = p.now()
	}
	if err := p.store.AppendEvent(ctx, e); err != nil {
		p.log.Error("audit: append failed", "kind", e.Kind, "err", err)
	}
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
