package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// Limits of the sign-in form.
const (
	maxEmailLen = 254
	// maxPasswordLen is bcrypt's limit: it ignores bytes past 72, so a
	// longer input is refused rather than matched on its first 72 bytes.
	maxPasswordLen = 72
)

// msgWrongLogin is the one answer to every failed sign-in: it never says
// whether the e-mail exists.
const msgWrongLogin = "Wrong e-mail or password."

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
	email = normalizeEmail(email)
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
		pg.fail(c, err)
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
		pg.fail(c, err)
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

// normalizeEmail is an e-mail as operators are looked up (verifyLogin),
// and so the key of an account's sign-in limit (loginKeys).
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
