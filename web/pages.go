package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/app.css
var staticFS embed.FS

// consentScopeField is the name of the consent page's checkboxes: one per
// scope string, its value that one scope ("website:people:data:read").
const consentScopeField = "consent_scope"

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
	// This file's pages (templates/NAME.html), each with the layout.
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

// view is what every template gets. Page-specific parts are pointers; the
// layout shows the signed-in operator and the sign-out form.
type view struct {
	Title string
	Email string // signed-in operator, if any
	CSRF  string // the session's CSRF token, if any

	Error   *errorView
	Login   *loginView
	Picker  *pickerView
	Consent *consentView
	Plugins *pluginsView
	Home    *homeView
	Demo    *demoView
	// Disconnect is the confirmation step before a plugin is disconnected.
	Disconnect *disconnectView
}

func (v *view) signedIn(ss *session) *view {
	if ss != nil {
		v.Email, v.CSRF = ss.op.Email, ss.CSRF
	}
	return v
}

type errorView struct {
	Message  string
	Link     string
	LinkText string
}

type loginView struct {
	ReturnTo string
	CSRF     string
	Email    string
	Error    string
	// Purpose says why sign-in is asked, such as the plugin being
	// connected.
	Purpose string
}

// hiddenField is one name/value pair carried through a form.
type hiddenField struct{ Name, Value string }

func hiddenFields(v url.Values) []hiddenField {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []hiddenField
	for _, k := range keys {
		for _, val := range v[k] {
			out = append(out, hiddenField{k, val})
		}
	}
	return out
}

type websiteOption struct {
	ID, Name string
	Selected bool
}

type pickerView struct {
	Action     string // GET target
	Intro      string
	Hidden     []hiddenField
	Field      string // "website_id" or "website"
	Websites   []websiteOption
	ClientName string
}

// permView is one scope string on a page: one checkbox on the consent page,
// one badge on the connected plugins page.
type permView struct {
	ID      string // element id for the label
	Scope   string // "website:people:data:read"
	Write   bool
	Checked bool
	// Text is what this permission lets the plugin do, in one plain
	// sentence from the catalogue ("See data stored in CRM profiles").
	Text string
}

// Badge is the permission's label.
func (p permView) Badge() string {
	if p.Write {
		return "WRITE"
	}
	return "READ"
}

// scopeGroup is one catalogue scope with the permissions asked or granted.
// Each permission carries its own sentence; the source description (which
// may name both permissions) is not shown to operators.
type scopeGroup struct {
	Name      string // "website:people:data"
	Title     string // "People data"
	Perms     []permView
	WriteOnly bool
	Subject   string // "people data", for the write-only note
}

// groupScopes turns a set into one group per catalogue scope, in canonical
// order, with checked marking which scopes are ticked.
func groupScopes(set, checked scopes.Set) []scopeGroup {
	var out []scopeGroup
	for i, sc := range set.Scopes() {
		if len(out) == 0 || out[len(out)-1].Name != sc.Name {
			subject := strings.ReplaceAll(strings.TrimPrefix(sc.Name, "website:"), ":", " ")
			out = append(out, scopeGroup{
				Name:    sc.Name,
				Title:   strings.ToUpper(subject[:1]) + subject[1:],
				Subject: subject,
			})
		}
		g := &out[len(out)-1]
		d, _ := scopes.Lookup(sc.Name)
		g.Perms = append(g.Perms, permView{
			Text:    d.Sentence(sc.Perm),
			ID:      "scope-" + itoa(i),
			Scope:   sc.String(),
			Write:   sc.Perm == scopes.Write,
			Checked: checked.Contains(sc),
		})
	}
	for i := range out {
		g := &out[i]
		g.WriteOnly = set.Has(g.Name, scopes.Write) && !set.Has(g.Name, scopes.Read)
	}
	return out
}

type consentView struct {
	ClientName   string
	ClientID     string
	Website      storage.Website
	ChangeSite   string // link back to the picker, when the operator has several
	Groups       []scopeGroup
	Hidden       []hiddenField
	Error        string
	ScopeField   string
	ScopeOmitted bool
	Trust        trustView
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

func (pg *pages) errorPageLink(c *gin.Context, status int, title, msg, link, linkText string) {
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	pg.render(c, status, "error", &view{Title: title, Error: &errorView{Message: msg, Link: link, LinkText: linkText}})
}

// fail answers a storage or internal error: 503 when storage is down, else
// a bare 500 page (logged; no detail on the wire).
func (pg *pages) fail(c *gin.Context, err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		pg.s.log.Warn("page: storage unavailable", "path", c.Request.URL.Path, "err", err)
		pg.errorPage(c, http.StatusServiceUnavailable, "Temporarily unavailable",
			"The service cannot reach its storage right now. Nothing was changed. Try again in a moment.")
		return
	}
	pg.s.log.Error("page: internal error", "path", c.Request.URL.Path, "err", err)
	pg.errorPage(c, http.StatusInternalServerError, "Something went wrong", "An internal error occurred. Nothing was changed.")
}

// renderLogin shows the sign-in form; it posts to /login and comes back to
// returnTo (a local path, see safeReturnTo).
func (pg *pages) renderLogin(c *gin.Context, status int, returnTo, email, msg string) {
	pg.renderLoginFor(c, status, returnTo, email, msg, "")
}

func (pg *pages) renderLoginFor(c *gin.Context, status int, returnTo, email, msg, purpose string) {
	if len(email) > maxEmailLen {
		email = ""
	}
	pg.render(c, status, "login", &view{Title: "Sign in", Login: &loginView{
		ReturnTo: safeReturnTo(returnTo), CSRF: pg.loginCSRF(c), Email: email, Error: msg, Purpose: purpose,
	}})
}

// ---- /oauth/authorize ----

// authorizeGet is GET /oauth/authorize (RFC 6749 §4.1.1): validate, then
// sign-in, website picker or consent page.
func (pg *pages) authorizeGet(c *gin.Context) {
	noStore(c)
	q := c.Request.URL.Query()
	req, ss, ok := pg.authorizeSession(c, q, "")
	if !ok {
		return
	}
	if len(q["website_id"]) > 1 {
		pg.errorPage(c, http.StatusBadRequest, "Bad request", "website_id is given more than once.")
		return
	}
	websiteID := q.Get("website_id")
	if websiteID == "" {
		switch len(ss.op.Websites) {
		case 0:
			pg.errorPage(c, http.StatusForbidden, "No website", "Your account manages no website, so it cannot connect a plugin.")
			return
		case 1:
			websiteID = ss.op.Websites[0]
		default:
			pg.renderAuthorizePicker(c, ss, req)
			return
		}
	}
	if !ss.mayActFor(websiteID) {
		pg.errorPage(c, http.StatusForbidden, "Not your website", "You cannot connect plugins to this website.")
		return
	}
	pg.renderConsent(c, http.StatusOK, ss, req, websiteID, req.Requested, "")
}

// parseAuthorize validates an authorization request. It answers the
// request itself and returns false when it is invalid: an error page when
// the client or redirect URI cannot be trusted (never a redirect), else a
// redirect carrying the error to the client.
func (pg *pages) parseAuthorize(c *gin.Context, q url.Values) (*oauth.AuthorizeRequest, bool) {
	req, err := pg.s.p.ParseAuthorize(c.Request.Context(), q)
	if err == nil {
		return req, true
	}
	if req == nil {
		if errors.Is(err, storage.ErrUnavailable) {
			pg.fail(c, err)
			return nil, false
		}
		e, known := oauth.AsError(err)
		if !known {
			pg.fail(c, err)
			return nil, false
		}
		pg.errorPage(c, http.StatusBadRequest, "This link cannot be used",
			"The application that sent you here made an invalid request: "+e.Description+". You were not sent back to it, and nothing was shared with it.")
		return nil, false
	}
	pg.redirectError(c, req, err)
	return nil, false
}

// redirectError sends the browser back to the (validated) redirect URI with
// the error, unless storage is down (a 503 page: the client could do
// nothing useful with the error).
func (pg *pages) redirectError(c *gin.Context, req *oauth.AuthorizeRequest, err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		pg.fail(c, err)
		return
	}
	if _, known := oauth.AsError(err); !known {
		pg.s.log.Error("authorize: internal error", "client", req.Client.ID, "err", err)
	}
	toClient(c, pg.s.p.ErrorRedirect(req, err))
}

// toClient redirects the browser to the plugin: 302 for a GET (RFC 6749
// §4.1.2), 303 after the consent POST so the browser never re-posts the
// form there (RFC 9700 §4.12).
func toClient(c *gin.Context, location string) {
	status := http.StatusFound
	if c.Request.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	c.Redirect(status, location)
}

// authorizePath is the local URL of the authorization request, optionally
// with a chosen website.
func authorizePath(params url.Values, websiteID string) string {
	v := url.Values{}
	for k, vs := range params {
		v[k] = vs
	}
	if websiteID != "" {
		v.Set("website_id", websiteID)
	}
	return "/oauth/authorize?" + v.Encode()
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

func (pg *pages) renderAuthorizePicker(c *gin.Context, ss *session, req *oauth.AuthorizeRequest) {
	opts, err := pg.websiteOptions(c, ss.op.Websites, "")
	if err != nil {
		pg.fail(c, err)
		return
	}
	v := &view{Title: "Choose a website", Picker: &pickerView{
		Action:     "/oauth/authorize",
		Intro:      "Which website should " + req.Client.Name + " be connected to?",
		Hidden:     hiddenFields(req.Params),
		Field:      "website_id",
		Websites:   opts,
		ClientName: req.Client.Name,
	}}
	pg.render(c, http.StatusOK, "picker", v.signedIn(ss))
}

func (pg *pages) renderConsent(c *gin.Context, status int, ss *session, req *oauth.AuthorizeRequest, websiteID string, checked scopes.Set, msg string) {
	w, err := pg.website(c, websiteID)
	if err != nil {
		pg.fail(c, err)
		return
	}
	hidden := hiddenFields(req.Params)
	hidden = append(hidden, hiddenField{"website_id", websiteID})
	txID, err := pg.newConsent(c, ss, req, websiteID)
	if err != nil {
		pg.fail(c, err)
		return
	}
	hidden = append(hidden, hiddenField{consentIDField, txID})
	cv := &consentView{
		ClientName:   req.Client.Name,
		ClientID:     req.Client.ID,
		Website:      w,
		Groups:       groupScopes(req.Requested, checked),
		Hidden:       hidden,
		Error:        msg,
		ScopeField:   consentScopeField,
		ScopeOmitted: req.ScopeOmitted,
	}
	if cv.Trust, err = pg.trust(c.Request.Context(), req); err != nil {
		pg.fail(c, err)
		return
	}
	if len(ss.op.Websites) > 1 {
		cv.ChangeSite = authorizePath(req.Params, "")
	}
	v := &view{Title: "Connect " + req.Client.Name, Consent: cv}
	pg.render(c, status, "consent", v.signedIn(ss))
}

// authorizeSession validates the authorization request in params and finds
// the operator's session. ok is false when it has answered: an error page or
// redirect for a bad request, a 503 page when storage is down, or the
// sign-in form (with notice) when nobody is signed in.
func (pg *pages) authorizeSession(c *gin.Context, params url.Values, notice string) (*oauth.AuthorizeRequest, *session, bool) {
	req, ok := pg.parseAuthorize(c, params)
	if !ok {
		return nil, nil, false
	}
	ss, err := pg.currentSession(c.Request.Context(), c.Request)
	if err != nil {
		pg.fail(c, err)
		return nil, nil, false
	}
	if ss == nil {
		pg.renderLoginFor(c, http.StatusOK, authorizePath(req.Params, ""), "", notice, req.Client.Name)
		return nil, nil, false
	}
	return req, ss, true
}

// authorizePost is POST /oauth/authorize: the consent form's answer. Every
// part is validated again: the request, the session and its CSRF token, the
// website, and each ticked scope.
func (pg *pages) authorizePost(c *gin.Context) {
	noStore(c)
	form, err := parsePageForm(c.Writer, c.Request, consentScopeField)
	if err != nil {
		pg.errorPage(c, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	req, ss, ok := pg.authorizeSession(c, form, "Your session has ended. Sign in again to continue.")
	if !ok {
		return
	}
	if !ss.checkCSRF(form.Get("csrf")) {
		pg.s.log.Warn("authorize: CSRF check failed", "operator", ss.op.ID, "client", req.Client.ID)
		pg.errorPageLink(c, http.StatusForbidden, "Request refused",
			"This form did not come from this site, or it is too old. Nothing was approved.", authorizePath(req.Params, ""), "Start again")
		return
	}
	switch form.Get("action") {
	case "deny":
		if !pg.takeConsent(c, ss, req, form) {
			return
		}
		pg.s.log.Info("authorize: operator denied", "operator", ss.op.ID, "client", req.Client.ID)
		toClient(c, pg.s.p.Deny(req))
		return
	case "approve":
	default:
		pg.errorPage(c, http.StatusBadRequest, "Bad request", "Choose Approve or Deny.")
		return
	}
	websiteID := form.Get("website_id")
	if !ss.mayActFor(websiteID) {
		pg.errorPage(c, http.StatusForbidden, "Not your website", "You cannot connect plugins to this website. Nothing was approved.")
		return
	}
	var ticked scopes.Set
	for _, raw := range form[consentScopeField] {
		sc, err := scopes.ParseScope(raw)
		if err != nil {
			pg.errorPage(c, http.StatusBadRequest, "Bad request", "A ticked permission is not valid: "+err.Error()+".")
			return
		}
		if ticked.Contains(sc) {
			pg.errorPage(c, http.StatusBadRequest, "Bad request", "A permission was ticked twice.")
			return
		}
		ticked = ticked.Union(scopes.Of(sc))
	}
	if ticked.IsEmpty() {
		pg.renderConsent(c, http.StatusUnprocessableEntity, ss, req, websiteID, ticked,
			"Tick at least one permission to approve, or choose Deny.")
		return
	}
	if extra := ticked.Difference(req.Requested); !extra.IsEmpty() {
		pg.errorPage(c, http.StatusBadRequest, "Bad request", "These permissions were not requested by the plugin: "+extra.String()+".")
		return
	}
	// Last, once everything else is valid: the page's single-use
	// transaction, so a resubmitted form mints no second code.
	if !pg.takeConsent(c, ss, req, form) {
		return
	}
	to, err := pg.s.p.Approve(c.Request.Context(), req, oauth.Consent{OperatorID: ss.op.ID, WebsiteID: websiteID, Scopes: ticked})
	if err != nil {
		pg.redirectError(c, req, err)
		return
	}
	pg.s.log.Info("authorize: operator approved", "operator", ss.op.ID, "client", req.Client.ID, "website", websiteID, "scope", ticked.String())
	toClient(c, to)
}

// ---- home and connected plugins ----

type homeView struct {
	Websites []websiteOption
	Demo     bool
}

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

type pluginsView struct {
	Website      storage.Website
	Grants       []grantView
	Disconnected bool
	OtherSites   bool
}

type grantView struct {
	ID         string
	ClientName string
	ClientID   string
	Groups     []scopeGroup
	CreatedAt  time.Time
}

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
	if websiteID == "" {
		switch len(ss.op.Websites) {
		case 0:
			pg.errorPage(c, http.StatusForbidden, "No website", "Your account manages no website.")
			return
		case 1:
			websiteID = ss.op.Websites[0]
		default:
			opts, err := pg.websiteOptions(c, ss.op.Websites, "")
			if err != nil {
				pg.fail(c, err)
				return
			}
			v := &view{Title: "Choose a website", Picker: &pickerView{
				Action: "/account/plugins", Intro: "Which website's connected plugins do you want to see?", Field: "website", Websites: opts,
			}}
			pg.render(c, http.StatusOK, "picker", v.signedIn(ss))
			return
		}
	}
	if !ss.mayActFor(websiteID) {
		pg.errorPage(c, http.StatusForbidden, "Not your website", "You do not manage this website.")
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
