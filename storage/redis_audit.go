package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scopegate/scopegate/storage/token"
)

// Audit event kinds: the one list of what the trail records. Every kind
// but KindTokenIssued is a security or admin event, kept for
// RedisOptions.AuditRetention whatever the traffic.
const (
	// KindTokenIssued is per-token issuance. It is not an audit event:
	// issuance is counted in metrics, and AppendEvent ignores it, so load
	// can never push an admin event out of the trail.
	KindTokenIssued = "token.issued"
	// KindGrantCreated: an operator consented (a new code-flow grant).
	KindGrantCreated = "grant.created"
	// KindTokenRevoked: a client's own RFC 7009 revocation.
	KindTokenRevoked = "token.revoked"
	// KindGrantRevoked: an operator's Disconnect or a leak report.
	KindGrantRevoked = "grant.revoked"
	// Admin revocations, with counts.
	KindRevokeToken   = "revoke.token"
	KindRevokeGrant   = "revoke.grant"
	KindRevokeClient  = "revoke.client"
	KindRevokeWebsite = "revoke.website"
	// Client changes.
	KindClientCreated        = "client.created"
	KindClientUpdated        = "client.updated"
	KindClientSuspended      = "client.suspended"
	KindClientResumed        = "client.resumed"
	KindClientSecretRotated  = "client.secret_rotated"
	KindClientMaximumLowered = "client.maximum_lowered"
	KindClientDeleted        = "client.deleted"
	// Scope reviews.
	KindReviewFiled        = "review.filed"
	KindReviewLineApproved = "review.line_approved"
	KindReviewLineRejected = "review.line_rejected"
	// Operators, websites, admin logins.
	KindOperatorCreated = "operator.created"
	KindWebsiteCreated  = "website.created"
	KindAdminLogin      = "admin.login"
)

// AuditKinds lists the kinds the audit trail keeps (every Kind constant but
// KindTokenIssued), in the order README.md lists them.
func AuditKinds() []string {
	return []string{
		KindGrantCreated, KindTokenRevoked, KindGrantRevoked,
		KindRevokeToken, KindRevokeGrant, KindRevokeClient, KindRevokeWebsite,
		KindClientCreated, KindClientUpdated, KindClientSuspended, KindClientResumed,
		KindClientSecretRotated, KindClientMaximumLowered, KindClientDeleted,
		KindReviewFiled, KindReviewLineApproved, KindReviewLineRejected,
		KindOperatorCreated, KindWebsiteCreated, KindAdminLogin,
	}
}

// AppendEvent appends e to the audit stream, which is trimmed by time
// (entries older than RedisOptions.AuditRetention by Redis's clock go),
// never by count: no amount of traffic evicts an event. The store assigns
// the ID; a zero Time becomes now. Per-token issuance (KindTokenIssued) is
// not an audit event: it is ignored, without a round trip.
func (r *Redis) AppendEvent(ctx context.Context, e Event) error {
	if e.Kind == KindTokenIssued {
		return nil
	}
	e.ID = ""
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	_, err := auditAppendScript.run(ctx, r, auditAppendArgs{stream: r.k.audit(), event: mustJSON(e), retentionMs: r.retention.Milliseconds()})
	if err != nil {
		return unavailable("append event", err)
	}
	return nil
}

// validStreamID reports whether s looks like a Redis stream ID ("ms-seq").
func validStreamID(s string) bool {
	dash := false
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-' && !dash && digits > 0:
			dash, digits = true, 0
		case '0' <= c && c <= '9':
			digits++
		default:
			return false
		}
	}
	return dash && digits > 0 && len(s) <= 41
}

// ListEvents returns events matching f, newest first. Since is inclusive
// and Until exclusive, both against Event.Time. Pages continue from f.After,
// the ID of the previous page's last event. Filtering happens in the store,
// reading the stream backwards in batches.
func (r *Redis) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	start := "+"
	if f.After != "" {
		if !validStreamID(f.After) {
			return nil, fmt.Errorf("%w: bad event cursor %q", ErrInvalid, f.After)
		}
		start = "(" + f.After
	}
	// Read a little more than a page at a time: filters skip events.
	batch := int64(min(max(2*limit, 16), 500))
	var out []Event
	for {
		msgs, err := r.rdb.XRevRangeN(ctx, r.k.audit(), start, "-", batch).Result()
		if err != nil {
			return nil, unavailable("list events", err)
		}
		for _, m := range msgs {
			s, _ := m.Values["e"].(string)
			var e Event
			if err := json.Unmarshal([]byte(s), &e); err != nil {
				return nil, corrupt("event", err)
			}
			e.ID = m.ID
			if matches(e, f) {
				out = append(out, e)
				if len(out) == limit {
					return out, nil
				}
			}
		}
		if int64(len(msgs)) < batch {
			return out, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

func matches(e Event, f EventFilter) bool {
	return (f.ClientID == "" || e.ClientID == f.ClientID) &&
		(f.WebsiteID == "" || e.WebsiteID == f.WebsiteID) &&
		(f.Kind == "" || e.Kind == f.Kind) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}

var errEmptySecret = errors.New("storage: empty secret")

// CreateSession stores s under the SHA-256 of secret, with a TTL to
// s.ExpiresAt (which must be in the future).
func (r *Redis) CreateSession(ctx context.Context, secret string, s Session) error {
	if secret == "" {
		return errEmptySecret
	}
	now := r.now()
	if !s.ExpiresAt.After(now) {
		return errors.New("storage: session expires in the past")
	}
	ttl := time.Duration(ttlMillis(s.ExpiresAt, now)) * time.Millisecond
	if err := r.rdb.Set(ctx, r.k.session(token.Hash(secret)), mustJSON(s), ttl).Err(); err != nil {
		return unavailable("create session", err)
	}
	return nil
}

// GetSession returns the unexpired session of secret.
func (r *Redis) GetSession(ctx context.Context, secret string) (Session, error) {
	var s Session
	if secret == "" {
		return s, notFound("session")
	}
	if err := r.getJSON(ctx, r.rdb, r.k.session(token.Hash(secret)), "session", &s); err != nil {
		return Session{}, err
	}
	if !s.ExpiresAt.After(r.now()) {
		return Session{}, notFound("session")
	}
	return s, nil
}

// DeleteSession deletes a session; deleting a missing one is not an error.
func (r *Redis) DeleteSession(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	if err := r.rdb.Del(ctx, r.k.session(token.Hash(secret))).Err(); err != nil {
		return unavailable("delete session", err)
	}
	return nil
}

// AddAdminToken stores the SHA-256 of an admin token with a label.
func (r *Redis) AddAdminToken(ctx context.Context, secret, label string) error {
	if secret == "" {
		return errEmptySecret
	}
	h := token.Hash(secret)
	if err := r.rdb.HSet(ctx, r.k.adminTokens(), b64(h[:]), label).Err(); err != nil {
		return unavailable("add admin token", err)
	}
	return nil
}

// CheckAdminToken returns the label of a valid admin token, ErrNotFound
// otherwise. The token is found by its hash: no secret is compared in Go.
func (r *Redis) CheckAdminToken(ctx context.Context, secret string) (string, error) {
	if secret == "" {
		return "", notFound("admin token")
	}
	h := token.Hash(secret)
	label, err := r.rdb.HGet(ctx, r.k.adminTokens(), b64(h[:])).Result()
	if isNil(err) {
		return "", notFound("admin token")
	}
	if err != nil {
		return "", unavailable("check admin token", err)
	}
	return label, nil
}

// HasAdminTokens reports whether any admin token is stored.
func (r *Redis) HasAdminTokens(ctx context.Context) (bool, error) {
	n, err := r.rdb.HLen(ctx, r.k.adminTokens()).Result()
	if err != nil {
		return false, unavailable("has admin tokens", err)
	}
	return n > 0, nil
}
