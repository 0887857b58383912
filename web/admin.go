package web

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/web/adminapi"
)

// The admin API (JSON under /admin/v1/), the plugin API (/plugin/v1/) and
// the admin review pages (/admin/login, /admin/review). The OpenAPI document
// web/openapi.yaml describes every /admin/v1 and /plugin/v1 route; a test
// keeps the two in step.

//go:embed openapi.yaml
var openAPIDoc []byte

// Limits of the admin API.
const (
	adminMaxBody = 64 << 10
	// adminRealm is the RFC 6750 realm of admin bearer tokens.
	adminRealm = "scopegate-admin"
	// maxGrace bounds a rotated secret's grace period (7 days).
	maxGraceSeconds = 7 * 24 * 3600
	// defaultGraceSeconds is the grace when none is given (1 h).
	defaultGraceSeconds = 3600
)

// admin carries what the admin handlers share beyond the Server: the body
// validator and the review page templates. One is built per engine.
type admin struct {
	*Server
	v    *validator.Validate
	tmpl *template.Template
}

// adminRoutes registers the admin API, its OpenAPI document and the review
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

func apiFail(c *gin.Context, status int, code, desc string) {
	writeAPI(c, status, adminapi.Error{Code: code, Description: desc})
	c.Abort()
}

// invalid answers 400 naming every bad field; it reports whether it did.
func invalid(c *gin.Context, fields map[string]string) bool {
	if len(fields) == 0 {
		return false
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, k+": "+fields[k])
	}
	writeAPI(c, http.StatusBadRequest, adminapi.Error{
		Code: oauth.CodeInvalidRequest, Description: "invalid request: " + strings.Join(parts, "; "), Fields: fields,
	})
	c.Abort()
	return true
}

// storageFail maps a storage error to its answer: 404, 409, 503 (fail
// closed) or, for anything unexpected, a logged 500 without detail.
func (a *admin) storageFail(c *gin.Context, err error, what string) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		apiFail(c, http.StatusNotFound, "not_found", what+" not found")
	case errors.Is(err, storage.ErrAlreadyExists):
		apiFail(c, http.StatusConflict, "conflict", what+" already exists")
	case errors.Is(err, storage.ErrConflict):
		apiFail(c, http.StatusConflict, "conflict", "concurrent update; try again")
	case errors.Is(err, storage.ErrUnavailable):
		a.log.Warn("admin: storage unavailable", "path", c.FullPath(), "err", err)
		c.Header("Retry-After", "1")
		apiFail(c, http.StatusServiceUnavailable, oauth.CodeTemporarilyUnavailable, "storage is unavailable; try again")
	default:
		a.log.Error("admin: internal error", "path", c.FullPath(), "err", err)
		apiFail(c, http.StatusInternalServerError, oauth.CodeServerError, "internal error")
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
		retryAfter(c.Writer.Header(), over.retry)
		apiFail(c, http.StatusTooManyRequests, oauth.CodeTemporarilyUnavailable, rateLimitedDescription("failed admin tokens from this address", over.retry))
		return
	}
	label, err := a.store.CheckAdminToken(ctx, tok)
	if errors.Is(err, storage.ErrNotFound) {
		if cerr := a.limits.charge(context.WithoutCancel(ctx), ks...); perr != nil || cerr != nil {
			a.storageFail(c, storage.ErrUnavailable, "admin token")
			return
		}
		unauthorized(oauth.CodeInvalidToken, "the admin token is invalid")
		return
	}
	if err != nil {
		a.storageFail(c, err, "admin token")
		return
	}
	c.Set(actorKey, "admin:"+label)
	c.Next()
}

const actorKey = "scopegate.admin.actor"

func actor(c *gin.Context) string { return c.GetString(actorKey) }

// decode reads a JSON body into dst: application/json only, bounded, no
// unknown fields, no trailing data, then validated. It returns the bad
// fields (possibly none), or ok=false when it has already answered (a body
// that is not JSON at all). An empty body is allowed when optional.
func (a *admin) decode(c *gin.Context, dst any, optional bool) (fields map[string]string, ok bool) {
	r := c.Request
	r.Body = http.MaxBytesReader(c.Writer, r.Body, adminMaxBody)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiFail(c, http.StatusRequestEntityTooLarge, oauth.CodeInvalidRequest, fmt.Sprintf("request body larger than %d bytes", adminMaxBody))
			return nil, false
		}
		apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "could not read the request body")
		return nil, false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if !optional {
			apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "a JSON request body is required")
			return nil, false
		}
		return a.validate(dst), true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		apiFail(c, http.StatusUnsupportedMediaType, oauth.CodeInvalidRequest, "Content-Type must be application/json")
		return nil, false
	}
	if !utf8.Valid(body) {
		apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "the request body is not valid UTF-8")
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
		case errors.As(err, &typ) && typ.Field != "":
			return map[string]string{typ.Field: "must be " + jsonKind(typ.Type)}, true
		case errors.As(err, &typ):
			apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "the body must be a JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return map[string]string{sanitizeField(name): "is not a known field"}, true
		default:
			apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "malformed JSON body")
		}
		return nil, false
	}
	return a.validate(dst), true
}

// sanitizeField keeps an unknown field's name printable and short: it goes
// back to the client inside the error.
func sanitizeField(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

// validate runs the validator and names each failing field by its JSON
// path, such as "redirect_uris[0]" or "lines[1].justification".
func (a *admin) validate(dst any) map[string]string {
	err := a.v.Struct(dst)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		if err != nil {
			return map[string]string{"body": "is invalid"}
		}
		return nil
	}
	fields := make(map[string]string, len(verrs))
	for _, fe := range verrs {
		ns := fe.Namespace()
		if i := strings.IndexByte(ns, '.'); i >= 0 {
			ns = ns[i+1:]
		}
		if _, seen := fields[ns]; !seen {
			fields[ns] = describeField(fe)
		}
	}
	return fields
}

var (
	idPattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$`)
	idDescription  = "must be 3 to 64 characters of A-Z a-z 0-9 . _ - (starting with a letter or digit)"
	refDescription = "must be 1 to 200 printable ASCII characters without space, { or }"
)

// validRef reports whether s can name an existing record (a client,
// website or grant): the storage's own ID rule, looser than the one for
// new IDs (objid), so records made by other means stay reachable.
func validRef(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// scopeOffset is the " at offset N" tail of a scopes parse error.
var scopeOffset = regexp.MustCompile(` at offset [0-9]+$`)

func newAdminValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		if n := strings.Split(f.Tag.Get("json"), ",")[0]; n != "" && n != "-" {
			return n
		}
		return f.Name
	})
	must := func(err error) {
		if err != nil {
			panic(err) // a programming error in the tag names below
		}
	}
	must(v.RegisterValidation("objid", func(fl validator.FieldLevel) bool { return idPattern.MatchString(fl.Field().String()) }))
	must(v.RegisterValidation("ref", func(fl validator.FieldLevel) bool { return validRef(fl.Field().String()) }))
	must(v.RegisterValidation("redirecturi", func(fl validator.FieldLevel) bool { return validRedirectURI(fl.Field().String()) == nil }))
	// pageurl and optlabel take "" too: on an update it clears the field.
	must(v.RegisterValidation("pageurl", func(fl validator.FieldLevel) bool {
		return fl.Field().String() == "" || validRedirectURI(fl.Field().String()) == nil
	}))
	must(v.RegisterValidation("optlabel", func(fl validator.FieldLevel) bool {
		return fl.Field().String() == "" || validLabel(fl.Field().String())
	}))
	must(v.RegisterValidation("scope", func(fl validator.FieldLevel) bool {
		_, err := scopes.ParseScope(fl.Field().String())
		return err == nil
	}))
	must(v.RegisterValidation("label", func(fl validator.FieldLevel) bool { return validLabel(fl.Field().String()) }))
	must(v.RegisterValidation("sentence", func(fl validator.FieldLevel) bool { return validSentence(fl.Field().String()) }))
	must(v.RegisterValidation("note", func(fl validator.FieldLevel) bool { return validNote(fl.Field().String()) }))
	return v
}

func describeField(fe validator.FieldError) string {
	kind := fe.Kind()
	if kind == reflect.Pointer {
		kind = fe.Type().Elem().Kind()
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "objid":
		return idDescription
	case "ref":
		return refDescription
	case "redirecturi", "pageurl":
		// The reason alone: each one already says what is wanted.
		return validRedirectURI(fmt.Sprint(fe.Value())).Error()
	case "scope":
		_, err := scopes.ParseScope(fmt.Sprint(fe.Value()))
		msg := "must be a scope NAME:read or NAME:write from the catalogue"
		if err != nil {
			// One scope per field: the parser's offset says nothing here.
			msg += " (" + scopeOffset.ReplaceAllString(strings.TrimPrefix(err.Error(), "scopes: "), "") + ")"
		}
		return msg
	case "label", "optlabel":
		return "must be 1 to 100 printable characters"
	case "sentence":
		return fmt.Sprintf("must be a real sentence: at least %d characters and %d words", minJustification, minJustificationWords)
	case "note":
		return "must be at most 1000 printable characters"
	case "email":
		return "must be an e-mail address"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "unique":
		return "must not repeat a value"
	case "min", "max", "len":
		word := map[string]string{"min": "at least", "max": "at most", "len": "exactly"}[fe.Tag()]
		switch kind {
		case reflect.String:
			return fmt.Sprintf("must be %s %s characters", word, fe.Param())
		case reflect.Slice, reflect.Array, reflect.Map:
			return fmt.Sprintf("must have %s %s items", word, fe.Param())
		}
		return fmt.Sprintf("must be %s %s", word, fe.Param())
	}
	return "is invalid (" + fe.Tag() + ")"
}

// validRedirectURI: an absolute URL without fragment or user info, https,
// or http for a loopback host only (RFC 8252 §7.3, RFC 9700 §2.1). URIs are
// later compared as exact strings.
func validRedirectURI(s string) error {
	if len(s) > 2000 {
		return errors.New("must be at most 2000 characters")
	}
	for _, r := range s {
		if r <= 0x20 || r >= 0x7f {
			return errors.New("must not contain a space, control or non-ASCII character")
		}
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return errors.New("must not have a fragment")
	}
	if u.User != nil {
		return errors.New("must not carry user info")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("must be https (http only for loopback hosts)")
	}
	return errors.New("must be https")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validLabel: a display name: 1-100 characters, printable, no leading or
// trailing space.
func validLabel(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 100 || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func validNote(s string) bool {
	if utf8.RuneCountInString(s) > 1000 {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != '\n' {
			return false
		}
	}
	return true
}

// A justification must be a real sentence.
const (
	minJustification      = 20
	minJustificationWords = 4
)

func validSentence(s string) bool {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) < minJustification || utf8.RuneCountInString(s) > 2000 {
		return false
	}
	words, letters := 0, 0
	for _, w := range strings.Fields(s) {
		has := false
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters++
				has = true
			}
		}
		if has {
			words++
		}
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != '\n' {
			return false
		}
	}
	return words >= minJustificationWords && letters >= minJustification/2
}

// sameString compares secrets in constant time.
func sameString(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
