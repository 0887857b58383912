package adminapi

import (
	"sort"
	"strings"
	"time"
)

// RevokeRequest is the body of POST /admin/v1/revoke: exactly one field.
// A pasted access or refresh token revokes its whole grant.
type RevokeRequest struct {
	Token     string `json:"token" validate:"omitempty,max=512"`
	GrantID   string `json:"grant_id" validate:"omitempty,ref"`
	ClientID  string `json:"client_id" validate:"omitempty,ref"`
	WebsiteID string `json:"website_id" validate:"omitempty,ref"`
}

// Revocation answers POST /admin/v1/revoke: the counts revoked. Durable is
// false when the server waits for Redis replicas (--redis-wait-replicas)
// and none acknowledged in time; Warning then says what that means.
type Revocation struct {
	Durable bool   `json:"durable"`
	Grants  int    `json:"grants"`
	Tokens  int    `json:"tokens"`
	Warning string `json:"warning,omitempty"`
}

// Grant is a live grant as GET /admin/v1/grants lists it.
type Grant struct {
	ID         string `json:"id"`
	ClientID   string `json:"client_id"`
	WebsiteID  string `json:"website_id,omitempty"`
	OperatorID string `json:"operator_id,omitempty"`
	// Scopes is space-separated, in canonical order.
	Scopes    string    `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Revoked   bool      `json:"revoked"`
}

// GrantList answers GET /admin/v1/grants.
type GrantList struct {
	Grants []Grant `json:"grants"`
}

// Event is one audit event.
type Event struct {
	ID        string            `json:"id"`
	Time      time.Time         `json:"time"`
	Kind      string            `json:"kind"`
	Actor     string            `json:"actor,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	WebsiteID string            `json:"website_id,omitempty"`
	GrantID   string            `json:"grant_id,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// AuditPage answers GET /admin/v1/audit: events newest first, and Next, the
// "after" of the following page ("" on the last page).
type AuditPage struct {
	Events []Event `json:"events"`
	Next   string  `json:"next"`
}

// DetailText is an event's detail as one line, "key=value" in key order.
func DetailText(detail map[string]string) string {
	keys := make([]string, 0, len(detail))
	for k := range detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + detail[k]
	}
	return strings.Join(parts, " ")
}
