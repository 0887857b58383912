package web

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

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
