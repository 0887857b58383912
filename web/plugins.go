package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
)

// plugins is GET /account/plugins?website=ID: the plugins connected to one
// of the operator's websites.
func (pg *pages) plugins(c *gin.Context) {
	noStore(c)
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	if len(q["website"]) > 1 {
		pg.errorPage(c, http.StatusBadRequest, "Bad request", "website is given more than once.")
		return
	}
	websiteID := q.Get("website")
	ss, err := pg.currentSession(ctx, c.Request)
	if err != nil {
		pg.fail(c, err)
		return
	}
	if ss == nil {
		pg.renderLoginFor(c, http.StatusOK, "/account/plugins?"+url.Values{"website": {websiteID}}.Encode(), "", "", "")
		return
	}
	websiteID, ok := pg.chooseWebsite(c, ss, websiteID, pickerView{
		Action: "/account/plugins", Intro: "Which website's connected plugins do you want to see?", Field: "website",
	}, "Your account manages no website.", "You do not manage this website.")
	if !ok {
		return
	}
	w, err := pg.website(c, websiteID)
	if err != nil {
		pg.fail(c, err)
		return
	}
	grants, err := pg.s.store.ListGrants(ctx, "", websiteID)
	if err != nil {
		pg.fail(c, err)
		return
	}
	slices.SortFunc(grants, func(a, b storage.Grant) int { return b.CreatedAt.Compare(a.CreatedAt) })
	names := map[string]string{}
	pv := &pluginsView{Website: w, Disconnected: q.Get("disconnected") == "1", OtherSites: len(ss.op.Websites) > 1}
	for _, g := range grants {
		if g.Revoked || g.WebsiteID != websiteID {
			continue
		}
		name, ok := names[g.ClientID]
		if !ok {
			cl, err := pg.s.store.GetClient(ctx, g.ClientID)
			switch {
			case err == nil:
				name = cl.Name
			case errors.Is(err, storage.ErrNotFound):
				name = g.ClientID
			default:
				pg.fail(c, err)
				return
			}
			names[g.ClientID] = name
		}
		pv.Grants = append(pv.Grants, grantView{
			ID: g.ID, ClientName: name, ClientID: g.ClientID, Groups: groupScopes(g.Scopes, scopes.Set{}), CreatedAt: g.CreatedAt,
		})
	}
	v := &view{Title: "Connected plugins", Plugins: pv}
	pg.render(c, http.StatusOK, "plugins", v.signedIn(ss))
}
