package web

import (
	"net/http/pprof"

	"github.com/gin-gonic/gin"
)

// pprofRoutes mounts Go's profiler (net/http/pprof) under
// /admin/debug/pprof/ behind the admin token, only when Options.Pprof is
// set (`scopegate serve --pprof`). Profiles reveal no secrets but cost CPU
// and can be long: the server's 30 s write timeout bounds ?seconds=.
func (a *admin) pprofRoutes(e *gin.Engine) {
	if !a.opts.Pprof {
		return
	}
	g := e.Group("/admin/debug/pprof", a.requireAdmin)
	g.GET("/", gin.WrapF(pprof.Index))
	g.GET("/cmdline", gin.WrapF(pprof.Cmdline))
	g.GET("/profile", gin.WrapF(pprof.Profile))
	g.GET("/symbol", gin.WrapF(pprof.Symbol))
	g.POST("/symbol", gin.WrapF(pprof.Symbol))
	g.GET("/trace", gin.WrapF(pprof.Trace))
	// heap, goroutine, allocs, block, mutex, threadcreate; the index links
	// to them relatively.
	g.GET("/:profile", func(c *gin.Context) { pprof.Handler(c.Param("profile")).ServeHTTP(c.Writer, c.Request) })
}
