package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// codeFlow is the authorization code grant (RFC 6749 §4.1) with PKCE (RFC
// 7636): issuing a code at consent and redeeming it at the token endpoint.
type codeFlow struct{ p *Provider }

var _ grantHandler = codeFlow{}

// issueCode issues an authorization code for the consent carried in ctx
// (see Provider.Approve): a new grant and its code.
func (f codeFlow) issueCode(ctx context.Context, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	cs, ok := ctx.Value(consentKey).(consent)
	if !ok {
		return nil, ErrServerError.WithCause(errors.New("oauth: no consent in context"))
	}
	p := f.p
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
	p.audit(ctx, "operator:"+g.OperatorID, storage.Event{Kind: storage.KindGrantCreated, ClientID: g.ClientID, WebsiteID: g.WebsiteID, GrantID: g.ID,
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

// handle is RFC 6749 §4.1.3 with RFC 7636 §4.6 and the replay rule of
// §4.1.2: the client, redirect URI and PKCE verifier are checked and the
// code is redeemed with the new tokens in one atomic storage step (one
// Redis round trip). The tokens carry the consented scopes; the answer
// names them capped at the client's current maximum, as introspection
// does. (The engine has already refused a missing code or redirect_uri.)
func (f codeFlow) handle(ctx context.Context, c storage.Client, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	p := f.p
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
	toks := p.newTokens(gid, c.ID, scopes.Set{}, scopes.Set{}, true, allowsGrant(c, "refresh_token"))
	return p.redeem(ctx, c, oauth2.AuthorizationCode, tgr.Code, storage.Redemption{
		ClientID: c.ID, RedirectURI: tgr.RedirectURI, Challenge: challenge, RequirePKCE: c.Type == storage.Public,
	}, toks)
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
