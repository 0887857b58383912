package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
)

// reportLeaked is POST /oauth/leaked: anyone who finds a scopegate token in
// the wild posts it (form field token); a live token's grant is revoked and
// audited before the answer. The answer is the same 202 whatever the token
// was, so the endpoint cannot be used to test tokens. Rate-limited per
// client IP.
func (s *Server) reportLeaked(c *gin.Context) {
	w, r := c.Writer, c.Request
	if err := oauth.ParseForm(w, r); err != nil {
		oauth.WriteError(w, err)
		return
	}
	// Every report counts (the answer never says whether it was a
	// "failure"); the limiter failing refuses the report.
	if ok, retry, err := s.limits.l.Charge(r.Context(), "leaked_addr:"+c.ClientIP(), s.limits.leakedAddr); err != nil || !ok {
		if err != nil {
			s.log.Warn("leaked token report: limiter unavailable", "err", err)
			oauth.WriteError(w, oauth.ErrTemporarilyUnavailable)
			return
		}
		s.limits.rejected.WithLabelValues("leaked_addr").Inc()
		writeOAuthRateLimited(w, &overLimit{name: "leaked_addr", retry: retry}, "reports from this address")
		return
	}
	value := r.PostForm.Get("token")
	if value == "" {
		oauth.WriteError(w, oauth.ErrInvalidRequest.WithDescription("token is missing"))
		return
	}
	// Detached from the request: a reporter hanging up must not stop a
	// revocation half way. The service ignores what is not a live token.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	s.svc.ReportLeak(ctx, value)
	cancel()
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusAccepted, gin.H{"status": "received"})
}
