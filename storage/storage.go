package storage

import (
	"context"
	"errors"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage/token"
)

// Sentinel errors. Compare with errors.Is: implementations wrap them.
var (
	// ErrNotFound: no such record (or it expired).
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a create found the ID (or unique e-mail) taken.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrUnavailable: the backend could not answer (connection refused,
	// timeout, Redis error). Callers must fail closed: this is never "not
	// found" and never "inactive".
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrReplayed: a used authorization code or a used (rotated) refresh
	// token was presented again. The store has already revoked the grant.
	ErrReplayed = errors.New("storage: code or refresh token replayed; grant revoked")
	// ErrGrantRevoked: the grant is revoked (or gone); nothing can be
	// issued from it.
	ErrGrantRevoked = errors.New("storage: grant revoked")
	// ErrConflict: an optimistic update lost a race too many times.
	ErrConflict = errors.New("storage: conflict")
	// ErrInvalid: an argument the store cannot use (such as a malformed
	// audit cursor). A caller's mistake, never an outage.
	ErrInvalid = errors.New("storage: invalid argument")
)

// ClientType is confidential (has a secret) or public (PKCE only).
type ClientType string

// Client types.
const (
	Confidential ClientType = "confidential"
	Public       ClientType = "public"
)

// Role says what a client may do: a plugin gets tokens; a resource server
// may call introspection.
type Role string

// Client roles.
const (
	RolePlugin         Role = "plugin"
	RoleResourceServer Role = "resource-server"
)

// Status of a client.
type Status string

// Client statuses.
const (
	Active    Status = "active"
	Suspended Status = "suspended"
)

// SecretHash is the SHA-256 of a server-generated client secret. A zero
// ExpiresAt means it does not expire; during rotation the old secret gets an
// expiry and both verify until then.
type SecretHash struct {
	Hash      [32]byte  `json:"hash"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// CreatedAt is when the secret was made (zero: not recorded). Shown
	// to admins; never needed to verify.
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Client is a registered OAuth client: a plugin or a resource server.
type Client struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	Type         ClientType   `json:"type"`
	Secrets      []SecretHash `json:"secrets,omitempty"`
	RedirectURIs []string     `json:"redirect_uris,omitempty"`
	GrantTypes   []string     `json:"grant_types,omitempty"`
	Role         Role         `json:"role"`
	Status       Status       `json:"status"`
	// Approved is the approved maximum: every token's scope is a subset.
	Approved  scopes.Set `json:"approved"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	// Publisher, HomepageURL and PrivacyURL are shown to website operators
	// on the consent page, so they can tell who is asking. All optional.
	Publisher   string `json:"publisher,omitempty"`
	HomepageURL string `json:"homepage_url,omitempty"`
	PrivacyURL  string `json:"privacy_url,omitempty"`
}

// Website is a website whose data website scopes reach.
type Website struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Operator is a person who logs in and consents for websites.
type Operator struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"` // unique, stored lower-cased
	PasswordHash []byte    `json:"password_hash"`
	Websites     []string  `json:"websites"` // website IDs
	CreatedAt    time.Time `json:"created_at"`
}

// Grant is everything one consent (or one client's client-credentials use)
// produced. Revoking it kills its codes, access and refresh tokens.
type Grant struct {
	ID         string     `json:"id"` // token.NewID()
	ClientID   string     `json:"client_id"`
	WebsiteID  string     `json:"website_id,omitempty"`  // empty for client credentials
	OperatorID string     `json:"operator_id,omitempty"` // empty for client credentials
	Scopes     scopes.Set `json:"scopes"`                // what was consented
	CreatedAt  time.Time  `json:"created_at"`
	// ExpiresAt is when the last token of the grant expires; the store
	// extends it as tokens are issued.
	ExpiresAt time.Time `json:"expires_at"`
	Revoked   bool      `json:"revoked"`
}

// Token is what is stored for one code, access token or refresh token,
// under the SHA-256 of its value. The value itself is never stored.
type Token struct {
	Kind      token.Kind `json:"kind"`
	GrantID   string     `json:"grant_id"`
	ClientID  string     `json:"client_id"`
	Scopes    scopes.Set `json:"scopes"`
	IssuedAt  time.Time  `json:"issued_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	// Authorization codes only.
	RedirectURI         string `json:"redirect_uri,omitempty"`
	CodeChallenge       string `json:"code_challenge,omitempty"`
	CodeChallengeMethod string `json:"code_challenge_method,omitempty"`
}

// NewToken is a token to store: its raw Value (which the store hashes and
// forgets) and its record.
type NewToken struct {
	Value string
	Token
	// SameScopes stores the token with the scopes of the code or refresh
	// token being redeemed (RedeemChecked only); Scopes is then ignored.
	SameScopes bool
}

// Redemption is what RedeemChecked checks in the same atomic step that
// consumes a code or a refresh token (RFC 6749 §4.1.3, §6; RFC 7636 §4.6).
type Redemption struct {
	ClientID string // the token's client must be this one
	// Codes only.
	RedirectURI string // must equal the authorization request's
	Challenge   string // BASE64URL(SHA-256(code_verifier)); "" when no verifier was sent
	RequirePKCE bool   // the code must have been issued with a challenge
}

// MismatchError is RedeemChecked's refusal: a check of Redemption failed
// and nothing was consumed.
type MismatchError struct {
	// What failed: "client_id", "redirect_uri", "pkce_required",
	// "code_verifier_missing", "code_verifier_unexpected" or
	// "code_verifier" (no match).
	What string
}

func (e *MismatchError) Error() string { return "storage: redemption refused: " + e.What }

// Revocation counts what a revocation killed.
type Revocation struct {
	Grants int `json:"grants"`
	Tokens int `json:"tokens"`
	// Unconfirmed is set when the store waits for replicas
	// (RedisOptions.ReplicaWait) and fewer than asked acknowledged the
	// revocation in time: it is in force, but a failover of the primary
	// before the replicas catch up could undo it.
	Unconfirmed bool `json:"-"`
}

// Add sums two counts; the sum is unconfirmed if either part is.
func (r Revocation) Add(o Revocation) Revocation {
	return Revocation{Grants: r.Grants + o.Grants, Tokens: r.Tokens + o.Tokens, Unconfirmed: r.Unconfirmed || o.Unconfirmed}
}

// ReviewLineStatus is the state of one line of a scope request.
type ReviewLineStatus string

// Review line statuses.
const (
	LinePending  ReviewLineStatus = "pending"
	LineApproved ReviewLineStatus = "approved"
	LineRejected ReviewLineStatus = "rejected"
)

// ReviewLine is one scope + permission a plugin asks for, with why.
type ReviewLine struct {
	Scope         string           `json:"scope"` // one "NAME:PERMISSION"
	Justification string           `json:"justification"`
	Status        ReviewLineStatus `json:"status"`
	Reviewer      string           `json:"reviewer,omitempty"`
	Note          string           `json:"note,omitempty"`
	DecidedAt     time.Time        `json:"decided_at,omitzero"`
}

// Review is a scope request filed for a client (the marketplace review).
type Review struct {
	ID        string       `json:"id"`
	ClientID  string       `json:"client_id"`
	FiledBy   string       `json:"filed_by"` // "client" or "admin:<name>"
	Lines     []ReviewLine `json:"lines"`
	CreatedAt time.Time    `json:"created_at"`
}

// Pending reports whether any line still awaits a decision.
func (r Review) Pending() bool {
	for _, l := range r.Lines {
		if l.Status == LinePending {
			return true
		}
	}
	return false
}

// Event is one audit-trail entry.
type Event struct {
	ID        string            `json:"id"` // assigned by the store
	Time      time.Time         `json:"time"`
	Kind      string            `json:"kind"` // one of AuditKinds, e.g. "grant.revoked"
	Actor     string            `json:"actor,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	WebsiteID string            `json:"website_id,omitempty"`
	GrantID   string            `json:"grant_id,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// EventFilter selects audit events; zero fields match everything.
type EventFilter struct {
	ClientID  string
	WebsiteID string
	Kind      string
	Since     time.Time
	Until     time.Time
	// After is the ID of the last event of the previous page ("" = newest
	// first page). Pages go from newest to oldest.
	After string
	Limit int // default 100, max 1000
}

// Session is a logged-in operator's browser session.
type Session struct {
	OperatorID string    `json:"operator_id"`
	CSRF       string    `json:"csrf"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Clients stores OAuth clients.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	// UpdateClient applies fn atomically (optimistic; retried on a race).
	UpdateClient(ctx context.Context, id string, fn func(Client) (Client, error)) (Client, error)
	// DeleteClient deletes the client record; callers revoke its grants
	// first (RevokeClient).
	DeleteClient(ctx context.Context, id string) error
	ListClients(ctx context.Context) ([]Client, error)
}

// Operators stores operators and websites.
type Operators interface {
	CreateOperator(ctx context.Context, o Operator) error
	GetOperator(ctx context.Context, id string) (Operator, error)
	GetOperatorByEmail(ctx context.Context, email string) (Operator, error)
	PutWebsite(ctx context.Context, w Website) error
	GetWebsite(ctx context.Context, id string) (Website, error)
}

// Grants stores grants and their tokens. Every method that takes a raw token
// string parses it with token.Parse (ErrNotFound for a malformed one) and
// looks it up by token.Hash.
type Grants interface {
	// CreateGrant stores a new grant (no tokens yet).
	CreateGrant(ctx context.Context, g Grant) error
	GetGrant(ctx context.Context, id string) (Grant, error)
	// ListGrants lists live (unexpired, unrevoked) grants of a client or a
	// website (exactly one of the two is set).
	ListGrants(ctx context.Context, clientID, websiteID string) ([]Grant, error)
	// IssueClientCredentials mints an access token with t's scopes and
	// times (t.Kind access or zero) in the client's live
	// client-credentials grant, creating g when there is none, and returns
	// the token's value and its grant. Concurrent callers share one grant;
	// a grant holds about a hundred tokens, then the next goes to a new
	// one. In the steady state (the grant is live and this store has used
	// it before) it costs one round trip.
	IssueClientCredentials(ctx context.Context, g Grant, t Token) (string, Grant, error)

	// IssueTokens stores tokens into their (same) grant atomically, only if
	// the grant is live (ErrGrantRevoked otherwise), and extends the grant's
	// expiry to cover them.
	IssueTokens(ctx context.Context, toks ...NewToken) error

	// LookupToken returns a live token and its grant in one round trip.
	// ErrNotFound for unknown, expired, used, or revoked tokens and for
	// tokens of a revoked grant.
	LookupToken(ctx context.Context, value string) (Token, Grant, error)
	// GetCode returns an unused code and its grant. A used code gives
	// ErrReplayed after revoking its grant.
	GetCode(ctx context.Context, code string) (Token, Grant, error)
	// RedeemCode atomically marks the code used and stores the new tokens.
	// Of concurrent redemptions exactly one succeeds; the others get
	// ErrReplayed and the grant is revoked.
	RedeemCode(ctx context.Context, code string, toks ...NewToken) error
	// GetRefresh returns an unused refresh token and its grant. A used one
	// gives ErrReplayed after revoking its grant.
	GetRefresh(ctx context.Context, refresh string) (Token, Grant, error)
	// RotateRefresh atomically marks the refresh token used and stores the
	// new tokens. Of concurrent rotations exactly one succeeds; the others
	// get ErrReplayed and the grant is revoked.
	RotateRefresh(ctx context.Context, refresh string, toks ...NewToken) error
	// RedeemChecked is RedeemCode or RotateRefresh (by the token's kind)
	// with the caller's checks made in the same atomic step, so that a
	// redemption costs one round trip: a *MismatchError when one fails
	// (nothing consumed), else as RedeemCode / RotateRefresh. Tokens with
	// SameScopes get the presented token's scopes, which it returns with
	// the grant.
	RedeemChecked(ctx context.Context, value string, want Redemption, toks ...NewToken) (Grant, scopes.Set, error)

	// RevokeToken revokes one token: an access token alone; a refresh token
	// or a code together with its whole grant. Unknown tokens count zero.
	RevokeToken(ctx context.Context, value string) (Revocation, error)
	RevokeGrant(ctx context.Context, grantID string) (Revocation, error)
	RevokeClient(ctx context.Context, clientID string) (Revocation, error)
	RevokeWebsite(ctx context.Context, websiteID string) (Revocation, error)
}

// Reviews stores scope requests.
type Reviews interface {
	CreateReview(ctx context.Context, r Review) error
	GetReview(ctx context.Context, id string) (Review, error)
	ListReviews(ctx context.Context, clientID string) ([]Review, error) // newest first
	ListPendingReviews(ctx context.Context) ([]Review, error)           // oldest first
	// DecideLine sets line i's decision and, when approved, adds the line's
	// scope to the client's approved maximum, in one atomic step.
	DecideLine(ctx context.Context, reviewID string, i int, approve bool, reviewer, note string, at time.Time) (Review, Client, error)
}

// Audit is the append-only audit trail.
type Audit interface {
	AppendEvent(ctx context.Context, e Event) error
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
}

// Sessions stores browser sessions and admin tokens, by hash of their
// secret.
type Sessions interface {
	CreateSession(ctx context.Context, secret string, s Session) error
	GetSession(ctx context.Context, secret string) (Session, error)
	DeleteSession(ctx context.Context, secret string) error
	// AddAdminToken stores the hash of an admin token with a label.
	AddAdminToken(ctx context.Context, secret, label string) error
	// CheckAdminToken returns the label of a valid admin token.
	CheckAdminToken(ctx context.Context, secret string) (string, error)
	HasAdminTokens(ctx context.Context) (bool, error)
}

// Store is everything the server needs. The Redis implementation provides
// it; consumers should depend on the narrow interfaces above.
type Store interface {
	Clients
	Operators
	Grants
	Reviews
	Audit
	Sessions
	Consents
	// Ping checks the backend answers (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}
