// Package resourcegin adapts package resource's rules to Gin: the same
// checks and RFC 6750 answers as resource.Introspector.Require, reading the
// website from a Gin route parameter. Handlers read the token with
// resource.FromContext(c.Request.Context()).
package resourcegin

import (
	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth/resource"
)

// Require is resource.Introspector.Require for Gin: the token must hold
// name with the permission the method needs (or the Permission option's),
// bound to the website in the route parameter for a website scope.
func Require(in *resource.Introspector, name string, opts ...resource.Option) gin.HandlerFunc {
	return Middleware(in, resource.NewRule(name, opts...))
}

// Authenticate is resource.Introspector.Authenticate for Gin: an active
// token, bound to the website in WebsiteParam if given, whatever its scopes.
func Authenticate(in *resource.Introspector, opts ...resource.Option) gin.HandlerFunc {
	return Middleware(in, resource.AnyScope(opts...))
}

// Middleware enforces rule on a Gin route.
func Middleware(in *resource.Introspector, rule resource.Rule) gin.HandlerFunc {
	return func(c *gin.Context) {
		t, ok := in.Check(c.Writer, c.Request, c.Param, rule)
		if !ok {
			c.Abort()
			return
		}
		c.Request = c.Request.WithContext(resource.NewContext(c.Request.Context(), t))
		c.Next()
	}
}
