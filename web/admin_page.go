package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web/adminapi"
)

// The review page: server-rendered, admin-authenticated, CSRF-protected,
// no scripts and no external assets. A browser cannot easily send a bearer
// header, so the admin logs in at /admin/login with an admin token; that
// starts a server-side session (storage.Session with OperatorID
// "admin:<label>") held in an HttpOnly, SameSite=Strict cookie scoped to
// /admin. Every POST carries the session's CSRF token; the login form
// carries a double-submit token of its own.

//go:embed admintmpl/*.html admintmpl/review.css
var adminFS embed.FS

const (
	adminSessionCookie = "sg_admin"
	adminLoginCookie   = "sg_admin_login"
	adminSessionPrefix = "admin:"
)

func parseAdminTemplates() *template.Template {
	return template.Must(template.New("admin").Funcs(template.FuncMap{"events": newEventTable, "fmtTime": fmtTime}).ParseFS(adminFS, "admintmpl/*.html"))
}

// eventTable is the "eventtable" template's argument: a table ID and rows.
type eventTable struct {
	ID     string
	Events []pageEvent
}

func newEventTable(id string, evs []pageEvent) eventTable { return eventTable{ID: id, Events: evs} }

func (a *admin) pageRoutes(e *gin.Engine) {
	e.GET("/admin/assets/review.css", func(c *gin.Context) {
		b, _ := adminFS.ReadFile("admintmpl/review.css")
		c.Header("Cache-Control", "public, max-age=3600")
		c.Data(http.StatusOK, "text/css; charset=utf-8", b)
	})
	e.GET("/admin/login", a.loginPage)
	e.POST("/admin/login", a.login)
	e.POST("/admin/logout", a.logout)
	e.GET("/admin/review", a.reviewQueue)
	e.POST("/admin/review/decide", a.reviewDecide)
	e.GET("/admin/review/clients/:id", a.clientHistory)
	a.consoleRoutes(e)
}

// pageData is what every admin template gets.
type pageData struct {
	Title     string
	CSRF      string
	Actor     string
	Error     string
	LoginCSRF string
	Reviews   []pageReview
	Client    adminapi.Client
	Approved  []pageLine
	Events    []pageEvent
}

type pageReview struct {
	adminapi.Review
	ClientName   string
	ClientStatus string
	Created      string
	Lines        []pageLine
}

type pageLine struct {
	adminapi.ReviewLine
	Pending   bool
	WriteOnly bool
	Decided   string
}

type pageEvent struct {
	Time, Kind, Actor, Detail    string
	ClientID, WebsiteID, GrantID string
}

func (a *admin) render(c *gin.Context, status int, name string, d any) {
	var buf bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&buf, name, d); err != nil {
		a.log.Error("admin page: template failed", "template", name, "err", err)
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error\n"))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (a *admin) pageError(c *gin.Context, status int, title, msg string, d pageData) {
	d.Title, d.Error = title, msg
	a.render(c, status, "error.html", d)
	c.Abort()
}

func (a *admin) setCookie(c *gin.Context, name, value, path string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: a.opts.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
}

// loginPage is GET /admin/login.
func (a *admin) loginPage(c *gin.Context) {
	a.showLogin(c, http.StatusOK, "")
}

func (a *admin) showLogin(c *gin.Context, status int, msg string) {
	csrf := token.NewRandom()
	a.setCookie(c, adminLoginCookie, csrf, "/admin/login", 3600)
	a.render(c, status, "login.html", pageData{Title: "Admin login", LoginCSRF: csrf, Error: msg})
}

// login is POST /admin/login: check the double-submit token and the admin
// token, then start a session.
func (a *admin) login(c *gin.Context) {
	if err := oauth.ParseForm(c.Writer, c.Request); err != nil {
		a.showLogin(c, http.StatusBadRequest, "The form could not be read. Try again.")
		return
	}
	ks := a.limits.adminKeys(c.ClientIP())
	over, perr := a.limits.check(c.Request.Context(), ks...)
	if over != nil {
		retryAfter(c.Writer.Header(), over.retry)
		a.showLogin(c, http.StatusTooManyRequests, "Too many failed attempts; wait "+waitText(over.retry)+".")
		return
	}
	form := c.Request.PostForm
	ck, err := c.Request.Cookie(adminLoginCookie)
	if err != nil || form.Get("csrf") == "" || !token.Equal(ck.Value, form.Get("csrf")) {
		a.showLogin(c, http.StatusForbidden, "The login form expired. Try again.")
		return
	}
	tok := form.Get("token")
	ctx := c.Request.Context()
	label, err := "", storage.ErrNotFound
	if tok != "" && len(tok) <= 512 {
		label, err = a.store.CheckAdminToken(ctx, tok)
	}
	if errors.Is(err, storage.ErrNotFound) {
		a.log.Warn("admin login: invalid token", "ip", c.ClientIP())
		if cerr := a.limits.charge(context.WithoutCancel(ctx), ks...); perr != nil || cerr != nil {
			a.showLogin(c, http.StatusServiceUnavailable, "Storage is unavailable; try again.")
			return
		}
		a.showLogin(c, http.StatusUnauthorized, "Invalid admin token.")
		return
	}
	if err != nil {
		a.log.Warn("admin login: storage", "err", err)
		a.showLogin(c, http.StatusServiceUnavailable, "Storage is unavailable; try again.")
		return
	}
	secret := token.NewRandom()
	s := storage.Session{OperatorID: adminSessionPrefix + label, CSRF: token.NewRandom(), ExpiresAt: a.now().Add(a.opts.SessionTTL)}
	if err := a.store.CreateSession(ctx, secret, s); err != nil {
		a.log.Warn("admin login: storage", "err", err)
		a.showLogin(c, http.StatusServiceUnavailable, "Storage is unavailable; try again.")
		return
	}
	a.setCookie(c, adminLoginCookie, "", "/admin/login", -1)
	a.setCookie(c, adminSessionCookie, secret, "/admin", int(a.opts.SessionTTL/time.Second))
	c.Set(actorKey, s.OperatorID)
	a.svc.Audit(ctx, s.OperatorID, storage.Event{Kind: storage.KindAdminLogin, Detail: map[string]string{"via": "admin console"}})
	c.Redirect(http.StatusSeeOther, "/admin")
}

// session returns the admin session of the request, or redirects to the
// login page (GET) / answers 403 (POST) and returns false.
func (a *admin) session(c *gin.Context) (storage.Session, string, bool) {
	ck, err := c.Request.Cookie(adminSessionCookie)
	if err == nil && ck.Value != "" && len(ck.Value) <= 128 {
		s, err := a.store.GetSession(c.Request.Context(), ck.Value)
		switch {
		case err == nil && strings.HasPrefix(s.OperatorID, adminSessionPrefix) && a.now().Before(s.ExpiresAt):
			c.Set(actorKey, s.OperatorID)
			return s, ck.Value, true
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			a.log.Warn("admin page: storage", "err", err)
			a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", pageData{})
			return storage.Session{}, "", false
		}
	}
	if c.Request.Method == http.MethodGet {
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusSeeOther, "/admin/login")
		c.Abort()
	} else {
		a.pageError(c, http.StatusForbidden, "Not logged in", "Your admin session has ended. Log in again.", pageData{})
	}
	return storage.Session{}, "", false
}

// postForm parses a page form and checks its CSRF token.
func (a *admin) postForm(c *gin.Context, s storage.Session) bool {
	d := pageData{CSRF: s.CSRF, Actor: s.OperatorID}
	// "scope" repeats: the approved-maximum checkboxes.
	if _, err := parsePageForm(c.Writer, c.Request, "scope"); err != nil {
		e, _ := oauth.AsError(err) // the parser's refusals are all known
		a.pageError(c, e.Status, statusTitle(e.Status), sentence(e.Description), d)
		return false
	}
	if !token.Equal(c.Request.PostForm.Get("csrf"), s.CSRF) {
		a.pageError(c, http.StatusForbidden, "Forbidden", "The form is out of date (CSRF check failed). Reload the page and try again.", d)
		return false
	}
	return true
}

// logout is POST /admin/logout.
func (a *admin) logout(c *gin.Context) {
	s, secret, ok := a.session(c)
	if !ok || !a.postForm(c, s) {
		return
	}
	if err := a.store.DeleteSession(c.Request.Context(), secret); err != nil && !errors.Is(err, storage.ErrNotFound) {
		a.log.Warn("admin logout: storage", "err", err)
	}
	a.setCookie(c, adminSessionCookie, "", "/admin", -1)
	c.Redirect(http.StatusSeeOther, "/admin/login")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
