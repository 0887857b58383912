package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// home is GET /.
func (pg *pages) home(c *gin.Context) {
	noStore(c)
	ss, err := pg.currentSession(c.Request.Context(), c.Request)
	if err != nil {
		pg.fail(c, err)
		return
	}
	hv := &homeView{Demo: pg.s.opts.Demo}
	if ss != nil {
		if hv.Websites, err = pg.websiteOptions(c, ss.op.Websites, ""); err != nil {
			pg.fail(c, err)
			return
		}
	}
	v := &view{Title: "Home", Home: hv}
	pg.render(c, http.StatusOK, "home", v.signedIn(ss))
}
