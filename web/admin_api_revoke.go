package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/web/adminapi"
)

// The admin API's revocation and audit routes: each decodes, calls the
// service and encodes.

// revoke is POST /admin/v1/revoke with exactly one of token, grant_id,
// client_id, website_id. It answers the counts revoked; the service
// audits it (revoke.token, revoke.grant, revoke.client, revoke.website).
// A pasted access or refresh token kills its whole grant. The token is
// never echoed, logged or audited.
func (a *admin) revoke(c *gin.Context) {
	var req adminapi.RevokeRequest
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	n, err := a.svc.Revoke(c.Request.Context(), actor(c), revokeTarget(req), "")
	if err != nil {
		a.fail(c, err)
		return
	}
	writeAPI(c, http.StatusOK, revokeAnswer(n))
}

func revokeTarget(r adminapi.RevokeRequest) adminsvc.Target {
	return adminsvc.Target{Token: r.Token, GrantID: r.GrantID, ClientID: r.ClientID, WebsiteID: r.WebsiteID}
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
	// Neither or both: the service says "exactly one".
	f := map[string]string{}
	switch {
	case websiteID == "" && clientID != "" && !validRef(clientID):
		f["client_id"] = refDescription
	case clientID == "" && websiteID != "" && !validRef(websiteID):
		f["website_id"] = refDescription
	}
	if invalid(c, f) {
		return
	}
	gs, err := a.svc.ListGrants(c.Request.Context(), clientID, websiteID)
	if err != nil {
		a.fail(c, err)
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
	evs, err := a.svc.Events(c.Request.Context(), filter)
	if err != nil {
		a.fail(c, err)
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
