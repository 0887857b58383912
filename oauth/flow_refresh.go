package oauth

import (
	"context"

	"github.com/go-oauth2/oauth2/v4"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// refreshFlow is the refresh token grant (RFC 6749 §6) with rotation: the
// client must own the refresh token; scope may narrow, never widen; the
// access token is re-capped at the client's current approved maximum; the
// new refresh token keeps the old one's scope (§6) and the old one is used
// up atomically. (The engine has already refused a missing refresh_token.)
type refreshFlow struct{ p *Provider }

var _ grantHandler = refreshFlow{}

func (f refreshFlow) handle(ctx context.Context, c storage.Client, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	p := f.p
	if tgr.Scope == "" {
		// The usual case, in one atomic step (one round trip): the new
		// tokens keep the old refresh token's scope; the answer caps it
		// at the client's current maximum, as introspection does.
		_, gid, err := token.Parse(tgr.Refresh)
		if err != nil {
			return nil, grantError(storage.ErrNotFound, "refresh token")
		}
		toks := p.newTokens(gid, c.ID, scopes.Set{}, scopes.Set{}, true, true)
		return p.redeem(ctx, c, oauth2.Refreshing, tgr.Refresh, storage.Redemption{ClientID: c.ID}, toks)
	}
	// A narrower scope was asked for: check it against the old token's
	// before rotating (two round trips).
	old, g, err := p.store.GetRefresh(ctx, tgr.Refresh)
	if err != nil {
		return nil, grantError(err, "refresh token")
	}
	if old.ClientID != c.ID { // client IDs are not secret
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
	toks := p.newTokens(g.ID, g.ClientID, scope, old.Scopes, false, true)
	if err := p.store.RotateRefresh(ctx, tgr.Refresh, toks...); err != nil {
		return nil, grantError(err, "refresh token")
	}
	p.metrics.issued("refresh_token")
	return tokenInfo(toks, scope), nil
}
