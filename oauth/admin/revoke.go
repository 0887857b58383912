package admin

import (
	"context"
	"errors"
	"strconv"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// Target names what an admin revokes: exactly one field. A pasted access
// or refresh token revokes its whole grant: for an admin a leaked token
// means the grant is compromised.
type Target struct {
	Token, GrantID, ClientID, WebsiteID string
}

// check is ErrInvalid unless exactly one field is set.
func (t Target) check() error {
	const one = "give exactly one of token, grant_id, client_id, website_id"
	given := map[string]string{}
	for name, v := range map[string]string{"token": t.Token, "grant_id": t.GrantID, "client_id": t.ClientID, "website_id": t.WebsiteID} {
		if v != "" {
			given[name] = one
		}
	}
	switch len(given) {
	case 0:
		return &Error{Kind: ErrInvalid, What: "revocation", Description: one}
	case 1:
		return nil
	}
	return Invalid(given)
}

// notAToken blames "token" for a value that is not a scopegate token.
var notAToken = &Error{Kind: ErrInvalid, What: "token", Err: ErrNotAToken, Fields: map[string]string{
	"token": "is not a scopegate token (sga_, sgr_ or sgc_ followed by 71 base62 characters with a valid checksum)"}}

// Revoke revokes what t names and audits it (revoke.token, revoke.grant,
// revoke.client, revoke.website; reason, when set, goes in the event). A
// named grant, client or website that does not exist is ErrNotFound; an
// unknown, expired or already revoked token counts zero. The token is
// never logged or audited.
func (s *Service) Revoke(ctx context.Context, actor string, t Target, reason string) (storage.Revocation, error) {
	if err := t.check(); err != nil {
		return storage.Revocation{}, err
	}
	var (
		n    storage.Revocation
		err  error
		what string
		kind RevocationKind
		ev   = storage.Event{Detail: map[string]string{}}
	)
	switch {
	case t.Token != "":
		tk, _, perr := token.Parse(t.Token)
		if perr != nil {
			return n, notAToken
		}
		what, kind, ev.Kind = "token", RevokedAdminToken, storage.KindRevokeToken
		ev.Detail["token_type"] = tk.String()
		live, g, lerr := s.store.LookupToken(ctx, t.Token)
		switch {
		case lerr == nil:
			ev.ClientID, ev.WebsiteID, ev.GrantID = live.ClientID, g.WebsiteID, g.ID
			n, err = s.store.RevokeGrant(ctx, g.ID)
		case errors.Is(lerr, storage.ErrNotFound):
			// Unknown, expired, used or already revoked: the store's
			// RevokeToken still kills a live code's grant and counts
			// zero otherwise.
			n, err = s.store.RevokeToken(ctx, t.Token)
		default:
			err = lerr
		}
	case t.GrantID != "":
		what, kind, ev.Kind, ev.GrantID = "grant", RevokedAdminGrant, storage.KindRevokeGrant, t.GrantID
		var g storage.Grant
		if g, err = s.store.GetGrant(ctx, t.GrantID); err == nil {
			ev.ClientID, ev.WebsiteID = g.ClientID, g.WebsiteID
			n, err = s.store.RevokeGrant(ctx, t.GrantID)
		}
	case t.ClientID != "":
		what, kind, ev.Kind, ev.ClientID = "client", RevokedAdminClient, storage.KindRevokeClient, t.ClientID
		if _, err = s.store.GetClient(ctx, t.ClientID); err == nil {
			n, err = s.store.RevokeClient(ctx, t.ClientID)
		}
	default:
		what, kind, ev.Kind, ev.WebsiteID = "website", RevokedAdminWebsite, storage.KindRevokeWebsite, t.WebsiteID
		if _, err = s.store.GetWebsite(ctx, t.WebsiteID); err == nil {
			n, err = s.store.RevokeWebsite(ctx, t.WebsiteID)
		}
	}
	if err != nil {
		return n, fromStore(err, what)
	}
	ev.Detail["grants"], ev.Detail["tokens"] = strconv.Itoa(n.Grants), strconv.Itoa(n.Tokens)
	if reason != "" {
		ev.Detail["reason"] = reason
	}
	if n.Unconfirmed {
		ev.Detail["durable"] = "false"
	}
	s.revoked(kind)
	s.Audit(ctx, actor, ev)
	return n, nil
}

// ReportLeak revokes the grant of a live token someone found in the wild
// and audits it as the leak-report actor. It reports nothing back: the
// reporter learns nothing about the token either way. Failures are
// logged; the token never is.
func (s *Service) ReportLeak(ctx context.Context, value string) {
	if _, _, err := token.Parse(value); err != nil {
		return
	}
	t, g, err := s.store.LookupToken(ctx, value)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			s.log.Error("leaked token report: lookup failed", "err", err)
		}
		return
	}
	n, err := s.revokeGrant(ctx, "leak-report", g, RevokedLeak, map[string]string{
		"reason": "token reported leaked", "token_type": t.Kind.String()})
	if err != nil {
		s.log.Error("leaked token report: revoke failed", "grant", g.ID, "err", err)
		return
	}
	s.log.Warn("leaked token reported: grant revoked", "grant", g.ID, "client", t.ClientID, "tokens", n.Tokens)
}

// Disconnect revokes one grant of one of an operator's websites, with
// everything issued from it; the caller has checked the operator may act
// for g's website.
func (s *Service) Disconnect(ctx context.Context, operatorID string, g storage.Grant) (storage.Revocation, error) {
	n, err := s.revokeGrant(ctx, "operator:"+operatorID, g, RevokedDisconnect, map[string]string{"reason": "disconnected by operator"})
	if err != nil {
		return n, err
	}
	s.log.Info("operator disconnected a plugin", "operator", operatorID, "grant", g.ID, "client", g.ClientID, "tokens", n.Tokens)
	return n, nil
}

// revokeGrant revokes g for actor and audits it as grant.revoked with
// detail and the count of tokens.
func (s *Service) revokeGrant(ctx context.Context, actor string, g storage.Grant, kind RevocationKind, detail map[string]string) (storage.Revocation, error) {
	n, err := s.store.RevokeGrant(ctx, g.ID)
	if err != nil {
		return n, fromStore(err, "grant")
	}
	s.revoked(kind)
	detail["tokens"] = strconv.Itoa(n.Tokens)
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindGrantRevoked, ClientID: g.ClientID, WebsiteID: g.WebsiteID, GrantID: g.ID, Detail: detail})
	return n, nil
}

// GetGrant returns one grant.
func (s *Service) GetGrant(ctx context.Context, id string) (storage.Grant, error) {
	g, err := s.store.GetGrant(ctx, id)
	return g, fromStore(err, "grant")
}

// LookupToken returns a live token's record and its grant (ErrNotFound
// for one that is not live); the kill switch shows them before revoking.
func (s *Service) LookupToken(ctx context.Context, value string) (storage.Token, storage.Grant, error) {
	if _, _, err := token.Parse(value); err != nil {
		return storage.Token{}, storage.Grant{}, notAToken
	}
	t, g, err := s.store.LookupToken(ctx, value)
	return t, g, fromStore(err, "token")
}

// ListGrants lists the live grants of a client or of a website (exactly
// one of the two).
func (s *Service) ListGrants(ctx context.Context, clientID, websiteID string) ([]storage.Grant, error) {
	if (clientID == "") == (websiteID == "") {
		return nil, &Error{Kind: ErrInvalid, What: "grants", Description: "give exactly one of client_id, website_id"}
	}
	gs, err := s.store.ListGrants(ctx, clientID, websiteID)
	return gs, fromStore(err, "grants")
}
