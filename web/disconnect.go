package web

import (
	"errors"
	"net/http"

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
