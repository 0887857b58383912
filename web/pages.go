package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/oauth/oautherr"
	"github.com/scopegate/scopegate/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/app.css
var staticFS embed.FS

// pages holds the operator pages' state: parsed templates and the bcrypt
// hash unknown e-mails are compared with.
type pages struct {
	s         *Server
	tmpl      map[string]*template.Template
	css       []byte
	dummyOnce sync.Once
	dummy     []byte
}

// pageRoutes registers the operator pages: sign-in, authorize/consent,
// connected plugins, home, the stylesheet, and the demo pages when
// Options.Demo is set.
func (s *Server) pageRoutes(e *gin.Engine) {
	pg := &pages{
		s:    s,
		tmpl: mustParseTemplates(),
	}
	css, err := fs.ReadFile(staticFS, "static/app.css")
	if err != nil {
		panic("web: embedded stylesheet missing: " + err.Error())
	}
	pg.css = css

	e.GET("/static/app.css", pg.stylesheet)
	e.GET("/", pg.home)
	e.GET("/login", pg.loginPage)
	e.POST("/login", pg.login)
	e.POST("/logout", pg.logout)
	e.GET("/oauth/authorize", pg.authorizeGet)
	e.POST("/oauth/authorize", pg.authorizePost)
	e.GET("/account/plugins", pg.plugins)
	e.POST("/account/plugins/disconnect", pg.disconnect)
	if s.opts.Demo {
		pg.demoRoutes(e)
	}
}

// mustParseTemplates parses each page together with the layout. The
// templates are embedded, so a failure is a programming error.
func mustParseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"human":   func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
		"day":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	}
	// The operator pages (templates/NAME.html), each with the layout.
	pageTemplates := []string{"error", "login", "picker", "consent", "plugins", "home", "demo", "demo_callback", "disconnect"}
	out := make(map[string]*template.Template)
	for _, n := range pageTemplates {
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
		out[n] = t
	}
	return out
}

func (pg *pages) stylesheet(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/css; charset=utf-8", pg.css)
}

// noStore marks a page as never to be cached: every page here carries a
// session, a CSRF token or an authorization request.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

// render writes a page. It renders into a buffer first so a template error
// never sends half a page.
func (pg *pages) render(c *gin.Context, status int, name string, v *view) {
	noStore(c)
	t, ok := pg.tmpl[name]
	var buf bytes.Buffer
	if !ok {
		pg.s.log.Error("page template missing", "template", name)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error\n"))
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		pg.s.log.Error("page template failed", "template", name, "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error\n"))
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (pg *pages) errorPage(c *gin.Context, status int, title, msg string) {
	pg.errorPageLink(c, status, title, msg, "", "")
}

// errorPageLink renders the error page with a link onwards. A 503 or 429
// carries Retry-After as oautherr.Write sends it on the API (one second
// unless the caller set a longer wait).
func (pg *pages) errorPageLink(c *gin.Context, status int, title, msg, link, linkText string) {
	if (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", oautherr.RetryAfterSeconds(0))
	}
	pg.render(c, status, "error", &view{Title: title, Error: &errorView{Message: msg, Link: link, LinkText: linkText}})
}

// fail answers err with the error page, classified as the OAuth endpoints
// classify it (oauth.AsError): a refused request shows its status and
// description; a storage outage is 503 with Retry-After, as on the API;
// anything else is a bare 500, logged, with no detail on the wire.
func (pg *pages) fail(c *gin.Context, err error) {
	e, known := oauth.AsError(err)
	if e.RetryAfter > 0 {
		c.Header("Retry-After", oautherr.RetryAfterSeconds(e.RetryAfter))
	}
	switch {
	case !known:
		pg.s.log.Error("page: internal error", "path", c.Request.URL.Path, "err", err)
		pg.errorPage(c, http.StatusInternalServerError, "Something went wrong", "An internal error occurred. Nothing was changed.")
	case e.Status == http.StatusServiceUnavailable:
		pg.s.log.Warn("page: storage unavailable", "path", c.Request.URL.Path, "err", err)
		pg.errorPage(c, e.Status, "Temporarily unavailable",
			"The service cannot reach its storage right now. Nothing was changed. Try again in a moment.")
	default:
		pg.errorPage(c, e.Status, statusTitle(e.Status), sentence(e.Description))
	}
}

// statusTitle is an error page's title for a status: "Bad request".
func statusTitle(status int) string {
	t := http.StatusText(status)
	if t == "" {
		return "Request refused"
	}
	return t[:1] + strings.ToLower(t[1:])
}

// sentence makes an error description ("use POST") a sentence for a page.
func sentence(s string) string {
	if s == "" {
		return "The request was refused."
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// chooseWebsite resolves the website a page acts for: websiteID when the
// operator manages it, else the operator's only website, else none yet:
// it renders picker (filled with the operator's websites) for the
// operator to choose. ok is false when it has answered the request: the
// picker, or a 403 page saying none (no website at all) or notYours.
func (pg *pages) chooseWebsite(c *gin.Context, ss *session, websiteID string, picker pickerView, none, notYours string) (string, bool) {
	if websiteID == "" {
		switch len(ss.op.Websites) {
		case 0:
			pg.errorPage(c, http.StatusForbidden, "No website", none)
			return "", false
		case 1:
			websiteID = ss.op.Websites[0]
		default:
			opts, err := pg.websiteOptions(c, ss.op.Websites, "")
			if err != nil {
				pg.fail(c, err)
				return "", false
			}
			picker.Websites = opts
			v := &view{Title: "Choose a website", Picker: &picker}
			pg.render(c, http.StatusOK, "picker", v.signedIn(ss))
			return "", false
		}
	}
	if !ss.mayActFor(websiteID) {
		pg.errorPage(c, http.StatusForbidden, "Not your website", notYours)
		return "", false
	}
	return websiteID, true
}

func (pg *pages) websiteOptions(c *gin.Context, ids []string, selected string) ([]websiteOption, error) {
	out := make([]websiteOption, 0, len(ids))
	for _, id := range ids {
		w, err := pg.website(c, id)
		if err != nil {
			return nil, err
		}
		out = append(out, websiteOption{ID: w.ID, Name: w.Name, Selected: id == selected})
	}
	return out, nil
}

// website loads a website; a missing record shows its ID as its name.
func (pg *pages) website(c *gin.Context, id string) (storage.Website, error) {
	w, err := pg.s.store.GetWebsite(c.Request.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Website{ID: id, Name: id}, nil
	}
	if err != nil {
		return storage.Website{}, err
	}
	if w.Name == "" {
		w.Name = id
	}
	return w, nil
}

// maxPageFormBytes bounds an operator or admin page's posted form.
const maxPageFormBytes = 64 << 10

// parsePageForm reads an operator or admin page's posted form and returns
// its fields. The rules are the OAuth endpoints' (oauth.ParseFormWith) with
// a larger body, the repeatable fields (checkboxes) allowed twice, and the
// page's URL query let through unread. A refusal is an invalid_request
// *oauth.Error, which pg.fail shows with its status and description.
func parsePageForm(w http.ResponseWriter, r *http.Request, repeatable ...string) (url.Values, error) {
	rules := oauth.FormRules{MaxBytes: maxPageFormBytes, Repeatable: repeatable, QueryAllowed: true}
	if err := oauth.ParseFormWith(w, r, rules); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}
