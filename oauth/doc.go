// Package oauth is scopegate's protocol layer: the OAuth 2.0 authorization
// server's grants, scope capping, client authentication, introspection,
// revocation, metadata and wire errors. It runs the go-oauth2/oauth2/v4
// engine (server.Server) with its own oauth2.Manager over scopegate's
// storage, and replaces every engine default that is unsafe or off-spec.
//
// # What it owns
//
//   - Provider (New): the engine, the Manager behind it and a client cache
//     that drops a client at once when any instance changes it
//     (FollowClientChanges, over the store's Redis pub/sub), with
//     Config.ClientCacheTTL (500 ms by default) as the fallback for a lost
//     message. A Provider is safe for concurrent use.
//   - The authorization endpoint's logic, without its pages:
//     ParseAuthorize validates a request, Approve issues a code for an
//     operator's Consent, Deny and ErrorRedirect build error redirects.
//     The web package renders login and consent around them.
//   - The endpoints as net/http handlers: Token, Introspect, Revoke; and
//     Metadata for discovery. IntrospectToken is introspection without
//     HTTP.
//   - AsError, which classifies any error (ours, storage's, the engine's)
//     as an oautherr.Error (the one protocol error type, aliased here as
//     Error), and WriteError, which writes it with oautherr.Write; ParseForm,
//     the request hygiene every form endpoint shares; ClientCredentials and
//     HashSecret for client authentication.
//
// # Layout
//
//   - provider.go: Provider, Config, client authentication and the client
//     cache.
//   - engine.go: all of the go-oauth2 glue: the engine's configuration, the
//     two hooks we install (ClientInfoHandler, ExtensionFieldsHandler), the
//     oauth2.Manager that hands each grant to its handler, and what the
//     engine does and does not do for us.
//   - One handler per grant, each a grantHandler checked at compile time:
//     flow_code.go (authorization code with PKCE, issuing and redeeming),
//     flow_client_credentials.go, flow_refresh.go (rotation, narrowing).
//   - endpoints.go: ParseForm and the Token, Introspect, Revoke and
//     Metadata endpoints; authorize.go: the authorization endpoint's logic.
//   - errors.go: AsError and grantError, the one path from any error to
//     an oautherr.Error, and WriteError.
//
// # Standards
//
//   - RFC 6749: §2.3.1 client_secret_basic (form-urlencoded before Basic)
//     and client_secret_post, one method per request; §3.1 no parameter
//     twice; §3.1.2 the redirect URI keeps its own query; §3.3 an omitted
//     scope is the client's approved maximum of the kind the grant carries
//     (website scopes by consent, plugin scopes by client credentials);
//     §4.1 authorization code grant, §4.1.2 single-use codes (a replay
//     revokes the grant), §4.1.2.1 error redirects only to a vetted URI;
//     §4.4 client credentials, no refresh token (§4.4.3); §5.1 responses
//     with token_type, expires_in, scope always, Cache-Control: no-store;
//     §5.2 error bodies and statuses (401 plus WWW-Authenticate only for
//     invalid_client); §6 refresh may narrow scope, never widen it.
//   - RFC 7636 (PKCE): S256 only (§4.2, §4.6); the verifier's shape (§4.1)
//     is checked; a missing method, which §4.3 defaults to plain, is
//     refused; public clients must use it.
//   - RFC 7662 (introspection): §2.1 callers authenticate as resource-server
//     clients; §2.2 the answer, with scope re-capped at the token's client's
//     current approved maximum and website_id, operator_id, grant_id added;
//     inactive is exactly {"active":false}. A storage fault is a 503
//     temporarily_unavailable, never an answer.
//   - RFC 7009 (revocation): §2.1 the caller authenticates and may revoke
//     only its own tokens, token_type_hint is only a hint; §2.2 unknown,
//     malformed and foreign tokens get 200. A refresh token takes its grant
//     with it; an access token goes alone.
//   - RFC 8414 (metadata): §2 the fields, issuer without a trailing slash.
//   - RFC 9207: the iss parameter on every authorization response.
//   - RFC 9700 (OAuth 2.0 security BCP): §2.1.1 PKCE and downgrade
//     protection (a code_verifier for a code issued without a challenge is
//     invalid_grant), §4.1.3 exact redirect URI matching, §4.14.2 refresh
//     token rotation with replay detection.
//
// # Engine gaps this package closes
//
// Each is proven by a test that fails on the engine's default (the test's
// comment says what the default does; TestEngineDefaultsAreUnsafe pins the
// defaults down):
//
//   - Redirect URIs: the engine matches by host suffix
//     (manage.DefaultValidateURI: attackerexample.com passes for
//     example.com) and redirects errors to an unvetted redirect_uri.
//     ParseAuthorize compares byte for byte with the registered URIs and
//     returns a nil request, never a redirect, until client and URI are
//     known good.
//   - PKCE: the engine allows plain, defaults a missing method to plain,
//     does not require PKCE of public clients, skips the verifier's shape
//     and answers a downgrade with a 500. parsePKCE and the code flow
//     (its checks run inside storage's RedeemChecked) enforce RFC 7636
//     with S256 only.
//   - Implicit and password grants: on by default. The engine is
//     configured with response_type=code and the three grants only, and
//     Token refuses every other grant_type before the engine runs.
//   - Client authentication: the engine compares plain-text secrets and
//     does not authenticate the refresh grant at all. Token authenticates
//     every client first (constant-time SHA-256 comparison against the
//     stored hashes, suspended clients refused); the engine never
//     sees a secret.
//   - Refresh: the engine neither checks that the refresh token belongs to
//     the caller nor stops a wider scope. The refresh flow does both and
//     re-caps at the client's current approved maximum.
//   - Code redemption and refresh rotation: the engine reads then deletes
//     (two steps, racy). Here they go through the store's atomic
//     RedeemChecked and RotateRefresh: of concurrent uses exactly one wins,
//     and a replay revokes the grant.
//   - Errors: the engine looks errors up by value (a wrapped error becomes
//     a 500 server_error) and sends invalid_grant, unsupported_grant_type
//     and unsupported_response_type as 401. Token runs the engine's steps
//     (ValidationTokenRequest, GetAccessToken) itself, so the engine never
//     writes an answer: every error goes through AsError (errors.As /
//     errors.Is: a wrapped storage.ErrUnavailable stays a 503, engine
//     errors get RFC statuses) and WriteError, every success through one
//     JSON writer with Cache-Control: no-store.
//   - Grant-type authorization: the engine's ClientAuthorizedHandler has
//     no context parameter. It is left unset; Token checks the
//     authenticated client's grant types, with the request's context.
//   - Scopes: the engine knows nothing of website versus plugin scopes or
//     of an approved maximum; every grant here parses scope strictly and
//     caps it, naming the offending scopes in invalid_scope.
//   - Introspection, revocation and metadata: absent from the engine.
//
// # Dependencies
//
// oauth imports, of scopegate, only scopes, storage (its interfaces and
// sentinel errors), storage/token and the leaf oauth/oautherr; of the outside, the engine
// (github.com/go-oauth2/oauth2/v4) and the standard library. It must not
// import web, cmd, integration, Gin or any package that chooses or starts a
// storage backend (only cmd chooses one; tests use storage/redistest). Web
// imports oauth, never the other way round.
package oauth
