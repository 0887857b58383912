package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/oauth/oautherr"
)

// writeOAuthRateLimited answers 429 in RFC 6749 §5.2's JSON shape. The
// code is temporarily_unavailable: RFC 6749 defines no rate-limit code for
// the token endpoint, a strict client maps any unknown code to a generic
// failure, and temporarily_unavailable is the registered value meaning
// "try again later" (fosite answers it at the revocation endpoint for
// transient conditions); Retry-After (RFC 6585 §4) says when.
func writeOAuthRateLimited(w http.ResponseWriter, over *overLimit, what string) {
	oautherr.Write(w, oautherr.ErrRateLimited.WithRetryAfter(over.retry).WithDescription("%s", rateLimitedDescription(what, over.retry)))
}

// limitOAuth wraps the token, introspection and revocation endpoints: it
// parses the form (the handler's own checks then see it parsed), refuses a
// client or address over its failure limit before any secret is compared,
// runs the handler, and counts its answer when it was a failure:
// invalid_client anywhere, invalid_grant (a wrong code, verifier or
// refresh token) at the token endpoint, unauthorized_client at the
// revocation endpoint (another client's token).
func (s *Server) limitOAuth() gin.HandlerFunc {
	return func(c *gin.Context) {
		w, r := c.Writer, c.Request
		if err := oauth.ParseForm(w, r); err != nil {
			oauth.WriteError(w, err)
			c.Abort()
			return
		}
		id, _, _, err := oauth.ClientCredentials(r)
		if err != nil {
			id = r.PostForm.Get("client_id")
		}
		ctx := r.Context()
		ks := s.limits.oauthKeys(c.ClientIP(), id)
		over, perr := s.limits.check(ctx, ks...)
		if over != nil {
			writeOAuthRateLimited(w, over, "failed attempts from this client or address")
			c.Abort()
			return
		}
		rec := &outcomeWriter{ResponseWriter: w, buffer: perr != nil}
		c.Writer = rec
		c.Next()
		c.Writer = w
		if !rec.failed() {
			rec.flush()
			return
		}
		_ = s.limits.charge(context.WithoutCancel(ctx), ks...)
		if rec.buffer {
			// The limiter could not say whether this caller was over
			// its limit: refuse the failure rather than let guesses run
			// unlimited.
			for k := range w.Header() {
				w.Header().Del(k)
			}
			oauth.WriteError(w, oauth.ErrTemporarilyUnavailable.WithDescription("cannot check rate limits; try again"))
			return
		}
		rec.flush()
	}
}

// outcomeWriter sees an OAuth handler's answer: its status and the error
// code of an error body. With buffer set it holds the whole answer back
// until flush, so a failure can still be replaced.
type outcomeWriter struct {
	gin.ResponseWriter
	buffer  bool
	status  int
	body    bytes.Buffer
	flushed bool
}

func (o *outcomeWriter) WriteHeader(code int) {
	if o.status != 0 {
		return
	}
	o.status = code
	if !o.buffer {
		o.ResponseWriter.WriteHeader(code)
	}
}

func (o *outcomeWriter) WriteHeaderNow() {
	if o.status == 0 {
		o.WriteHeader(http.StatusOK)
	}
	if !o.buffer {
		o.ResponseWriter.WriteHeaderNow()
	}
}

func (o *outcomeWriter) Write(b []byte) (int, error) {
	if o.status == 0 {
		o.WriteHeader(http.StatusOK)
	}
	if o.buffer || (o.status >= 400 && o.body.Len() < 4096) {
		o.body.Write(b)
	}
	if o.buffer {
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

func (o *outcomeWriter) WriteString(s string) (int, error) { return o.Write([]byte(s)) }

func (o *outcomeWriter) Status() int {
	if o.status == 0 {
		return http.StatusOK
	}
	return o.status
}

func (o *outcomeWriter) Written() bool { return o.status != 0 }

// failed reports whether the answer was a failure that counts.
func (o *outcomeWriter) failed() bool {
	if o.status == http.StatusUnauthorized {
		return true
	}
	if o.status < 400 || o.status >= 500 {
		return false
	}
	var b struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(o.body.Bytes(), &b) != nil {
		return false
	}
	switch b.Error {
	case oauth.CodeInvalidClient, oauth.CodeInvalidGrant, oauth.CodeUnauthorizedClient:
		return true
	}
	return false
}

// flush sends a buffered answer.
func (o *outcomeWriter) flush() {
	if !o.buffer || o.flushed {
		return
	}
	o.flushed = true
	if o.status == 0 {
		o.status = http.StatusOK
	}
	o.ResponseWriter.WriteHeader(o.status)
	_, _ = o.ResponseWriter.Write(o.body.Bytes())
}
