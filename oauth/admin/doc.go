// Package admin is scopegate's administration domain: the one place that
// changes clients, reviews, websites and operators, revokes grants for an
// admin, a leak report or an operator's Disconnect, drops changed clients
// from the in-process cache and writes the audit trail.
//
// # What it owns
//
//   - Service (New), safe for concurrent use. Every method takes ctx first
//     and, when it changes something, the actor to audit ("admin:<label>",
//     "operator:<id>", "client:<id>", "leak-report").
//   - Client lifecycle: creation with documented defaults and the shape
//     invariants (NewClient.Problems), ID minting, the redirect-URI policy
//     (CheckRedirectURI), secret rotation with a grace period,
//     suspend/resume, lowering or setting the approved maximum, deletion.
//   - Reviews: filing (by an admin or by the plugin itself), deciding a
//     line (an approval joins the approved maximum in the same storage
//     step), the admin's file-and-approve shortcut; websites and operators.
//   - Every revocation kind: by token, grant, client or website (Revoke),
//     a token reported leaked (ReportLeak), an operator's Disconnect.
//   - Cache invalidation: after each client change the Cache forgets the
//     client on this instance; the store's pub/sub announcement reaches the
//     others.
//   - The audit trail's one writer (Audit), with the typed kinds
//     storage.Kind*.
//   - Typed errors: ErrNotFound, ErrConflict, ErrInvalid (with the fields
//     to blame) as *Error, matched with errors.Is; storage.ErrUnavailable
//     passes through.
//
// # What it must not import
//
// Gin, net/http or anything of web: handlers decode, call a method and
// encode; the admin API and the admin console call the same methods. It
// imports scopes, storage and storage/token only.
package admin
