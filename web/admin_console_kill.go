package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web/adminapi"
)

// The kill switch: "Revoke a leaked token". The pasted token travels only
// in a POST body and is never put in a URL, a page, a log or the audit
// trail: the look-up answers with what the token was and a confirm form
// keyed by its grant ID.

// tokenLookup is what a pasted live token was.
type tokenLookup struct {
	Kind, ClientID, ClientName, ClientStatus string
	WebsiteID, GrantID                       string
	Scopes                                   []pageLine
	Issued, Expires, GrantCreated            string
}

// killLookup is POST /admin/kill/lookup (fields csrf, token).
func (a *admin) killLookup(c *gin.Context) {
	d, ok := a.begin(c, "Revoke a leaked token")
	if !ok {
		return
	}
	value := strings.TrimSpace(c.Request.PostForm.Get("token"))
	if value == "" || len(value) > 512 {
		a.consoleFail(c, d, errNotAToken, "token")
		return
	}
	kind, _, err := token.Parse(value)
	if err != nil {
		a.consoleFail(c, d, errNotAToken, "token")
		return
	}
	ctx := c.Request.Context()
	t, g, err := a.store.LookupToken(ctx, value)
	if errors.Is(err, storage.ErrNotFound) {
		// Not live (unknown, expired, used, revoked) or a code: revoke
		// as the API does, which still kills a live code's grant, and
		// say what happened.
		n, err := a.revokeBy(c, adminapi.RevokeRequest{Token: value}, "kill switch")
		if err != nil {
			a.consoleFail(c, d, err, "token")
			return
		}
		msg := "This " + kind.String() + " is not live (unknown, expired, used or already revoked): nothing to revoke."
		if n.Grants > 0 {
			msg = "This " + kind.String() + " belonged to a live grant, which is revoked now."
		}
		d.Result = &actionResult{Title: "Token revoked", Counts: &n, Message: msg}
		a.render(c, http.StatusOK, "admin_result.html", d)
		return
	}
	if err != nil {
		a.consoleFail(c, d, err, "token")
		return
	}
	lk := &tokenLookup{Kind: t.Kind.String(), ClientID: t.ClientID, WebsiteID: g.WebsiteID, GrantID: g.ID,
		Scopes: approvedLines(t.Scopes.Strings()), Issued: fmtTime(t.IssuedAt), Expires: fmtTime(t.ExpiresAt), GrantCreated: fmtTime(g.CreatedAt)}
	if cl, err := a.store.GetClient(ctx, t.ClientID); err == nil {
		lk.ClientName, lk.ClientStatus = cl.Name, string(cl.Status)
	}
	d.Lookup = lk
	a.render(c, http.StatusOK, "admin_kill.html", d)
}

// killGrant is POST /admin/kill/grant (fields csrf, grant_id): the one
// click after a look-up.
func (a *admin) killGrant(c *gin.Context) {
	d, ok := a.begin(c, "Grant revoked")
	if !ok {
		return
	}
	id := c.Request.PostForm.Get("grant_id")
	if !validRef(id) {
		a.consoleFail(c, d, missingError{what: "grant"}, "grant")
		return
	}
	n, err := a.revokeBy(c, adminapi.RevokeRequest{GrantID: id}, "kill switch")
	if err != nil {
		a.consoleFail(c, d, err, "grant")
		return
	}
	d.Result = &actionResult{Title: "Grant revoked", Counts: &n,
		Message: "Grant " + id + " is revoked: its codes, access and refresh tokens are inactive now."}
	a.render(c, http.StatusOK, "admin_result.html", d)
}

// killWebsite is POST /admin/kill/website (fields csrf, website_id):
// every grant of every plugin on the website.
func (a *admin) killWebsite(c *gin.Context) {
	d, ok := a.begin(c, "Website's grants revoked")
	if !ok {
		return
	}
	id := strings.TrimSpace(c.Request.PostForm.Get("website_id"))
	if !validRef(id) {
		a.consoleFail(c, d, missingError{what: "website"}, "website")
		return
	}
	n, err := a.revokeBy(c, adminapi.RevokeRequest{WebsiteID: id}, "kill switch")
	if err != nil {
		a.consoleFail(c, d, err, "website")
		return
	}
	d.Result = &actionResult{Title: "Website's grants revoked", Counts: &n,
		Message: "Every plugin's grant on website " + id + " is revoked."}
	a.render(c, http.StatusOK, "admin_result.html", d)
}
