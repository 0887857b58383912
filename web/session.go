package web

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// Cookie names. The session cookie carries a random secret; the store keeps
// only its hash (storage.Sessions). The login CSRF cookie is the
// double-submit half of the login form's token (there is no session yet).
const (
	sessionCookie   = "sg_session"
	loginCSRFCookie = "sg_login_csrf"
)

// Limits of the operator forms.
const (
	maxPageFormBytes = 64 << 10
	maxEmailLen      = 254
	// maxPasswordLen is bcrypt's limit: it ignores bytes past 72, so a
	// longer input is refused rather than matched on its first 72 bytes.
	maxPasswordLen = 72
)

// msgWrongLogin is the one answer to every failed sign-in: it never says
// whether the e-mail exists.
const msgWrongLogin = "Wrong e-mail or password."

// validSecret reports whether s has the shape of a session secret, CSRF
// token or consent ID (43 URL-safe characters: token.NewRandom's base62,
// or the base64url of earlier versions), so a junk value never reaches
// storage.
func validSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// session is a logged-in operator's session, with the operator loaded.
type session struct {
	secret string
	storage.Session
	op storage.Operator
}

// mayActFor reports whether the session's operator manages websiteID.
func (ss *session) mayActFor(websiteID string) bool {
	return websiteID != "" && slices.Contains(ss.op.Websites, websiteID)
}

// currentSession returns the request's live session, or nil when there is
// none (no cookie, unknown, expired, or its operator is gone). An error
// means storage could not answer.
func (pg *pages) currentSession(ctx context.Context, r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || !validSecret(ck.Value) {
		return nil, nil
	}
	st, err := pg.s.store.GetSession(ctx, ck.Value)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !pg.s.now().Before(st.ExpiresAt) {
		return nil, nil
	}
	op, err := pg.s.store.GetOperator(ctx, st.OperatorID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &session{secret: ck.Value, Session: st, op: op}, nil
}

// checkCSRF compares a posted token with the session's.
func (ss *session) checkCSRF(posted string) bool { return token.Equal(ss.CSRF, posted) }

func (pg *pages) setCookie(c *gin.Context, name, value, path string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   pg.s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

func (pg *pages) clearCookie(c *gin.Context, name, path string) {
	pg.setCookie(c, name, "", path, -1)
}

// loginCSRF returns the login form's double-submit token: the one already
// in the browser's cookie (so several tabs keep working), or a new one set
// now.
func (pg *pages) loginCSRF(c *gin.Context) string {
	if ck, err := c.Request.Cookie(loginCSRFCookie); err == nil && validSecret(ck.Value) {
		return ck.Value
	}
	v := token.NewRandom()
	pg.setCookie(c, loginCSRFCookie, v, "/", 3600)
	return v
}

// checkLoginCSRF compares the posted token with the cookie, in constant
// time.
func checkLoginCSRF(r *http.Request, posted string) bool {
	ck, err := r.Cookie(loginCSRFCookie)
	return err == nil && validSecret(ck.Value) && token.Equal(ck.Value, posted)
}

// dummyHash is what unknown e-mails are compared against, so a sign-in
// costs one bcrypt comparison whether or not the operator exists.
func (pg *pages) dummyHash() []byte {
	pg.dummyOnce.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte(token.NewRandom()), bcrypt.DefaultCost)
		if err != nil {
			panic("web: bcrypt: " + err.Error())
		}
		pg.dummy = h
	})
	return pg.dummy
}

// verifyLogin checks an e-mail and password. ok is false for any mismatch;
// err is set only when storage could not answer.
func (pg *pages) verifyLogin(ctx context.Context, email, password string) (op storage.Operator, ok bool, err error) {
	email = strings.ToLower(strings.TrimSpace(email))
	hash := pg.dummyHash()
	found := false
	if email != "" && len(email) <= maxEmailLen {
		op, err = pg.s.store.GetOperatorByEmail(ctx, email)
		switch {
		case err == nil:
			hash, found = op.PasswordHash, true
		case !errors.Is(err, storage.ErrNotFound):
			return storage.Operator{}, false, err
		}
	}
	if len(password) > maxPasswordLen {
		password = password[:maxPasswordLen]
		found = false
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !found || !match || password == "" {
		return storage.Operator{}, false, nil
	}
	return op, true, nil
}

// login is POST /login: the login form (from /login or rendered in place on
// /oauth/authorize and the account pages).
func (pg *pages) login(c *gin.Context) {
	noStore(c)
	form, err := parsePageForm(c.Writer, c.Request)
	if err != nil {
		pg.errorPage(c, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	returnTo := safeReturnTo(form.Get("return_to"))
	if !checkLoginCSRF(c.Request, form.Get("csrf")) {
		pg.errorPageLink(c, http.StatusForbidden, "Sign-in form expired",
			"The sign-in form was too old or did not come from this site. Go back and try again.", returnTo, "Try again")
		return
	}
	email := form.Get("email")
	ctx := c.Request.Context()
	// Failed sign-ins are limited per account and per address, shared by
	// every instance; a successful one counts nothing.
	ks := pg.s.limits.loginKeys(c.ClientIP(), email)
	over, perr := pg.s.limits.check(ctx, ks...)
	if over != nil {
		retryAfter(c.Writer.Header(), over.retry)
		pg.renderLogin(c, http.StatusTooManyRequests, returnTo, email,
			"Too many failed sign-in attempts. Wait "+waitText(over.retry)+" and try again.")
		return
	}
	op, ok, err := pg.verifyLogin(ctx, email, form.Get("password"))
	if err != nil {
		pg.fail(c, err)
		return
	}
	if !ok {
		pg.s.log.Info("operator sign-in failed", "ip", c.ClientIP())
		if cerr := pg.s.limits.charge(context.WithoutCancel(ctx), ks...); perr != nil || cerr != nil {
			// The limiter cannot answer: refuse the failure (fail closed)
			// without saying whether the password was wrong.
			pg.errorPage(c, http.StatusServiceUnavailable, "Temporarily unavailable",
				"Sign-in cannot be checked right now. Try again in a moment.")
			return
		}
		pg.renderLogin(c, http.StatusUnprocessableEntity, returnTo, email, msgWrongLogin)
		return
	}
	secret := token.NewRandom()
	ttl := pg.s.opts.SessionTTL
	err = pg.s.store.CreateSession(ctx, secret, storage.Session{OperatorID: op.ID, CSRF: token.NewRandom(), ExpiresAt: pg.s.now().Add(ttl)})
	if err != nil {
		pg.fail(c, err)
		return
	}
	pg.setCookie(c, sessionCookie, secret, "/", int(ttl.Seconds()))
	pg.clearCookie(c, loginCSRFCookie, "/")
	pg.s.log.Info("operator signed in", "operator", op.ID)
	c.Redirect(http.StatusSeeOther, returnTo)
}

// loginPage is GET /login.
func (pg *pages) loginPage(c *gin.Context) {
	noStore(c)
	returnTo := safeReturnTo(c.Query("return_to"))
	ss, err := pg.currentSession(c.Request.Context(), c.Request)
	if err != nil {
		pg.fail(c, err)
		return
	}
	if ss != nil {
		c.Redirect(http.StatusSeeOther, returnTo)
		return
	}
	pg.renderLogin(c, http.StatusOK, returnTo, "", "")
}

// logout is POST /logout.
func (pg *pages) logout(c *gin.Context) {
	noStore(c)
	form, err := parsePageForm(c.Writer, c.Request)
	if err != nil {
		pg.errorPage(c, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	ctx := c.Request.Context()
	ss, err := pg.currentSession(ctx, c.Request)
	if err != nil {
		pg.fail(c, err)
		return
	}
	if ss == nil {
		pg.clearCookie(c, sessionCookie, "/")
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	if !ss.checkCSRF(form.Get("csrf")) {
		pg.errorPageLink(c, http.StatusForbidden, "Request refused", "The form did not come from this site. Nothing was changed.", "/", "Home")
		return
	}
	if err := pg.s.store.DeleteSession(ctx, ss.secret); err != nil && !errors.Is(err, storage.ErrNotFound) {
		pg.fail(c, err)
		return
	}
	pg.clearCookie(c, sessionCookie, "/")
	c.Redirect(http.StatusSeeOther, "/")
}

// safeReturnTo keeps only local paths of our own pages, so the login form
// can never send the browser elsewhere: /oauth/authorize with its query,
// /account/plugins with a website, or the home page. The query is
// re-encoded from its parsed form.
func safeReturnTo(raw string) string {
	if raw == "" || len(raw) > 8192 || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") ||
		strings.ContainsAny(raw, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "/"
	}
	switch u.Path {
	case "/oauth/authorize":
		if len(q) == 0 {
			return "/"
		}
		return "/oauth/authorize?" + q.Encode()
	case "/account/plugins":
		if w := q.Get("website"); w != "" {
			return "/account/plugins?" + url.Values{"website": {w}}.Encode()
		}
		return "/account/plugins"
	}
	return "/"
}

// parsePageForm reads a posted HTML form: URL-encoded, bounded, valid
// UTF-8, and no field twice except the repeatable ones (checkboxes).
func parsePageForm(w http.ResponseWriter, r *http.Request, repeatable ...string) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errors.New("the form must be sent as application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPageFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, errors.New("the form could not be read")
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 && !slices.Contains(repeatable, k) {
			return nil, errors.New("a form field was sent more than once")
		}
		if !utf8.ValidString(k) {
			return nil, errors.New("the form is not valid UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, errors.New("the form is not valid UTF-8")
			}
		}
	}
	return r.PostForm, nil
}
