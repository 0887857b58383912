package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web/adminapi"
)

// revoke is POST /admin/v1/revoke with exactly one of token, grant_id,
// client_id, website_id. It answers the counts revoked ({grants, tokens})
// and writes an audit event (revoke.token, revoke.grant, revoke.client,
// revoke.website). A pasted access or refresh token kills its whole grant:
// for an admin a leaked token means the grant is compromised. The token is
// never echoed, logged or audited.
func (a *admin) revoke(c *gin.Context) {
	var req adminapi.RevokeRequest
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	given := []string{}
	for name, v := range map[string]string{"token": req.Token, "grant_id": req.GrantID, "client_id": req.ClientID, "website_id": req.WebsiteID} {
		if v != "" {
			given = append(given, name)
		}
	}
	if len(given) != 1 {
		f := map[string]string{}
		for _, name := range given {
			f[name] = "give exactly one of token, grant_id, client_id, website_id"
		}
		if len(f) == 0 {
			apiFail(c, http.StatusBadRequest, "invalid_request", "give exactly one of token, grant_id, client_id, website_id")
			return
		}
		invalid(c, f)
		return
	}
	n, err := a.revokeBy(c, req, "")
	var missing missingError
	switch {
	case errors.Is(err, errNotAToken):
		invalid(c, map[string]string{"token": "is not a scopegate token (sga_, sgr_ or sgc_ followed by 71 base62 characters with a valid checksum)"})
		return
	case errors.As(err, &missing):
		apiFail(c, http.StatusNotFound, "not_found", missing.what+" not found")
		return
	case err != nil:
		a.storageFail(c, err, "revocation")
		return
	}
	writeAPI(c, http.StatusOK, revokeAnswer(n))
}

// errNotAToken: a pasted value that is not a scopegate token at all.
var errNotAToken = errors.New("not a scopegate token")

// missingError is a revocation target that does not exist (an
// ErrNotFound naming what).
type missingError struct{ what string }

func (e missingError) Error() string { return e.what + " not found" }
func (e missingError) Unwrap() error { return storage.ErrNotFound }

// revokeBy revokes what req names (exactly one field set) and audits it.
// It is the one code path of POST /admin/v1/revoke and the console's kill
// switch. The token is never logged or audited.
func (a *admin) revokeBy(c *gin.Context, req adminapi.RevokeRequest, reason string) (storage.Revocation, error) {
	ctx := c.Request.Context()
	var (
		n   storage.Revocation
		err error
		ev  = storage.Event{Detail: map[string]string{}}
	)
	switch {
	case req.Token != "":
		kind, _, perr := token.Parse(req.Token)
		if perr != nil {
			return n, errNotAToken
		}
		ev.Kind = "revoke.token"
		ev.Detail["token_type"] = kind.String()
		t, g, lerr := a.store.LookupToken(ctx, req.Token)
		switch {
		case lerr == nil:
			ev.ClientID, ev.WebsiteID, ev.GrantID = t.ClientID, g.WebsiteID, g.ID
			n, err = a.store.RevokeGrant(ctx, g.ID)
		case errors.Is(lerr, storage.ErrNotFound):
			// Unknown, expired, used or already revoked: the store's
			// RevokeToken still kills a live code's grant and counts
			// zero otherwise.
			n, err = a.store.RevokeToken(ctx, req.Token)
		default:
			err = lerr
		}
	case req.GrantID != "":
		ev.Kind, ev.GrantID = "revoke.grant", req.GrantID
		var g storage.Grant
		g, err = a.store.GetGrant(ctx, req.GrantID)
		if err == nil {
			ev.ClientID, ev.WebsiteID = g.ClientID, g.WebsiteID
			n, err = a.store.RevokeGrant(ctx, req.GrantID)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return n, missingError{what: "grant"}
		}
	case req.ClientID != "":
		ev.Kind, ev.ClientID = "revoke.client", req.ClientID
		if _, err = a.store.GetClient(ctx, req.ClientID); err == nil {
			n, err = a.store.RevokeClient(ctx, req.ClientID)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return n, missingError{what: "client"}
		}
	case req.WebsiteID != "":
		ev.Kind, ev.WebsiteID = "revoke.website", req.WebsiteID
		if _, err = a.store.GetWebsite(ctx, req.WebsiteID); err == nil {
			n, err = a.store.RevokeWebsite(ctx, req.WebsiteID)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return n, missingError{what: "website"}
		}
	}
	if err != nil {
		return n, err
	}
	ev.Detail["grants"], ev.Detail["tokens"] = strconv.Itoa(n.Grants), strconv.Itoa(n.Tokens)
	if reason != "" {
		ev.Detail["reason"] = reason
	}
	if n.Unconfirmed {
		ev.Detail["durable"] = "false"
	}
	a.revoked(adminRevocation(ev.Kind))
	a.audit(c, ev)
	return n, nil
}

// revokeAnswer is the revoke answer: the counts and "durable", false when
// the store waits for replicas (--redis-wait-replicas) and they did not
// acknowledge in time. The revocation is then in force, but a failover of
// the Redis primary before the replicas catch up could undo it; a warning
// says to check replication and revoke again.
func revokeAnswer(n storage.Revocation) adminapi.Revocation {
	h := adminapi.Revocation{Grants: n.Grants, Tokens: n.Tokens, Durable: !n.Unconfirmed}
	if n.Unconfirmed {
		h.Warning = "revoked on the Redis primary, but no replica acknowledged in time: not yet durable; a failover now could undo it. Check replication, then revoke again."
	}
	return h
}

// listGrants is GET /admin/v1/grants?client_id=|website_id= (exactly one):
// the live grants.
func (a *admin) listGrants(c *gin.Context) {
	q := c.Request.URL.Query()
	if f := queryFields(q, "client_id", "website_id"); invalid(c, f) {
		return
	}
	clientID, websiteID := q.Get("client_id"), q.Get("website_id")
	f := map[string]string{}
	switch {
	case (clientID == "") == (websiteID == ""):
		apiFail(c, http.StatusBadRequest, "invalid_request", "give exactly one of client_id, website_id")
		return
	case clientID != "" && !validRef(clientID):
		f["client_id"] = refDescription
	case websiteID != "" && !validRef(websiteID):
		f["website_id"] = refDescription
	}
	if invalid(c, f) {
		return
	}
	gs, err := a.store.ListGrants(c.Request.Context(), clientID, websiteID)
	if err != nil {
		a.storageFail(c, err, "grants")
		return
	}
	out := adminapi.GrantList{Grants: make([]adminapi.Grant, len(gs))}
	for i, g := range gs {
		out.Grants[i] = adminapi.Grant{ID: g.ID, ClientID: g.ClientID, WebsiteID: g.WebsiteID, OperatorID: g.OperatorID,
			Scopes: g.Scopes.String(), CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, Revoked: g.Revoked}
	}
	writeAPI(c, http.StatusOK, out)
}

var (
	kindPattern   = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)
	cursorPattern = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)
)

// auditFilter reads an audit filter from query parameters (client_id,
// website_id, kind, since, until, after, limit) and names each bad one: the
// API's and the console's one reading.
func auditFilter(q url.Values) (storage.EventFilter, map[string]string) {
	f := map[string]string{}
	filter := storage.EventFilter{ClientID: q.Get("client_id"), WebsiteID: q.Get("website_id"), Kind: q.Get("kind"), After: q.Get("after"), Limit: 100}
	if filter.ClientID != "" && !validRef(filter.ClientID) {
		f["client_id"] = refDescription
	}
	if filter.WebsiteID != "" && !validRef(filter.WebsiteID) {
		f["website_id"] = refDescription
	}
	if filter.Kind != "" && !kindPattern.MatchString(filter.Kind) {
		f["kind"] = "must be an event kind such as revoke.client"
	}
	if filter.After != "" && !cursorPattern.MatchString(filter.After) {
		f["after"] = "must be the next value of a previous page"
	}
	for _, name := range []string{"since", "until"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f[name] = "must be an RFC 3339 time such as 2026-01-02T15:04:05Z"
			continue
		}
		if name == "since" {
			filter.Since = t
		} else {
			filter.Until = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			f["limit"] = "must be an integer from 1 to 1000"
		}
		filter.Limit = n
	}
	return filter, f
}

// listAudit is GET /admin/v1/audit: events newest first, filtered by
// client_id, website_id, kind, since and until (RFC 3339), paged with
// after (the "next" of the previous page) and limit (1-1000, default 100).
func (a *admin) listAudit(c *gin.Context) {
	q := c.Request.URL.Query()
	if f := queryFields(q, "client_id", "website_id", "kind", "since", "until", "after", "limit"); invalid(c, f) {
		return
	}
	filter, f := auditFilter(q)
	if invalid(c, f) {
		return
	}
	evs, err := a.store.ListEvents(c.Request.Context(), filter)
	if err != nil {
		a.storageFail(c, err, "audit events")
		return
	}
	out := adminapi.AuditPage{Events: make([]adminapi.Event, len(evs))}
	for i, e := range evs {
		out.Events[i] = adminapi.Event{ID: e.ID, Time: e.Time, Kind: e.Kind, Actor: e.Actor, ClientID: e.ClientID,
			WebsiteID: e.WebsiteID, GrantID: e.GrantID, Detail: e.Detail}
	}
	if len(evs) == filter.Limit {
		out.Next = evs[len(evs)-1].ID
	}
	writeAPI(c, http.StatusOK, out)
}
