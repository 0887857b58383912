package oauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// This file is the whole of the go-oauth2 glue: the engine's configuration,
// the hooks we install, and the oauth2.Manager that hands each grant to its
// handler (flow_code.go, flow_client_credentials.go, flow_refresh.go).
//
// What the engine does for us: it reads the grant's parameters from the
// token request and refuses a missing code, redirect_uri or refresh_token
// (ValidationTokenRequest), refuses a grant type outside
// Config.AllowedGrantTypes, and dispatches to the Manager (GetAccessToken,
// GetAuthorizeToken). What it does not do, and we do instead: client
// authentication (provider.go), the client's grant-type and role checks
// (Token, with the request's context: the engine's ClientAuthorizedHandler
// has no context parameter, so it is left unset), PKCE, scope capping,
// atomic redemption and rotation (the flows), and every error answer: the
// engine never writes a response (Token calls its steps, not
// HandleTokenRequest), so its errors reach the client only through AsError
// and WriteError.

// newEngine configures go-oauth2's server: only the code, client-credentials
// and refresh grants, only response_type=code, only S256.
func (p *Provider) newEngine() *server.Server {
	cfg := server.NewConfig()
	cfg.AllowedResponseTypes = []oauth2.ResponseType{oauth2.Code}
	cfg.AllowedGrantTypes = []oauth2.GrantType{oauth2.AuthorizationCode, oauth2.ClientCredentials, oauth2.Refreshing}
	cfg.AllowedCodeChallengeMethods = []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256}
	srv := server.NewServer(cfg, &manager{
		code:    codeFlow{p},
		client:  clientCredentialsFlow{p},
		refresh: refreshFlow{p},
	})
	srv.ClientInfoHandler = clientCredentialsFromRequest
	srv.ExtensionFieldsHandler = extensionFields
	return srv
}

// The hooks, checked against the engine's types.
var (
	_ server.ClientInfoHandler      = clientCredentialsFromRequest
	_ server.ExtensionFieldsHandler = extensionFields
)

// clientCredentialsFromRequest reads client_secret_basic or
// client_secret_post (RFC 6749 §2.3.1), or a bare client_id for public
// clients. Using two methods at once is invalid_request (§2.3).
func clientCredentialsFromRequest(r *http.Request) (string, string, error) {
	id, secret, _, err := ClientCredentials(r)
	return id, secret, err
}

// extensionFields adds scope to every token response. RFC 6749 §5.1: scope
// is OPTIONAL when identical to the request; we always send it so a client
// never has to guess.
func extensionFields(ti oauth2.TokenInfo) map[string]any {
	return map[string]any{"scope": ti.GetScope()}
}

// grantHandler serves one grant type at the token endpoint, as fosite's
// handler/oauth2 does: c is the authenticated client, already allowed the
// grant type.
type grantHandler interface {
	handle(ctx context.Context, c storage.Client, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error)
}

// manager implements the engine's oauth2.Manager over our storage by
// handing each grant to its handler. The engine's own manage.Manager reads
// then deletes codes (not atomic), compares secrets as plain strings,
// matches redirect URIs by host suffix and lets refresh widen scope; ours
// does none of that.
type manager struct {
	code    codeFlow
	client  clientCredentialsFlow
	refresh refreshFlow
}

var _ oauth2.Manager = (*manager)(nil)

// GenerateAuthToken issues an authorization code at consent (Approve).
func (m *manager) GenerateAuthToken(ctx context.Context, _ oauth2.ResponseType, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	return m.code.issueCode(ctx, tgr)
}

// GenerateAccessToken serves the authorization_code and client_credentials
// grants.
func (m *manager) GenerateAccessToken(ctx context.Context, gt oauth2.GrantType, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	var h grantHandler
	switch gt {
	case oauth2.AuthorizationCode:
		h = m.code
	case oauth2.ClientCredentials:
		h = m.client
	default:
		return nil, ErrUnsupportedGrantType
	}
	return handle(ctx, h, tgr)
}

// RefreshAccessToken serves the refresh_token grant.
func (m *manager) RefreshAccessToken(ctx context.Context, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	return handle(ctx, m.refresh, tgr)
}

// handle runs h for the client Token authenticated.
func handle(ctx context.Context, h grantHandler, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	c, ok := ctx.Value(clientKey).(storage.Client)
	if !ok {
		return nil, ErrServerError.WithCause(errors.New("oauth: no authenticated client in context"))
	}
	return h.handle(ctx, c, tgr)
}

// errNotUsed answers the Manager methods the engine never calls on our
// paths: GetClient (only HandleAuthorizeRequest, which we do not use),
// LoadAccessToken (only ValidationBearerToken: resource servers introspect
// instead), LoadRefreshToken (only with refreshing hooks, which we do not
// set), RemoveAccessToken and RemoveRefreshToken (never called by the
// server; revocation is Revoke).
var errNotUsed = ErrServerError.WithCause(errors.New("oauth: engine called a Manager method scopegate does not use"))

func (*manager) GetClient(context.Context, string) (oauth2.ClientInfo, error) { return nil, errNotUsed }
func (*manager) RemoveAccessToken(context.Context, string) error              { return errNotUsed }
func (*manager) RemoveRefreshToken(context.Context, string) error             { return errNotUsed }
func (*manager) LoadAccessToken(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, errNotUsed
}
func (*manager) LoadRefreshToken(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, errNotUsed
}

type ctxKey int

const (
	clientKey ctxKey = iota
	consentKey
)

// withClient records the client authenticated by the token endpoint.
func withClient(ctx context.Context, c storage.Client) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

// newTokens mints an access token (and optionally a refresh token) of grant
// gid for client clientID, with the given scopes, or with the scopes of the
// token being redeemed when same.
func (p *Provider) newTokens(gid, clientID string, access, refresh scopes.Set, same, withRefresh bool) []storage.NewToken {
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

// redeem uses up a code or a refresh token (gt says which) and stores its successor
// tokens toks in one atomic storage step (one Redis round trip; see
// storage's RedeemChecked for the checks of r). toks carry the redeemed
// token's scopes; the answer names them capped at the client's current
// maximum, as introspection does. If nothing is left after capping, the
// grant is revoked (its tokens could never be used) and the client gets
// invalid_scope.
func (p *Provider) redeem(ctx context.Context, c storage.Client, gt oauth2.GrantType, value string, r storage.Redemption, toks []storage.NewToken) (oauth2.TokenInfo, error) {
	what := "authorization code"
	if gt == oauth2.Refreshing {
		what = "refresh token"
	}
	g, granted, err := p.store.RedeemChecked(ctx, value, r, toks...)
	if err != nil {
		return nil, grantError(err, what)
	}
	scope := granted.Intersect(c.Approved)
	if scope.IsEmpty() {
		if _, err := p.store.RevokeGrant(ctx, g.ID); err != nil {
			p.log.Warn("oauth: revoking a grant left without approved scopes", "grant", g.ID, "err", err)
		}
		return nil, ErrInvalidScope.WithDescription("none of the %s's scopes is still approved for this client", what)
	}
	p.metrics.issued(string(gt))
	return tokenInfo(toks, scope), nil
}

// tokenInfo is the engine's view of tokens made by newTokens: what the
// token response (RFC 6749 §5.1) shows, with scope as the granted scope.
func tokenInfo(toks []storage.NewToken, scope scopes.Set) oauth2.TokenInfo {
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
