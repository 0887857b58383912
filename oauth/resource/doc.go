// Package resource is the resource-server side of scopegate: what a REST API
// imports to accept scopegate's tokens.
//
//   - Introspector asks scopegate's introspection endpoint (RFC 7662) about a
//     bearer token, with the resource server's own client credentials, a
//     timeout, a bounded cache and one request in flight per token.
//   - Require is net/http middleware: the token must be active, hold the
//     route's scope with the permission the HTTP method needs (POST, PUT,
//     PATCH, DELETE: write; others: read) or an explicit one, and, for a
//     website scope, be bound to the website named in the path. Failures are
//     RFC 6750 §3 answers. Package resourcegin adapts the same rules to Gin.
//   - EventRules and FilterEvents gate realtime (RTM) events by scope: a
//     token receives an event only if it holds the scope the event needs.
//
// The package imports scopes, the leaf error package oauth/oautherr, the
// standard library and golang.org/x/sync/singleflight only; never the
// server's packages.
//
// # Caching and failure
//
// An answer is reused for at most Config.CacheTTL (default 2 s) and never
// past the token's exp, so a revocation takes effect here within CacheTTL;
// "inactive" is remembered for Config.NegativeTTL (default 1 s). When
// introspection cannot answer (unreachable, timeout, a 5xx, a body that does
// not parse) nothing is cached and the request fails closed with 503
// temporarily_unavailable: a token is never taken as active unless scopegate
// said so.
package resource
