package web

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// consentIDField is the consent form's hidden field naming its single-use
// consent transaction.
const consentIDField = "consent_id"

// consentTTL is how long a consent page can be answered.
const consentTTL = 30 * time.Minute

// consentDigest binds a consent transaction to the operator's session and
// to the authorization request and website the page showed.
func consentDigest(ss *session, params url.Values, websiteID string) storage.ConsentTx {
	sh := sha256.Sum256([]byte(ss.secret))
	rh := sha256.Sum256([]byte(params.Encode() + "\x00" + websiteID))
	return storage.ConsentTx{Session: base64.RawURLEncoding.EncodeToString(sh[:]), Request: base64.RawURLEncoding.EncodeToString(rh[:])}
}

// newConsent stores a consent transaction for the page about to be shown
// and returns its ID (a 256-bit secret, stored only hashed).
func (pg *pages) newConsent(c *gin.Context, ss *session, req *oauth.AuthorizeRequest, websiteID string) (string, error) {
	id := token.NewRandom()
	err := pg.s.store.CreateConsent(c.Request.Context(), id, consentDigest(ss, req.Params, websiteID), consentTTL)
	return id, err
}

// takeConsent consumes the posted form's consent transaction, so one
// consent page yields at most one answer and one code (RFC 6749 §10.12;
// resubmitting the form, with the same cookies and fields, is refused).
// It answers the request itself and returns false when the transaction is
// unknown, used, expired, or was shown to another session or for another
// request.
func (pg *pages) takeConsent(c *gin.Context, ss *session, req *oauth.AuthorizeRequest, form url.Values) bool {
	again := authorizePath(req.Params, "")
	id := form.Get(consentIDField)
	var tx storage.ConsentTx
	err := storage.ErrNotFound
	if validSecret(id) {
		tx, err = pg.s.store.TakeConsent(c.Request.Context(), id)
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		pg.s.log.Warn("authorize: consent form replayed or expired", "operator", ss.op.ID, "client", req.Client.ID)
		pg.errorPageLink(c, http.StatusConflict, "Already answered",
			"This consent form was already submitted, or it is too old. Nothing more was approved.", again, "Start again")
		return false
	case err != nil:
		pg.fail(c, err)
		return false
	}
	if tx != consentDigest(ss, req.Params, form.Get("website_id")) {
		pg.s.log.Warn("authorize: consent form does not match its transaction", "operator", ss.op.ID, "client", req.Client.ID)
		pg.errorPageLink(c, http.StatusForbidden, "Request refused",
			"This form does not match the page it came from. Nothing was approved.", again, "Start again")
		return false
	}
	return true
}
