package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/storage"
)

// disconnectView is the confirmation page of a Disconnect: the plugin,
// what it loses, and a second form that carries confirm=yes. It is a page
// of its own, not a script: the CSP allows no inline JavaScript.
type disconnectView struct {
	Website    storage.Website
	GrantID    string
	ClientName string
	ClientID   string
	Groups     []scopeGroup
	Back       string
}

// confirmDisconnect answers a Disconnect that has not been confirmed yet.
// Nothing is revoked here.
func (pg *pages) confirmDisconnect(c *gin.Context, ss *session, g storage.Grant, back string) {
	ctx := c.Request.Context()
	w, err := pg.website(c, g.WebsiteID)
	if err != nil {
		pg.fail(c, err)
		return
	}
	name := g.ClientID
	cl, err := pg.s.store.GetClient(ctx, g.ClientID)
	switch {
	case err == nil:
		name = cl.Name
	case !errors.Is(err, storage.ErrNotFound):
		pg.fail(c, err)
		return
	}
	v := &view{Title: "Disconnect " + name, Disconnect: &disconnectView{
		Website: w, GrantID: g.ID, ClientName: name, ClientID: g.ClientID, Groups: groupScopes(g.Scopes, g.Scopes), Back: back,
	}}
	pg.render(c, http.StatusOK, "disconnect", v.signedIn(ss))
}

// disconnect is POST /account/plugins/disconnect: revoke one grant of one
// of the operator's websites, with everything issued from it.
func (pg *pages) disconnect(c *gin.Context) {
	noStore(c)
	form, err := parsePageForm(c.Writer, c.Request)
	if err != nil {
		pg.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	websiteID, grantID := form.Get("website"), form.Get("grant_id")
	back := "/account/plugins?" + url.Values{"website": {websiteID}}.Encode()
	ss, err := pg.currentSession(ctx, c.Request)
	if err != nil {
		pg.fail(c, err)
		return
	}
	if ss == nil {
		pg.renderLoginFor(c, http.StatusOK, back, "", "Your session has ended. Sign in again; nothing was disconnected.", "")
		return
	}
	if !ss.checkCSRF(form.Get("csrf")) {
		pg.errorPageLink(c, http.StatusForbidden, "Request refused",
			"This form did not come from this site, or it is too old. Nothing was disconnected.", back, "Back to connected plugins")
		return
	}
	if !ss.mayActFor(websiteID) {
		pg.errorPage(c, http.StatusForbidden, "Not your website", "You do not manage this website. Nothing was disconnected.")
		return
	}
	g, err := pg.s.store.GetGrant(ctx, grantID)
	if grantID == "" || errors.Is(err, storage.ErrNotFound) || (err == nil && g.WebsiteID != websiteID) {
		pg.errorPageLink(c, http.StatusNotFound, "Not found", "This website has no such connected plugin.", back, "Back to connected plugins")
		return
	}
	if err != nil {
		pg.fail(c, err)
		return
	}
	if g.Revoked {
		c.Redirect(http.StatusSeeOther, back+"&disconnected=1") // already done
		return
	}
	if form.Get("confirm") != "yes" {
		pg.confirmDisconnect(c, ss, g, back)
		return
	}
	if _, err := pg.s.svc.Disconnect(ctx, ss.op.ID, g); err != nil {
		pg.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, back+"&disconnected=1")
}
