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
	"github.com/scopegate/scopegate/scopes"
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

func adminSecret() string { return token.NewID() + token.NewID() } // 256 bits

// loginPage is GET /admin/login.
func (a *admin) loginPage(c *gin.Context) {
	a.showLogin(c, http.StatusOK, "")
}

func (a *admin) showLogin(c *gin.Context, status int, msg string) {
	csrf := adminSecret()
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
	if err != nil || form.Get("csrf") == "" || !sameString(ck.Value, form.Get("csrf")) {
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
	secret := adminSecret()
	s := storage.Session{OperatorID: adminSessionPrefix + label, CSRF: adminSecret(), ExpiresAt: a.now().Add(a.opts.SessionTTL)}
	if err := a.store.CreateSession(ctx, secret, s); err != nil {
		a.log.Warn("admin login: storage", "err", err)
		a.showLogin(c, http.StatusServiceUnavailable, "Storage is unavailable; try again.")
		return
	}
	a.setCookie(c, adminLoginCookie, "", "/admin/login", -1)
	a.setCookie(c, adminSessionCookie, secret, "/admin", int(a.opts.SessionTTL/time.Second))
	c.Set(actorKey, s.OperatorID)
	a.audit(c, storage.Event{Kind: "admin.login", Detail: map[string]string{"via": "admin console"}})
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
		a.pageError(c, http.StatusBadRequest, "Bad request", "The form could not be read.", d)
		return false
	}
	if !sameString(c.Request.PostForm.Get("csrf"), s.CSRF) {
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

func pageLines(rv adminapi.Review) []pageLine {
	out := make([]pageLine, len(rv.Lines))
	for i, l := range rv.Lines {
		pl := pageLine{ReviewLine: l, Pending: l.Status == string(storage.LinePending)}
		if l.DecidedAt != nil {
			pl.Decided = fmtTime(*l.DecidedAt)
		}
		if sc, err := scopes.ParseScope(l.Scope); err == nil && sc.Perm == scopes.Write {
			pl.WriteOnly = true
		}
		out[i] = pl
	}
	return out
}

// reviewQueue is GET /admin/review: every pending request, oldest first.
func (a *admin) reviewQueue(c *gin.Context) {
	s, _, ok := a.session(c)
	if !ok {
		return
	}
	d := pageData{Title: "Review queue", CSRF: s.CSRF, Actor: s.OperatorID}
	ctx := c.Request.Context()
	rs, err := a.store.ListPendingReviews(ctx)
	if err != nil {
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	}
	names := map[string]storage.Client{}
	for _, r := range rs {
		cl, ok := names[r.ClientID]
		if !ok {
			cl, err = a.store.GetClient(ctx, r.ClientID)
			if errors.Is(err, storage.ErrNotFound) {
				cl = storage.Client{ID: r.ClientID, Name: "(deleted client)", Status: "deleted"}
			} else if err != nil {
				a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
				return
			}
			names[r.ClientID] = cl
		}
		rv := viewReview(r)
		d.Reviews = append(d.Reviews, pageReview{Review: rv, ClientName: cl.Name, ClientStatus: string(cl.Status),
			Created: fmtTime(r.CreatedAt), Lines: pageLines(rv)})
	}
	a.render(c, http.StatusOK, "review.html", d)
}

// reviewDecide is POST /admin/review/decide (fields csrf, review, line,
// decision approve|reject, note), then back to the queue.
func (a *admin) reviewDecide(c *gin.Context) {
	s, _, ok := a.session(c)
	if !ok || !a.postForm(c, s) {
		return
	}
	d := pageData{CSRF: s.CSRF, Actor: s.OperatorID}
	f := c.Request.PostForm
	decision, reviewID := f.Get("decision"), f.Get("review")
	if (decision != "approve" && decision != "reject") || len(reviewID) != token.GrantLen || !idPattern.MatchString(reviewID) {
		a.pageError(c, http.StatusBadRequest, "Bad request", "Choose Approve or Reject for a line of a review.", d)
		return
	}
	note := f.Get("note")
	if !validNote(note) {
		a.pageError(c, http.StatusBadRequest, "Bad request", "The note must be at most 1000 printable characters.", d)
		return
	}
	_, _, status, desc, err := a.decide(c, reviewID, f.Get("line"), decision == "approve", note)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		a.pageError(c, http.StatusNotFound, "Not found", "No such review.", d)
		return
	case err != nil:
		a.log.Warn("admin page: decide", "err", err)
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	case status != 0:
		a.pageError(c, status, "Cannot decide", desc+".", d)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/review#review-"+reviewID)
}

// clientHistory is GET /admin/review/clients/:id: the client, its approved
// maximum, every review with its decisions, and recent audit events.
func (a *admin) clientHistory(c *gin.Context) {
	s, _, ok := a.session(c)
	if !ok {
		return
	}
	d := pageData{CSRF: s.CSRF, Actor: s.OperatorID}
	id := c.Param("id")
	ctx := c.Request.Context()
	if !validRef(id) {
		a.pageError(c, http.StatusNotFound, "Not found", "No such client.", d)
		return
	}
	cl, err := a.store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		a.pageError(c, http.StatusNotFound, "Not found", "No such client.", d)
		return
	}
	if err != nil {
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	}
	rs, err := a.store.ListReviews(ctx, id)
	if err != nil {
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	}
	evs, err := a.store.ListEvents(ctx, storage.EventFilter{ClientID: id, Limit: 50})
	if err != nil {
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	}
	d.Title, d.Client = "History of "+cl.Name, a.viewClient(cl)
	d.Approved = approvedLines(cl.Approved.Strings())
	for _, r := range rs {
		rv := viewReview(r)
		d.Reviews = append(d.Reviews, pageReview{Review: rv, Created: fmtTime(r.CreatedAt), Lines: pageLines(rv)})
	}
	for _, e := range evs {
		d.Events = append(d.Events, viewEvent(e))
	}
	a.render(c, http.StatusOK, "client.html", d)
}
