package web

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web/adminapi"
)

// Grant types a client may be registered for.
const (
	gtCode    = "authorization_code"
	gtRefresh = "refresh_token"
	gtCC      = "client_credentials"
)

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
	if fields == nil {
		fields = map[string]string{}
	}
	if req.Type == "" {
		req.Type = string(storage.Confidential)
	}
	if req.Role == "" {
		req.Role = string(storage.RolePlugin)
	}
	if req.GrantTypes == nil && req.Role == string(storage.RolePlugin) {
		// Documented default: the code flow (with refresh) when redirect
		// URIs are given, client credentials for a confidential client.
		if len(req.RedirectURIs) > 0 {
			req.GrantTypes = []string{gtCode, gtRefresh}
		}
		if req.Type == string(storage.Confidential) {
			req.GrantTypes = append(req.GrantTypes, gtCC)
		}
	}
	if req.Role == string(storage.RoleResourceServer) && len(req.Approve) > 0 {
		fields["approve"] = "resource-server clients get no scopes"
	}
	now := a.now()
	cl := storage.Client{
		ID: req.ID, Name: req.Name, Type: storage.ClientType(req.Type), Role: storage.Role(req.Role), Status: storage.Active,
		RedirectURIs: req.RedirectURIs, GrantTypes: req.GrantTypes, CreatedAt: now, UpdatedAt: now,
		Publisher: req.Publisher, HomepageURL: req.HomepageURL, PrivacyURL: req.PrivacyURL,
	}
	for k, v := range clientShape(cl) {
		if _, seen := fields[k]; !seen {
			fields[k] = v
		}
	}
	if invalid(c, fields) {
		return
	}
	if cl.ID == "" {
		prefix := "plg_"
		if cl.Role == storage.RoleResourceServer {
			prefix = "rs_"
		}
		cl.ID = prefix + token.NewID()[:16]
	}
	var secret string
	if cl.Type == storage.Confidential {
		secret = token.NewSecret()
		cl.Secrets = []storage.SecretHash{a.hashNewSecret(secret)}
	}
	ctx := c.Request.Context()
	if err := a.store.CreateClient(ctx, cl); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			writeAPI(c, http.StatusConflict, adminapi.Error{Code: "conflict", Description: "a client with this id already exists",
				Fields: map[string]string{"id": "is taken"}})
			return
		}
		a.storageFail(c, err, "client")
		return
	}
	a.Forget(cl.ID)
	a.audit(c, storage.Event{Kind: "client.created", ClientID: cl.ID, Detail: map[string]string{
		"name": cl.Name, "type": string(cl.Type), "role": string(cl.Role)}})
	resp := adminapi.ClientCreated{ClientSecret: secret}
	if len(req.Approve) > 0 {
		lines := make([]storage.ReviewLine, len(req.Approve))
		for i, sc := range req.Approve {
			lines[i] = storage.ReviewLine{Scope: sc, Justification: "Approved directly by an administrator when the client was created.", Status: storage.LinePending}
		}
		rv, updated, err := a.fileAndApprove(c, cl.ID, lines)
		if err != nil {
			a.storageFail(c, err, "review")
			return
		}
		cl, resp.ReviewID = updated, rv.ID
	}
	resp.Client = a.viewClient(cl)
	c.Header("Location", "/admin/v1/clients/"+cl.ID)
	writeAPI(c, http.StatusCreated, resp)
}

// fileAndApprove is the admin's shortcut: an admin-filed review whose lines
// are approved at once, so the approval is in the history like any other.
func (a *admin) fileAndApprove(c *gin.Context, clientID string, lines []storage.ReviewLine) (storage.Review, storage.Client, error) {
	ctx := c.Request.Context()
	rv := storage.Review{ID: token.NewID(), ClientID: clientID, FiledBy: actor(c), Lines: lines, CreatedAt: a.now()}
	if err := a.store.CreateReview(ctx, rv); err != nil {
		return rv, storage.Client{}, err
	}
	a.audit(c, storage.Event{Kind: "review.filed", ClientID: clientID, Detail: map[string]string{"review_id": rv.ID, "lines": strconv.Itoa(len(lines))}})
	var cl storage.Client
	for i := range lines {
		var err error
		rv, cl, err = a.store.DecideLine(ctx, rv.ID, i, true, actor(c), "admin shortcut", a.now())
		if err != nil {
			return rv, cl, err
		}
		a.audit(c, storage.Event{Kind: "review.line_approved", ClientID: clientID, Detail: map[string]string{
			"review_id": rv.ID, "line": strconv.Itoa(i), "scope": lines[i].Scope}})
	}
	a.Forget(clientID)
	return rv, cl, nil
}

// clientShape checks that a client's fields fit together; keys are the
// JSON fields to blame.
func clientShape(c storage.Client) map[string]string {
	f := map[string]string{}
	has := func(g string) bool { return slices.Contains(c.GrantTypes, g) }
	if c.Role == storage.RoleResourceServer {
		if len(c.GrantTypes) > 0 {
			f["grant_types"] = "must be empty for a resource-server client (it obtains no tokens)"
		}
		if len(c.RedirectURIs) > 0 {
			f["redirect_uris"] = "must be empty for a resource-server client"
		}
		if c.Type != storage.Confidential {
			f["type"] = "must be confidential for a resource-server client (it authenticates to introspect)"
		}
		return f
	}
	switch {
	case len(c.GrantTypes) == 0 && c.Type == storage.Public:
		f["redirect_uris"] = "are required for a public client (it can only use authorization_code)"
	case len(c.GrantTypes) == 0:
		f["grant_types"] = "a plugin needs at least one grant type"
	case has(gtCC) && c.Type == storage.Public:
		f["grant_types"] = "client_credentials needs a confidential client"
	case has(gtRefresh) && !has(gtCode):
		f["grant_types"] = "refresh_token needs authorization_code"
	}
	if has(gtCode) && len(c.RedirectURIs) == 0 {
		f["redirect_uris"] = "at least one is required for authorization_code"
	}
	return f
}

// listClients is GET /admin/v1/clients.
func (a *admin) listClients(c *gin.Context) {
	cs, err := a.store.ListClients(c.Request.Context())
	if err != nil {
		a.storageFail(c, err, "clients")
		return
	}
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].CreatedAt.Equal(cs[j].CreatedAt) {
			return cs[i].CreatedAt.Before(cs[j].CreatedAt)
		}
		return cs[i].ID < cs[j].ID
	})
	out := make([]adminapi.Client, len(cs))
	for i, cl := range cs {
		out[i] = a.viewClient(cl)
	}
	writeAPI(c, http.StatusOK, adminapi.ClientList{Clients: out})
}

// clientParam reads and checks the :id of a client route; an ID that
// cannot exist is a 404 without a storage call.
func clientParam(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if !validRef(id) {
		apiFail(c, http.StatusNotFound, "not_found", "client not found")
		return "", false
	}
	return id, true
}

// getClient is GET /admin/v1/clients/:id.
func (a *admin) getClient(c *gin.Context) {
	id, ok := clientParam(c)
	if !ok {
		return
	}
	cl, err := a.store.GetClient(c.Request.Context(), id)
	if err != nil {
		a.storageFail(c, err, "client")
		return
	}
	writeAPI(c, http.StatusOK, a.viewClient(cl))
}

// errShape carries clientShape's complaints out of an update function.
type errShape map[string]string

func (e errShape) Error() string { return "client fields do not fit together" }

// updateClient is PATCH /admin/v1/clients/:id: name, redirect URIs, grant
// types. Redirect URIs and grant types are replaced as a whole.
func (a *admin) updateClient(c *gin.Context) {
	id, ok := clientParam(c)
	if !ok {
		return
	}
	var req adminapi.UpdateClientRequest
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	if req.Name == nil && req.RedirectURIs == nil && req.GrantTypes == nil && req.Publisher == nil && req.HomepageURL == nil && req.PrivacyURL == nil {
		apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "nothing to change: give name, redirect_uris, grant_types, publisher, homepage_url or privacy_url")
		return
	}
	changed := []string{}
	cl, err := a.store.UpdateClient(c.Request.Context(), id, func(cl storage.Client) (storage.Client, error) {
		changed = changed[:0]
		if req.Name != nil {
			cl.Name = *req.Name
			changed = append(changed, "name")
		}
		if req.RedirectURIs != nil {
			cl.RedirectURIs = slices.Clone(*req.RedirectURIs)
			changed = append(changed, "redirect_uris")
		}
		if req.GrantTypes != nil {
			cl.GrantTypes = slices.Clone(*req.GrantTypes)
			changed = append(changed, "grant_types")
		}
		for _, f := range []struct {
			name string
			v    *string
			dst  *string
		}{{"publisher", req.Publisher, &cl.Publisher}, {"homepage_url", req.HomepageURL, &cl.HomepageURL}, {"privacy_url", req.PrivacyURL, &cl.PrivacyURL}} {
			if f.v != nil {
				*f.dst = *f.v
				changed = append(changed, f.name)
			}
		}
		if f := clientShape(cl); len(f) > 0 {
			return cl, errShape(f)
		}
		cl.UpdatedAt = a.now()
		return cl, nil
	})
	if !a.updated(c, id, err) {
		return
	}
	detail := map[string]string{"changed": joinComma(changed)}
	if req.RedirectURIs != nil {
		detail["redirect_uris"] = joinComma(cl.RedirectURIs)
	}
	if req.GrantTypes != nil {
		detail["grant_types"] = joinComma(cl.GrantTypes)
	}
	a.audit(c, storage.Event{Kind: "client.updated", ClientID: id, Detail: detail})
	writeAPI(c, http.StatusOK, a.viewClient(cl))
}

// rotateSecret is POST /admin/v1/clients/:id/rotate-secret: a new secret,
// shown once; the current one keeps verifying until the grace period ends
// (0 ends it now). Secrets already expired are dropped.
func (a *admin) rotateSecret(c *gin.Context) {
	id, ok := clientParam(c)
	if !ok {
		return
	}
	var req adminapi.RotateRequest
	fields, ok := a.decode(c, &req, true)
	if !ok || invalid(c, fields) {
		return
	}
	grace := defaultGraceSeconds
	if req.GraceSeconds != nil {
		grace = *req.GraceSeconds
	}
	secret, until, cl, err := a.rotateClientSecret(c, id, grace)
	if errors.Is(err, errPublicClient) {
		apiFail(c, http.StatusConflict, "conflict", "public clients have no secret")
		return
	}
	if err != nil {
		a.storageFail(c, err, "client")
		return
	}
	writeAPI(c, http.StatusOK, adminapi.Rotated{
		ClientID: id, ClientSecret: secret, OldSecretsExpireAt: until.UTC(), Client: a.viewClient(cl),
	})
}

// errPublicClient: a public client has no secret to rotate.
var errPublicClient = errors.New("public clients have no secret")

// rotateClientSecret gives the client a new secret (returned, never
// stored) and lets its current ones verify for grace more seconds, then
// audits. One code path for the API and the console.
func (a *admin) rotateClientSecret(c *gin.Context, id string, grace int) (string, time.Time, storage.Client, error) {
	secret := token.NewSecret()
	now := a.now()
	until := now.Add(time.Duration(grace) * time.Second)
	cl, err := a.store.UpdateClient(c.Request.Context(), id, func(cl storage.Client) (storage.Client, error) {
		if cl.Type != storage.Confidential {
			return cl, errPublicClient
		}
		kept := make([]storage.SecretHash, 0, len(cl.Secrets)+1)
		for _, h := range cl.Secrets {
			if !h.ExpiresAt.IsZero() && !now.Before(h.ExpiresAt) {
				continue // already expired
			}
			if grace == 0 {
				continue
			}
			if h.ExpiresAt.IsZero() || until.Before(h.ExpiresAt) {
				h.ExpiresAt = until
			}
			kept = append(kept, h)
		}
		cl.Secrets = append(kept, a.hashNewSecret(secret))
		cl.UpdatedAt = now
		return cl, nil
	})
	if err != nil {
		return "", until, cl, err
	}
	a.Forget(id)
	a.audit(c, storage.Event{Kind: "client.secret_rotated", ClientID: id, Detail: map[string]string{
		"grace_seconds": strconv.Itoa(grace), "old_secrets_expire_at": until.UTC().Format(time.RFC3339)}})
	return secret, until, cl, nil
}

// hashNewSecret is the stored form of a new secret, stamped with when it
// was made (the console shows it).
func (a *admin) hashNewSecret(secret string) storage.SecretHash {
	h := oauth.HashSecret(secret)
	h.CreatedAt = a.now().UTC()
	return h
}

func (a *admin) suspendClient(c *gin.Context) { a.setStatus(c, storage.Suspended, "client.suspended") }
func (a *admin) resumeClient(c *gin.Context)  { a.setStatus(c, storage.Active, "client.resumed") }

// setStatus suspends or resumes a client. Introspection answers inactive
// for a suspended client's tokens at once here and, through the store's
// pub/sub announcement, on other instances.
func (a *admin) setStatus(c *gin.Context, st storage.Status, kind string) {
	id, ok := clientParam(c)
	if !ok {
		return
	}
	var req struct{}
	fields, ok := a.decode(c, &req, true)
	if !ok || invalid(c, fields) {
		return
	}
	cl, err := a.setClientStatus(c, id, st, kind)
	if err != nil {
		a.storageFail(c, err, "client")
		return
	}
	writeAPI(c, http.StatusOK, a.viewClient(cl))
}

// setClientStatus stores the client's new status, drops it from this
// instance's cache and audits kind: the API's and the console's one path.
func (a *admin) setClientStatus(c *gin.Context, id string, st storage.Status, kind string) (storage.Client, error) {
	cl, err := a.store.UpdateClient(c.Request.Context(), id, func(cl storage.Client) (storage.Client, error) {
		cl.Status, cl.UpdatedAt = st, a.now()
		return cl, nil
	})
	if err != nil {
		return cl, err
	}
	a.Forget(id)
	a.audit(c, storage.Event{Kind: kind, ClientID: id})
	return cl, nil
}

// lowerMaximum is POST /admin/v1/clients/:id/lower: remove scopes from the
// approved maximum. Each must be in it (a typo is not silently ignored).
func (a *admin) lowerMaximum(c *gin.Context) {
	a.changeMaximum(c, func(cur scopes.Set, req []string) (scopes.Set, map[string]string) {
		f := map[string]string{}
		remove := parseScopes(req)
		for i, sc := range req {
			if s, _ := scopes.Parse(sc); !s.SubsetOf(cur) {
				f["scopes["+strconv.Itoa(i)+"]"] = "is not in the approved maximum"
			}
		}
		return cur.Difference(remove), f
	})
}

// setMaximum is PUT /admin/v1/clients/:id/approved: the new approved
// maximum, which must be a subset of the current one (widening goes
// through a review).
func (a *admin) setMaximum(c *gin.Context) { a.changeMaximum(c, narrowTo) }

// narrowTo makes req the new maximum if it is a subset of cur.
func narrowTo(cur scopes.Set, req []string) (scopes.Set, map[string]string) {
	f := map[string]string{}
	for i, sc := range req {
		if s, _ := scopes.Parse(sc); !s.SubsetOf(cur) {
			f["scopes["+strconv.Itoa(i)+"]"] = "is not in the approved maximum; widening needs a review"
		}
	}
	return parseScopes(req), f
}

func parseScopes(ss []string) scopes.Set {
	var out scopes.Set
	for _, s := range ss {
		if set, err := scopes.Parse(s); err == nil {
			out = out.Union(set)
		}
	}
	return out
}

func (a *admin) changeMaximum(c *gin.Context, fn func(cur scopes.Set, req []string) (scopes.Set, map[string]string)) {
	id, ok := clientParam(c)
	if !ok {
		return
	}
	// An empty list is a valid request: for PUT it is the new maximum.
	var req adminapi.ScopesRequest
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	cl, err := a.changeClientMaximum(c, id, req.Scopes, fn)
	if !a.updated(c, id, err) {
		return
	}
	writeAPI(c, http.StatusOK, a.viewClient(cl))
}

// changeClientMaximum applies fn to the client's approved maximum
// atomically (an errShape names bad scopes), drops the client from this
// instance's cache and audits: the API's and the console's one path.
func (a *admin) changeClientMaximum(c *gin.Context, id string, req []string, fn func(cur scopes.Set, req []string) (scopes.Set, map[string]string)) (storage.Client, error) {
	var before scopes.Set
	cl, err := a.store.UpdateClient(c.Request.Context(), id, func(cl storage.Client) (storage.Client, error) {
		next, f := fn(cl.Approved, req)
		if len(f) > 0 {
			return cl, errShape(f)
		}
		before = cl.Approved
		cl.Approved, cl.UpdatedAt = next, a.now()
		return cl, nil
	})
	if err != nil {
		return cl, err
	}
	a.Forget(id)
	a.audit(c, storage.Event{Kind: "client.maximum_lowered", ClientID: id, Detail: map[string]string{
		"removed": before.Difference(cl.Approved).String(), "approved": cl.Approved.String()}})
	return cl, nil
}

// deleteClient is DELETE /admin/v1/clients/:id: revoke every grant of the
// client, then delete it. The answer counts what was revoked.
func (a *admin) deleteClient(c *gin.Context) {
	id, ok := clientParam(c)
	if !ok {
		return
	}
	n, err := a.deleteClientAll(c, id)
	if err != nil {
		a.storageFail(c, err, "client")
		return
	}
	writeAPI(c, http.StatusOK, adminapi.Deleted{ClientID: id, Deleted: true, Grants: n.Grants, Tokens: n.Tokens})
}

// deleteClientAll revokes every grant of the client, deletes it and
// audits: the API's and the console's one path.
func (a *admin) deleteClientAll(c *gin.Context, id string) (storage.Revocation, error) {
	ctx := c.Request.Context()
	if _, err := a.store.GetClient(ctx, id); err != nil {
		return storage.Revocation{}, err
	}
	n, err := a.store.RevokeClient(ctx, id)
	if err != nil {
		return n, err
	}
	if err := a.store.DeleteClient(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return n, err
	}
	a.Forget(id)
	a.audit(c, storage.Event{Kind: "client.deleted", ClientID: id, Detail: map[string]string{
		"grants": strconv.Itoa(n.Grants), "tokens": strconv.Itoa(n.Tokens)}})
	return n, nil
}

// Forget drops a changed client from this instance's cache.
func (a *admin) Forget(clientID string) {
	if a.p != nil {
		a.p.Forget(clientID)
	}
}

// audit appends an admin event with the admin as actor. A failure is
// logged: the change is already made and must be reported as made.
func (a *admin) audit(c *gin.Context, e storage.Event) {
	e.Time = a.now()
	if e.Actor == "" {
		e.Actor = actor(c)
	}
	if err := a.store.AppendEvent(c.Request.Context(), e); err != nil {
		a.log.Error("audit: append failed", "kind", e.Kind, "err", err)
	}
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// updated answers a failed client update (bad fields: 400 naming them;
// anything else: the storage answer) and reports whether it succeeded, in
// which case this instance's client cache forgets the client at once.
func (a *admin) updated(c *gin.Context, id string, err error) bool {
	var shape errShape
	if errors.As(err, &shape) {
		invalid(c, shape)
		return false
	}
	if err != nil {
		a.storageFail(c, err, "client")
		return false
	}
	a.Forget(id)
	return true
}
