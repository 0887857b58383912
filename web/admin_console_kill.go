package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
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
	ctx := c.Request.Context()
	t, g, err := a.svc.LookupToken(ctx, value)
	if errors.Is(err, adminsvc.ErrNotFound) {
		// Not live (unknown, expired, used, revoked) or a code: revoke
		// as the API does, which still kills a live code's grant, and
		// say what happened.
		n, err := a.svc.Revoke(ctx, actor(c), adminsvc.Target{Token: value}, "kill switch")
		if err != nil {
			a.consoleFail(c, d, err, "token")
			return
		}
		kind, _, _ := token.Parse(value)
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
	if cl, err := a.svc.GetClient(ctx, t.ClientID); err == nil {
		lk.ClientName, lk.ClientStatus = cl.Name, string(cl.Status)
	}
	d.Lookup = lk
	a.render(c, http.StatusOK, "admin_kill.html", d)
}

// killer is POST /admin/kill/grant (fields csrf, grant_id: the one click
// after a look-up) or POST /admin/kill/website (fields csrf, website_id:
// every grant of every plugin on the website): it revokes and shows what
// was revoked.
func (a *admin) killer(title, what string, message func(id string) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		n, d, id, ok := a.kill(c, title, what)
		if !ok {
			return
		}
		d.Result = &actionResult{Title: title, Counts: &n, Message: message(id)}
		a.render(c, http.StatusOK, "admin_result.html", d)
	}
}

// kill revokes a grant or a website's grants (what; the form field is
// what+"_id") for the kill switch; false when it has answered.
func (a *admin) kill(c *gin.Context, title, what string) (storage.Revocation, consoleData, string, bool) {
	d, ok := a.begin(c, title)
	if !ok {
		return storage.Revocation{}, d, "", false
	}
	id := c.Request.PostForm.Get(what + "_id")
	t := adminsvc.Target{GrantID: id}
	if what == "website" {
		id = strings.TrimSpace(id)
		t = adminsvc.Target{WebsiteID: id}
	}
	if !validRef(id) {
		a.consoleFail(c, d, adminsvc.NotFound(what), what)
		return storage.Revocation{}, d, id, false
	}
	n, err := a.svc.Revoke(c.Request.Context(), actor(c), t, "kill switch")
	if err != nil {
		a.consoleFail(c, d, err, what)
		return n, d, id, false
	}
	return n, d, id, true
}
