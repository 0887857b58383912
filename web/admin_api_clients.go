package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/oauth/oautherr"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/web/adminapi"
)

// The admin API's client routes, /admin/v1/clients...: each decodes,
// calls the service and encodes.

// viewClient is a client as the admin API shows it: never a secret or its
// hash, only when each secret that still verifies expires.
func (a *admin) viewClient(c storage.Client) adminapi.Client {
	v := adminapi.Client{
		ClientID: c.ID, Name: c.Name, Type: string(c.Type), Role: string(c.Role), Status: string(c.Status),
		RedirectURIs: nonNil(c.RedirectURIs), GrantTypes: nonNil(c.GrantTypes), Approved: nonNil(c.Approved.Strings()),
		Secrets: []adminapi.Secret{}, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Publisher: c.Publisher, HomepageURL: c.HomepageURL, PrivacyURL: c.PrivacyURL,
	}
	now := a.now()
	for _, h := range c.Secrets {
		var sv adminapi.Secret
		if h.ExpiresAt.IsZero() {
			sv.Current = true
		} else if now.Before(h.ExpiresAt) {
			t := h.ExpiresAt.UTC()
			sv.ExpiresAt = &t
		} else {
			continue
		}
		if !h.CreatedAt.IsZero() {
			t := h.CreatedAt.UTC()
			sv.CreatedAt = &t
		}
		v.Secrets = append(v.Secrets, sv)
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// createClient is POST /admin/v1/clients. The secret of a confidential
// client is in this answer and nowhere else: only its hash is stored.
func (a *admin) createClient(c *gin.Context) {
	var req adminapi.CreateClientRequest
	fields, ok := a.decode(c, &req, false)
	if !ok {
		return
	}
	n := adminsvc.NewClient{
		ID: req.ID, Name: req.Name, Type: storage.ClientType(req.Type), Role: storage.Role(req.Role),
		RedirectURIs: req.RedirectURIs, GrantTypes: req.GrantTypes, Approve: req.Approve,
		Publisher: req.Publisher, HomepageURL: req.HomepageURL, PrivacyURL: req.PrivacyURL,
	}
	// The validator's complaints and the service's are answered together.
	made, err := a.svc.CreateClient(c.Request.Context(), actor(c), n, fields)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/admin/v1/clients/"+made.Client.ID)
	writeAPI(c, http.StatusCreated, adminapi.ClientCreated{Client: a.viewClient(made.Client), ClientSecret: made.Secret, ReviewID: made.ReviewID})
}

// listClients is GET /admin/v1/clients, oldest first.
func (a *admin) listClients(c *gin.Context) {
	cs, err := a.svc.ListClients(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]adminapi.Client, len(cs))
	for i, cl := range cs {
		out[i] = a.viewClient(cl)
	}
	writeAPI(c, http.StatusOK, adminapi.ClientList{Clients: out})
}

// idParam reads and checks the :id of a route about what; an ID that
// cannot exist is a 404 without a storage call.
func idParam(c *gin.Context, what string, valid func(string) bool) (string, bool) {
	id := c.Param("id")
	if !valid(id) {
		apiFail(c, http.StatusNotFound, oautherr.CodeNotFound, what+" not found")
		return "", false
	}
	return id, true
}

// clientParam reads the :id of a client route.
func clientParam(c *gin.Context) (string, bool) { return idParam(c, "client", validRef) }

// getClient is GET /admin/v1/clients/:id.
func (a *admin) getClient(c *gin.Context) {
	id, ok := clientParam(c)
	if !ok {
		return
	}
	cl, err := a.svc.GetClient(c.Request.Context(), id)
	a.answerClient(c, cl, err)
}

// answerClient answers a client call: the client, or the error.
func (a *admin) answerClient(c *gin.Context, cl storage.Client, err error) {
	if err != nil {
		a.fail(c, err)
		return
	}
	writeAPI(c, http.StatusOK, a.viewClient(cl))
}

// clientBody reads a client route's :id and its JSON body into dst
// (optional: an empty body is allowed); false when it has answered.
func (a *admin) clientBody(c *gin.Context, dst any, optional bool) (string, bool) {
	id, ok := clientParam(c)
	if !ok {
		return "", false
	}
	fields, ok := a.decode(c, dst, optional)
	if !ok || invalid(c, fields) {
		return "", false
	}
	return id, true
}

// updateClient is PATCH /admin/v1/clients/:id: name, redirect URIs, grant
// types, publisher, homepage and privacy URLs.
func (a *admin) updateClient(c *gin.Context) {
	var req adminapi.UpdateClientRequest
	id, ok := a.clientBody(c, &req, false)
	if !ok {
		return
	}
	cl, err := a.svc.UpdateClient(c.Request.Context(), actor(c), id, adminsvc.ClientChange{
		Name: req.Name, RedirectURIs: req.RedirectURIs, GrantTypes: req.GrantTypes,
		Publisher: req.Publisher, HomepageURL: req.HomepageURL, PrivacyURL: req.PrivacyURL,
	})
	a.answerClient(c, cl, err)
}

// rotateSecret is POST /admin/v1/clients/:id/rotate-secret: a new secret,
// shown once; the current one keeps verifying until the grace period ends
// (default one hour; 0 ends it now).
func (a *admin) rotateSecret(c *gin.Context) {
	var req adminapi.RotateRequest
	id, ok := a.clientBody(c, &req, true)
	if !ok {
		return
	}
	grace := adminsvc.DefaultGrace
	if req.GraceSeconds != nil {
		grace = time.Duration(*req.GraceSeconds) * time.Second
	}
	r, err := a.svc.RotateSecret(c.Request.Context(), actor(c), id, grace)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeAPI(c, http.StatusOK, adminapi.Rotated{
		ClientID: id, ClientSecret: r.Secret, OldSecretsExpireAt: r.OldSecretsExpireAt.UTC(), Client: a.viewClient(r.Client),
	})
}

// suspendClient is POST /admin/v1/clients/:id/suspend: introspection
// answers inactive for the client's tokens at once on every instance.
func (a *admin) suspendClient(c *gin.Context) { a.clientStatus(c, a.svc.Suspend) }

// resumeClient is POST /admin/v1/clients/:id/resume.
func (a *admin) resumeClient(c *gin.Context) { a.clientStatus(c, a.svc.Resume) }

func (a *admin) clientStatus(c *gin.Context, set func(ctx context.Context, actor, id string) (storage.Client, error)) {
	var req struct{}
	id, ok := a.clientBody(c, &req, true)
	if !ok {
		return
	}
	cl, err := set(c.Request.Context(), actor(c), id)
	a.answerClient(c, cl, err)
}

// lowerMaximum is POST /admin/v1/clients/:id/lower: remove scopes from the
// approved maximum. Each must be in it (a typo is not silently ignored).
func (a *admin) lowerMaximum(c *gin.Context) { a.clientScopes(c, a.svc.LowerMaximum) }

// setMaximum is PUT /admin/v1/clients/:id/approved: the new approved
// maximum, a subset of the current one (widening goes through a review);
// an empty list is allowed.
func (a *admin) setMaximum(c *gin.Context) { a.clientScopes(c, a.svc.SetMaximum) }

func (a *admin) clientScopes(c *gin.Context, change func(ctx context.Context, actor, id string, scopes []string) (storage.Client, error)) {
	var req adminapi.ScopesRequest
	id, ok := a.clientBody(c, &req, false)
	if !ok {
		return
	}
	cl, err := change(c.Request.Context(), actor(c), id, req.Scopes)
	a.answerClient(c, cl, err)
}

// deleteClient is DELETE /admin/v1/clients/:id: revoke every grant of the
// client, then delete it. The answer counts what was revoked.
func (a *admin) deleteClient(c *gin.Context) {
	id, ok := clientParam(c)
	if !ok {
		return
	}
	n, err := a.svc.DeleteClient(c.Request.Context(), actor(c), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeAPI(c, http.StatusOK, adminapi.Deleted{ClientID: id, Deleted: true, Grants: n.Grants, Tokens: n.Tokens})
}
