// Package storage owns everything scopegate remembers: OAuth clients and
// their marketplace reviews, operators, websites, grants and the codes,
// access tokens and refresh tokens they hold, admin sessions and tokens, and
// the audit trail. storage.go is the contract (value types, sentinel errors,
// narrow interfaces); Redis (NewRedis) is its one implementation, over
// go-redis's UniversalClient, so the same code serves a standalone Redis,
// Sentinel and Redis Cluster. The conformance subpackage is the suite every
// backend passes; redistest starts real Redis servers for tests; embedded
// runs an in-process Redis-compatible server for trying scopegate out.
//
// Dependencies: storage imports scopegate's scopes and storage/token only.
// It must not import oauth, web, cmd or anything HTTP.
//
// # Errors
//
// Methods wrap the sentinels of storage.go; compare with errors.Is. Every
// Redis or network error, a cancelled context and an unreadable record all
// give ErrUnavailable: callers fail closed. ErrNotFound is returned only when
// Redis answered that the thing is not there (or it has expired by the
// store's clock). Invalid arguments (a malformed ID, tokens of two grants in
// one call) give plain errors that wrap neither.
//
// # Secrets at rest
//
// Codes, access tokens and refresh tokens are stored only under their SHA-256
// (token.Hash); session secrets and admin tokens likewise. Client secrets
// arrive hashed (HashSecret) and are checked with Client.VerifySecret in
// constant time. No raw secret is ever written to Redis; the conformance suite
// scans every key and value to prove it.
//
// # Key schema
//
// Every key starts with RedisOptions.Prefix (P, "sg" by default). The part
// in braces is the Redis Cluster hash tag: keys sharing it share a slot, so
// one Lua script or MULTI can change them atomically.
//
//	Grant slot {g:<grantID>}: one consent and everything it produced
//	P:{g:<id>}           hash    the grant and its tokens (record layouts in record.go):
//	                             "g" → <expires:13><revoked:1><created:13><scope set ID:16>
//	                             "c", "w", "o" → client, website, operator ID ("w", "o" absent for client credentials)
//	                             SHA-256 of a token (32 raw bytes) → <kind><expires><issued>[<scope set ID>],
//	                               or a used marker "R"/"C" + keep-until
//	                             "p" → hash length after the last prune
//	P:{g:<id>}:c:<b64h>  string  a live code's redirect URI and PKCE challenge (JSON), <b64h> = base64url SHA-256
//
//	Client slot {c:<clientID>}
//	P:{c:<id>}           string  client record (JSON)
//	P:{c:<id>}:g         zset    the client's grants; score = grant expiry (ms) when indexed (a lower bound)
//	P:{c:<id>}:cc        string  ID of the client's client-credentials grant
//	P:{c:<id>}:r:<rid>   string  review (scope request) record (JSON)
//	P:{c:<id>}:rs        zset    the client's reviews; score = created (ms)
//
//	Website slot {w:<websiteID>}
//	P:{w:<id>}           string  website record (JSON)
//	P:{w:<id>}:g         zset    the website's grants, as P:{c:<id>}:g
//
//	Operator slot {o:<operatorID>}
//	P:{o:<id>}           string  operator record (JSON; e-mail lower-cased)
//
//	Global keys (each in its own slot)
//	P:scopesets          hash    scope set ID (base64url of 12 bytes of the SHA-256 of the canonical
//	                             string) → canonical scope string; content-addressed, never deleted
//	P:clients            set     all client IDs
//	P:emails             hash    operator e-mail → operator ID (uniqueness)
//	P:reviews            hash    review ID → client ID (to find a review's slot)
//	P:reviews:pending    zset    reviews with undecided lines; score = created (ms)
//	P:audit              stream  audit events, field "e" = event JSON; MAXLEN ~ AuditMaxLen
//	P:admin              hash    base64url SHA-256 of admin token → label
//	P:session:<b64h>     string  session (JSON), keyed by base64url SHA-256 of its secret
//
// IDs that become part of keys (client, website, operator, review IDs) are
// 1 to 200 printable ASCII characters without space, '{' or '}'; grant IDs
// are token.NewID values. Invalid IDs are refused on create and are not
// found on read.
//
// One hash per grant is why tokens cost little memory: a grant's hash stays
// in Redis's compact listpack encoding (every value at most 64 bytes), a
// token is a 32-byte field and a 27-byte value (43 when its scopes differ
// from the grant's), and scopes are stored once per distinct set in
// P:scopesets, which every store caches in memory (sets are immutable and
// named by content, so the cache is never stale). A code's long parameters
// live in their own short-lived key so they never bloat the hash.
// P:scopesets must not be deleted: grants name their scopes through it.
//
// # TTL policy
//
// A grant's hash has a TTL ending at the grant's ExpiresAt, which IssueTokens, RedeemCode and RotateRefresh raise to cover
// every token (and used marker) they store; when the grant's last token
// expires, the grant goes. A new grant without tokens lives EmptyGrantTTL.
// Inside the hash, expired records are pruned by the issuing script once the
// hash has doubled since the last prune, so a long-lived client-credentials
// grant does not grow without bound. A redeemed code is kept as a used
// marker for at least UsedCodeRetention, a rotated refresh token until its
// own expiry but at most UsedRefreshRetention: presenting either again
// within that time is a replay and revokes the grant.
// Code parameter keys expire with their code; sessions at their ExpiresAt.
// Clients, reviews, operators, websites and admin tokens do not expire.
//
// TTLs are set relative to the store's clock (PEXPIRE, never PEXPIREAT), and
// every read also compares expiry with that clock, so a key that outlives
// its time (an embedded server between ticks, a test clock moved forward)
// is never treated as live.
//
// Grant indexes (P:{c:<id>}:g, P:{w:<id>}:g) are not updated when tokens
// extend a grant (that would cross slots on every issue). Their scores are
// lower bounds, so an entry whose score has passed is only a candidate:
// ListGrants, RevokeClient/RevokeWebsite and every CreateGrant (16 entries
// at a time) read the candidate grants and remove those that are gone,
// expired, revoked or foreign, and raise the scores of the others.
// Revocation removes grants from both indexes at once.
//
// # Atomicity
//
// LookupToken is one HMGET of the grant's fields and the token's field: one
// command, one round trip (a code adds a GET of its parameters in the same
// MULTI). Each of these is one Lua script on the grant's slot, hence atomic
// on any deployment: IssueTokens (grant live? store tokens, extend grant),
// GetCode and
// GetRefresh (a used one revokes the grant), RedeemCode and RotateRefresh
// (check unused, mark used, store the new tokens; of N concurrent callers
// exactly one succeeds and the others revoke the grant), RevokeToken (the
// token must be in its grant: a well-formed forgery naming a real grant
// revokes nothing) and RevokeGrant (flag the grant revoked, delete its live
// tokens). The revoked flag and the deletion take effect for the very next
// lookup from any process. RevokeClient and RevokeWebsite pipeline one
// revoke script per indexed grant; grants created while they run are not
// covered (suspend the client first).
//
// UpdateClient and DecideLine are optimistic transactions (WATCH, MULTI)
// on the client's slot, retried with jitter, ErrConflict after 20 lost
// races; DecideLine changes the review and the client's approved maximum in
// one MULTI. ClientCredentialsGrant installs a new grant with a
// compare-and-set script on the client's pointer, so concurrent callers all
// get the same grant.
//
// Steps that span slots (indexes, the global client set, e-mail and review
// maps) are ordered so that a failure between them leaves at worst an index
// entry the next listing prunes or an orphan record that expires, never a
// grant with tokens that no index names: CreateGrant indexes the grant
// before returning, and reports a failure before any token can be issued.
//
// # Cluster notes
//
// No command touches keys of two slots, except pipelines, which go-redis
// splits by node. Scripts are loaded on every master when first pipelined
// and fall back to EVAL after a NOSCRIPT. Reads go to masters (no
// ReadOnly routing): revocation must be visible to the very next lookup.
package storage
