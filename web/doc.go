// Package web is scopegate's HTTP surface on Gin: the OAuth endpoints (whose
// protocol logic lives in package oauth), the operator pages (login,
// website choice, consent, connected plugins), the admin API and the admin
// console (overview with the kill switch, clients, audit timeline, review
// queue), health, readiness and Prometheus metrics.
//
// Pages are server-rendered from embedded templates with no external
// assets; every form carries a CSRF token; every response forbids framing
// (X-Frame-Options: DENY, CSP frame-ancestors 'none'). Request bodies of
// the admin API are validated with validator/v10.
//
// The administration domain (client lifecycle, reviews, every revocation
// kind, cache invalidation, the audit trail) is package oauth/admin: the
// admin API, the console, leak reports and Disconnect decode, call it and
// encode. The admin and plugin API's wire types are package web/adminapi,
// checked against openapi.yaml.
//
// It imports oauth (and oauth/admin, oauth/oautherr), scopes and storage; nothing imports it but cmd (and
// tests). *gin.Context never goes below this package.
package web
