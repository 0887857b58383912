package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
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
	if _, _, err := token.Parse(value); err == nil {
		// Detached from the request: a reporter hanging up must not stop
		// a revocation half way.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		s.revokeLeaked(ctx, value)
		cancel()
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusAccepted, gin.H{"status": "received"})
}

// revokeLeaked revokes the grant of a live token. Failures are logged, not
// answered: the reporter learns nothing about the token either way.
func (s *Server) revokeLeaked(ctx context.Context, value string) {
	t, g, err := s.store.LookupToken(ctx, value)
	if err != nil {
		if !isNotFound(err) {
			s.log.Error("leaked token report: lookup failed", "err", err)
		}
		return
	}
	n, err := s.store.RevokeGrant(ctx, g.ID)
	if err != nil {
		s.log.Error("leaked token report: revoke failed", "grant", g.ID, "err", err)
		return
	}
	s.revoked(revokeLeak)
	if err := s.store.AppendEvent(ctx, storage.Event{Time: s.now(), Kind: "grant.revoked", Actor: "leak-report", ClientID: t.ClientID,
		WebsiteID: g.WebsiteID, GrantID: g.ID, Detail: map[string]string{"reason": "token reported leaked", "token_type": t.Kind.String(),
			"tokens": itoa(n.Tokens)}}); err != nil {
		s.log.Error("audit: append failed", "err", err)
	}
	s.log.Warn("leaked token reported: grant revoked", "grant", g.ID, "client", t.ClientID, "tokens", n.Tokens)
}
