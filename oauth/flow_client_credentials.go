package oauth

import (
	"context"

	"github.com/go-oauth2/oauth2/v4"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// clientCredentialsFlow is the client credentials grant (RFC 6749 §4.4):
// plugin scopes only, the client as subject, no refresh token (§4.4.3).
type clientCredentialsFlow struct{ p *Provider }

var _ grantHandler = clientCredentialsFlow{}

func (f clientCredentialsFlow) handle(ctx context.Context, c storage.Client, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	p := f.p
	if c.Type == storage.Public {
		// §4.4: only confidential clients; a public client's ID is no
		// credential. The engine has no notion of this.
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
	return tokenInfo([]storage.NewToken{{Value: at, Token: storage.Token{
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
