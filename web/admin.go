package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/scopegate/scopegate/oauth"
	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/oauth/oautherr"
	"github.com/scopegate/scopegate/storage"
)

// The admin API (JSON under /admin/v1/), the plugin API (/plugin/v1/) and
// the admin pages (/admin/...). The OpenAPI document web/openapi.yaml
// describes every /admin/v1 and /plugin/v1 route; a test keeps the two,
// and the wire types of package adminapi, in step. Every change goes
// through the service (oauth/admin): handlers here decode, call and
// encode, so the API and the console cannot diverge.

//go:embed openapi.yaml
var openAPIDoc []byte

// Limits of the admin API.
const (
	adminMaxBody = 64 << 10
	// adminRealm is the RFC 6750 realm of admin bearer tokens.
	adminRealm = "scopegate-admin"
)

// admin carries what the admin handlers share beyond the Server: the body
// validator and the admin page templates. One is built per engine.
type admin struct {
	*Server
	v    *validator.Validate
	tmpl *template.Template
}

// newAdminService is the Server's administration service: the provider's
// client cache forgets what it changes, revocations are counted.
func (s *Server) newAdminService() *adminsvc.Service {
	o := adminsvc.Options{Store: s.store, Logger: s.log, Now: s.now,
		Revoked: func(k adminsvc.RevocationKind) { s.revoked(string(k)) }}
	if s.p != nil {
		o.Cache = s.p
	}
	return adminsvc.New(o)
}

// adminRoutes registers the admin API, its OpenAPI document and the admin
// pages on e. It is called for the admin engine and, unless SeparateAdmin,
// for the public engine too. The plugin API is registered by pluginRoutes.
func (s *Server) adminRoutes(e *gin.Engine) {
	a := &admin{Server: s, v: newAdminValidator(), tmpl: parseAdminTemplates()}

	e.GET("/admin/v1/openapi.yaml", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "application/yaml; charset=utf-8", openAPIDoc)
	})
	v1 := e.Group("/admin/v1", a.requireAdmin)
	v1.POST("/clients", a.createClient)
	v1.GET("/clients", a.listClients)
	v1.GET("/clients/:id", a.getClient)
	v1.PATCH("/clients/:id", a.updateClient)
	v1.DELETE("/clients/:id", a.deleteClient)
	v1.POST("/clients/:id/rotate-secret", a.rotateSecret)
	v1.POST("/clients/:id/suspend", a.suspendClient)
	v1.POST("/clients/:id/resume", a.resumeClient)
	v1.POST("/clients/:id/lower", a.lowerMaximum)
	v1.PUT("/clients/:id/approved", a.setMaximum)
	v1.POST("/websites", a.createWebsite)
	v1.GET("/websites/:id", a.getWebsite)
	v1.POST("/operators", a.createOperator)
	v1.POST("/reviews", a.fileReviewAsAdmin)
	v1.GET("/reviews", a.listReviews)
	v1.GET("/reviews/:id", a.getReview)
	v1.POST("/reviews/:id/lines/:line", a.decideLine)
	v1.POST("/revoke", a.revoke)
	v1.GET("/grants", a.listGrants)
	v1.GET("/audit", a.listAudit)
	a.pprofRoutes(e)

	a.pageRoutes(e)
}

// pluginRoutes registers the plugin API (/plugin/v1/) on the public engine,
// whatever SeparateAdmin says: plugins are not admins.
func (s *Server) pluginRoutes(e *gin.Engine) {
	a := &admin{Server: s, v: newAdminValidator()}
	e.POST("/plugin/v1/scope-requests", a.fileReviewAsPlugin)
}

// writeAPI writes an admin API answer as JSON, never cached.
func writeAPI(c *gin.Context, status int, v any) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(status)
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeAPIError writes an admin or plugin API error through the one
// error writer (oautherr.Write: the RFC 6749 §5.2-shaped body of
// adminapi.Error, no-store, Retry-After on 429 and 503); the request
// stops here.
func writeAPIError(c *gin.Context, e *oautherr.Error) {
	oautherr.Write(c.Writer, e)
	c.Abort()
}

// apiFail answers an error of the HTTP exchange itself (body, media type,
// credentials, route parameter).
func apiFail(c *gin.Context, status int, code, desc string) {
	writeAPIError(c, &oautherr.Error{Code: code, Status: status, Description: desc})
}

// invalid answers 400 naming every bad field; it reports whether it did.
func invalid(c *gin.Context, fields map[string]string) bool {
	if len(fields) == 0 {
		return false
	}
	writeAPIError(c, oautherr.ErrInvalidRequest.WithDescription("invalid request: %s", adminsvc.FieldsText(fields)).WithFields(fields))
	return true
}

// fail answers a failed service call: ErrInvalid 400 (naming the fields),
// ErrNotFound 404, ErrConflict 409, storage unavailable 503 (fail closed)
// and, for anything unexpected, a logged 500 without detail.
func (a *admin) fail(c *gin.Context, err error) {
	var e *adminsvc.Error
	errors.As(err, &e)
	switch {
	case errors.Is(err, adminsvc.ErrInvalid) && len(e.Fields) > 0:
		invalid(c, e.Fields)
	case errors.Is(err, adminsvc.ErrInvalid):
		writeAPIError(c, oautherr.ErrInvalidRequest.WithDescription("%s", e.Description))
	case errors.Is(err, adminsvc.ErrNotFound):
		writeAPIError(c, oautherr.ErrNotFound.WithDescription("%s", e.Description))
	case errors.Is(err, adminsvc.ErrConflict):
		writeAPIError(c, oautherr.ErrConflict.WithDescription("%s", e.Description).WithFields(e.Fields))
	case errors.Is(err, storage.ErrUnavailable):
		a.log.Warn("admin: storage unavailable", "path", c.FullPath(), "err", err)
		writeAPIError(c, oautherr.ErrTemporarilyUnavailable.WithCause(err))
	default:
		a.log.Error("admin: internal error", "path", c.FullPath(), "err", err)
		writeAPIError(c, oautherr.ErrServerError.WithCause(err))
	}
}

// requireAdmin authenticates an admin bearer token (RFC 6750 §2.1) and
// records "admin:<label>" as the actor for audit events.
func (a *admin) requireAdmin(c *gin.Context) {
	unauthorized := func(headerErr, desc string) {
		v := `Bearer realm="` + adminRealm + `"`
		if headerErr != "" {
			v += `, error="` + headerErr + `"`
		}
		c.Header("WWW-Authenticate", v)
		apiFail(c, http.StatusUnauthorized, oauth.CodeInvalidToken, desc)
	}
	h := c.GetHeader("Authorization")
	if h == "" {
		unauthorized("", "an admin bearer token is required (Authorization: Bearer TOKEN)")
		return
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 512 || strings.ContainsAny(tok, " \t") {
		c.Header("WWW-Authenticate", `Bearer realm="`+adminRealm+`", error="invalid_request"`)
		apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "malformed Authorization header; use Bearer TOKEN")
		return
	}
	// Failed admin tokens are limited per address (shared by every
	// instance), checked before the token is looked up.
	ctx := c.Request.Context()
	ks := a.limits.adminKeys(c.ClientIP())
	over, perr := a.limits.check(ctx, ks...)
	if over != nil {
		writeAPIError(c, oautherr.ErrRateLimited.WithDescription("%s", rateLimitedDescription("failed admin tokens from this address", over.retry)).WithRetryAfter(over.retry))
		return
	}
	label, err := a.store.CheckAdminToken(ctx, tok)
	if errors.Is(err, storage.ErrNotFound) {
		if cerr := a.limits.charge(context.WithoutCancel(ctx), ks...); perr != nil || cerr != nil {
			a.fail(c, storage.ErrUnavailable)
			return
		}
		unauthorized(oauth.CodeInvalidToken, "the admin token is invalid")
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Set(actorKey, "admin:"+label)
	c.Next()
}

const actorKey = "scopegate.admin.actor"

func actor(c *gin.Context) string { return c.GetString(actorKey) }
