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
// # Key schema (format v2)
//
// Format v2 (binary grant and token records, 16-byte token fields,
// sharded grant indexes scored in seconds) replaced the first format
// before any deployment; data written by the first format is not readable
// and must be flushed.
//
// Every key starts with RedisOptions.Prefix (P, "sg" by default). The part
// in braces is the Redis Cluster hash tag: keys sharing it share a slot, so
// one Lua script or MULTI can change them atomically.
//
//	Grant slot {g:<grantID>}: one consent and everything it produced
//	P:{g:<id>}           hash    the grant and its tokens (record layouts in record.go):
//	                             "g" → <expires:6><revoked:1><created:6><scope set ID:16> (times: 6-byte big-endian ms)
//	                             "c", "w", "o" → client, website, operator ID ("w", "o" absent for client credentials)
//	                             first 16 bytes of a token's SHA-256 → <kind:1><expires:6><issued:6>[<scope set ID:16>],
//	                               or a used marker "R"/"C" + <keep-until:6>
//	                             "p" → hash length after the last prune
//	P:{g:<id>}:c:<b64h>  string  a live code's redirect URI and PKCE challenge (JSON), <b64h> = base64url SHA-256
//
//	Client slot {c:<clientID>}
//	P:{c:<id>}           string  client record (JSON)
//	P:{c:<id>}:g         zset    the client's grant index, shard 0: grant IDs; score = grant expiry in whole
//	                             seconds when indexed (a lower bound)
//	P:{c:<id>}:g:<i>     zset    shard i of the index (0 < i < n), as shard 0
//	P:{c:<id>}:g:n       string  n, the index's shard count (absent: 1); see index.go
//	P:{c:<id>}:cc        string  ID of the client's client-credentials grant
//	P:{c:<id>}:r:<rid>   string  review (scope request) record (JSON)
//	P:{c:<id>}:rs        zset    the client's reviews; score = created (ms)
//
//	Website slot {w:<websiteID>}
//	P:{w:<id>}           string  website record (JSON)
//	P:{w:<id>}:g         zset    the website's grant index, as P:{c:<id>}:g (and :g:<i>, :g:n)
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
//	P:audit              stream  audit events, field "e" = event JSON; trimmed by time only
//	                             (MINID ~ now - AuditRetention), never by count
//	P:admin              hash    base64url SHA-256 of admin token → label
//	P:session:<b64h>     string  session (JSON), keyed by base64url SHA-256 of its secret
//
//	Pub/sub channel (not a key)
//	P:clients:changed    channel a client ID, published in the MULTI or pipeline that changes its
//	                             record (SubscribeClientChanges; redis_pubsub.go)
//
// IDs that become part of keys (client, website, operator, review IDs) are
// 1 to 200 printable ASCII characters without space, '{' or '}'; grant IDs
// are token.NewID values. Invalid IDs are refused on create and are not
// found on read.
//
// One hash per grant is why tokens cost little memory: a grant's hash stays
// in Redis's compact listpack encoding (every value at most 64 bytes), a
// token is a 16-byte field and a 13-byte value (29 when its scopes differ
// from the grant's), and scopes are stored once per distinct set in
// P:scopesets, which every store caches in memory (sets are immutable and
// named by content, so the cache is never stale). A code's long parameters
// live in their own short-lived key so they never bloat the hash.
// P:scopesets must not be deleted: grants name their scopes through it.
// A token's field is half its SHA-256: a lookup key within the grant its
// value names, which a forger must hit with a 128-bit second preimage
// (record.go says why that is enough).
//
// Grant indexes are split into shards by linear hashing of the grant ID
// (index.go) so that each shard stays a listpack (at most 128 entries by
// Redis's defaults, about 35 bytes an entry) instead of one skiplist of
// some 120 bytes an entry: a plugin with 100k grants has some 1500 shards
// in its slot. Small indexes are one shard and no count key. Measured with
// BenchmarkMemoryPerToken: a website grant holding one access and one
// refresh token costs about 375 bytes with its indexes.
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
// Grant indexes (P:{c:<id>}:g…, P:{w:<id>}:g…) are not updated when tokens
// extend a grant (that would cross slots on every issue). Their scores are
// lower bounds, so an entry whose score has passed is only a candidate:
// ListGrants, RevokeClient/RevokeWebsite and every CreateGrant (16 entries
// of the shard it joins) read the candidate grants and remove those that
// are gone, expired, revoked or foreign, and raise the scores of the
// others. Revocation removes grants from both indexes at once. An index's
// shard count never shrinks; emptied shards are deleted by Redis.
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
// exactly one succeeds and the others revoke the grant), RedeemChecked
// (the same, after checking the caller's client ID, a code's redirect URI
// and PKCE challenge, so that a redemption costs one round trip), RevokeToken (the
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
// one MULTI. IssueClientCredentials remembers each client's
// client-credentials grant in process and mints into it with one script on
// the grant's slot (live? the client's? store the token, extend the grant):
// one round trip in the steady state. When the grant is unknown to the
// process, revoked or expired, it reads the pointer P:{c:<id>}:cc and mints
// into the grant it names; if that one is dead too, it creates a new grant
// holding the token (one script) and indexes it, installing it as the
// pointer in the same script unless another instance installed one
// meanwhile, so concurrent callers (on any instance) share one grant. Each
// step says whether it worked, so nothing is retried in a loop. A grant
// that holds ccGrantMaxFields fields (about 117 tokens) counts as full and
// is replaced the same way, so a busy plugin's tokens are spread over
// listpack-sized grants instead of one hash of millions of fields.
//
// Every script is a file of lua/ (its KEYS, ARGV and reply described at
// its top), run through a typed argument builder and a reply parser that
// checks the reply's type and shape (scripts.go).
//
// Adding to an index is one script on the owner's slot (check the shard
// count, add, split a shard when one has grown to indexSplitAt entries);
// reading a whole index is one MULTI of the count and every shard, so a
// concurrent split cannot hide an entry from RevokeClient or RevokeWebsite.
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
// TestRedisReplicatedCluster runs the conformance suite on three primaries
// with a replica each and checks that no node ever answered CROSSSLOT.
//
// # Replicas and failover
//
// Redis replicates asynchronously: a write acknowledged by a primary that
// then dies may be missing on the replica promoted in its place, and a lost
// revocation (or a lost "used" marker of a code or refresh token) brings a
// token back. With RedisOptions.ReplicaWait (durable.go) RevokeToken,
// RevokeGrant, RevokeClient, RevokeWebsite, RedeemCode and RotateRefresh
// pipeline their script and a WAIT on the same connection to the primary
// owning the grant's slot (WAIT counts the replication offset of its own
// connection; in Cluster, ClusterClient.MasterForKey finds the node, and
// RevokeClient/RevokeWebsite group their grants by node). A revocation that
// fewer replicas than asked acknowledged within the timeout is in force on
// the primary and returned with Revocation.Unconfirmed; a redemption is not
// failed (its tokens are stored; refusing it would only burn the code).
// The trade-off: one replication round trip on each of these writes, and up
// to the timeout on each while replicas are missing, against revocations
// that survive a failover. GetCode/GetRefresh do not wait (they write only
// when they detect a replay). Redis 7.0 has no WAITAOF: acknowledged means
// in the replica's memory. Replication reports primaries lacking replicas
// for /readyz.
package storage
