package admin

import (
	"context"
	"log/slog"
	"time"

	"github.com/scopegate/scopegate/storage"
)

// Store is what the service needs of storage.
type Store interface {
	storage.Clients
	storage.Operators
	storage.Reviews
	storage.Audit
	GetGrant(ctx context.Context, id string) (storage.Grant, error)
	ListGrants(ctx context.Context, clientID, websiteID string) ([]storage.Grant, error)
	LookupToken(ctx context.Context, value string) (storage.Token, storage.Grant, error)
	RevokeToken(ctx context.Context, value string) (storage.Revocation, error)
	RevokeGrant(ctx context.Context, grantID string) (storage.Revocation, error)
	RevokeClient(ctx context.Context, clientID string) (storage.Revocation, error)
	RevokeWebsite(ctx context.Context, websiteID string) (storage.Revocation, error)
}

// Cache is the in-process client cache (oauth.Provider is one). Forget
// drops a changed client on this instance; other instances learn of the
// change from the store's pub/sub announcement.
type Cache interface {
	Forget(clientID string)
}

// RevocationKind says which path revoked, the label of the revocations
// metric.
type RevocationKind string

// The revocation kinds this service makes.
const (
	RevokedAdminToken   RevocationKind = "admin_token"   // Revoke by token
	RevokedAdminGrant   RevocationKind = "admin_grant"   // Revoke by grant
	RevokedAdminClient  RevocationKind = "admin_client"  // Revoke by client
	RevokedAdminWebsite RevocationKind = "admin_website" // Revoke by website
	RevokedLeak         RevocationKind = "leak"          // ReportLeak
	RevokedDisconnect   RevocationKind = "disconnect"    // Disconnect
)

// Options configures a Service.
type Options struct {
	Store Store
	// Cache, when set, forgets each client this service changes.
	Cache Cache
	// Logger gets audit write failures and revocation notices (a discard
	// logger when nil). Tokens and secrets are never logged.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Revoked, when set, is told of each revocation made, for metrics.
	Revoked func(RevocationKind)
}

// Service is the administration domain. It is safe for concurrent use.
type Service struct {
	store   Store
	cache   Cache
	log     *slog.Logger
	now     func() time.Time
	revoked func(RevocationKind)
}

// New returns a Service over o.Store.
func New(o Options) *Service {
	s := &Service{store: o.Store, cache: o.Cache, log: o.Logger, now: o.Now, revoked: o.Revoked}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.revoked == nil {
		s.revoked = func(RevocationKind) {}
	}
	return s
}

// Audit appends e to the audit trail through storage.AuditLog, the
// trail's one writer: stamped now, with actor unless e names its own.
func (s *Service) Audit(ctx context.Context, actor string, e storage.Event) {
	storage.AuditLog{Store: s.store, Logger: s.log, Now: s.now}.Record(ctx, actor, e)
}

// forget drops a changed client from this instance's cache.
func (s *Service) forget(clientID string) {
	if s.cache != nil && clientID != "" {
		s.cache.Forget(clientID)
	}
}

// Events lists audit events (newest first) matching f.
func (s *Service) Events(ctx context.Context, f storage.EventFilter) ([]storage.Event, error) {
	evs, err := s.store.ListEvents(ctx, f)
	return evs, fromStore(err, "audit events")
}
