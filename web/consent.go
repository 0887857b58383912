package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
)

// consentScopeField is the name of the consent page's checkboxes: one per
// scope string, its value that one scope ("website:people:data:read").
const consentScopeField = "consent_scope"

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
	websiteID, ok := pg.chooseWebsite(c, ss, q.Get("website_id"), pickerView{
		Action:     "/oauth/authorize",
		Intro:      "Which website should " + req.Client.Name + " be connected to?",
		Hidden:     hiddenFields(req.Params),
		Field:      "website_id",
		ClientName: req.Client.Name,
	}, "Your account manages no website, so it cannot connect a plugin.", "You cannot connect plugins to this website.")
	if !ok {
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
		e, known := oauth.AsError(err)
		if !known || e.Status == http.StatusServiceUnavailable {
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
	e, known := oauth.AsError(err)
	switch {
	case !known:
		pg.s.log.Error("authorize: internal error", "client", req.Client.ID, "err", err)
	case e.Status == http.StatusServiceUnavailable:
		pg.fail(c, err)
		return
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
		pg.fail(c, err)
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
