package admin

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// NewClient is a client to register. Zero Type is confidential, zero Role
// plugin; nil GrantTypes is the documented default: for a plugin, the
// code flow with refresh when redirect URIs are given, plus client
// credentials for a confidential one. Approve lists scopes the admin
// approves at once, recorded as an admin-filed review.
type NewClient struct {
	ID           string // minted (plg_… or rs_…) when empty
	Name         string
	Type         storage.ClientType
	Role         storage.Role
	RedirectURIs []string
	GrantTypes   []string
	Approve      []string
	Publisher    string
	HomepageURL  string
	PrivacyURL   string
}

// withDefaults is n with its zero Type, Role and nil GrantTypes filled in.
func (n NewClient) withDefaults() NewClient {
	if n.Type == "" {
		n.Type = storage.Confidential
	}
	if n.Role == "" {
		n.Role = storage.RolePlugin
	}
	if n.GrantTypes == nil && n.Role == storage.RolePlugin {
		if len(n.RedirectURIs) > 0 {
			n.GrantTypes = []string{GrantCode, GrantRefresh}
		}
		if n.Type == storage.Confidential {
			n.GrantTypes = append(n.GrantTypes, GrantClientCredentials)
		}
	}
	return n
}

// problems adds n's complaints (after defaults) to bad, the complaints
// its caller found while decoding; keys are JSON field names.
func (n NewClient) problems(bad map[string]string) map[string]string {
	n = n.withDefaults()
	f := addMissing(nil, bad)
	if n.Role == storage.RoleResourceServer && len(n.Approve) > 0 {
		f["approve"] = "resource-server clients get no scopes"
	}
	for i, sc := range n.Approve {
		key := "approve[" + strconv.Itoa(i) + "]"
		if _, err := scopes.ParseScope(sc); err != nil && f[key] == "" {
			f[key] = "must be a scope NAME:read or NAME:write from the catalogue"
		}
	}
	return addMissing(f, shapeProblems(n.record(time.Time{})))
}

func (n NewClient) record(now time.Time) storage.Client {
	return storage.Client{
		ID: n.ID, Name: n.Name, Type: n.Type, Role: n.Role, Status: storage.Active,
		RedirectURIs: n.RedirectURIs, GrantTypes: n.GrantTypes, CreatedAt: now, UpdatedAt: now,
		Publisher: n.Publisher, HomepageURL: n.HomepageURL, PrivacyURL: n.PrivacyURL,
	}
}

// Created is a new client, its secret (confidential clients only; shown
// once, only its hash is stored) and the review recording Approve.
type Created struct {
	Client   storage.Client
	Secret   string
	ReviewID string
}

// CreateClient registers n. bad holds the complaints its caller already
// found while decoding n (nil when none): the service adds its own, and
// nothing is created unless all are empty (an ErrInvalid naming every
// one). A taken ID is an ErrConflict blaming "id".
func (s *Service) CreateClient(ctx context.Context, actor string, n NewClient, bad map[string]string) (Created, error) {
	if err := Invalid(n.problems(bad)); err != nil {
		return Created{}, err
	}
	n = n.withDefaults()
	cl := n.record(s.now())
	if cl.ID == "" {
		prefix := "plg_"
		if cl.Role == storage.RoleResourceServer {
			prefix = "rs_"
		}
		cl.ID = prefix + token.NewID()[:16]
	}
	var out Created
	if cl.Type == storage.Confidential {
		out.Secret = token.NewSecret()
		cl.Secrets = []storage.SecretHash{s.hashNewSecret(out.Secret)}
	}
	if err := s.store.CreateClient(ctx, cl); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return Created{}, conflict("client", "a client with this id already exists", map[string]string{"id": "is taken"})
		}
		return Created{}, fromStore(err, "client")
	}
	s.forget(cl.ID)
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindClientCreated, ClientID: cl.ID, Detail: map[string]string{
		"name": cl.Name, "type": string(cl.Type), "role": string(cl.Role)}})
	out.Client = cl
	if len(n.Approve) > 0 {
		rv, updated, err := s.fileAndApprove(ctx, actor, cl.ID, n.Approve)
		if err != nil {
			return Created{}, fromStore(err, "review")
		}
		out.Client, out.ReviewID = updated, rv.ID
	}
	return out, nil
}

// GetClient returns one client.
func (s *Service) GetClient(ctx context.Context, id string) (storage.Client, error) {
	cl, err := s.store.GetClient(ctx, id)
	return cl, fromStore(err, "client")
}

// ListClients returns every client, oldest first.
func (s *Service) ListClients(ctx context.Context) ([]storage.Client, error) {
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, fromStore(err, "clients")
	}
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].CreatedAt.Equal(cs[j].CreatedAt) {
			return cs[i].CreatedAt.Before(cs[j].CreatedAt)
		}
		return cs[i].ID < cs[j].ID
	})
	return cs, nil
}

// ClientChange is an update of a client; a nil field is left as it is.
// RedirectURIs and GrantTypes replace the lists as a whole; "" clears
// Publisher, HomepageURL or PrivacyURL.
type ClientChange struct {
	Name, Publisher, HomepageURL, PrivacyURL *string
	RedirectURIs, GrantTypes                 *[]string
}

// empty reports whether ch changes nothing.
func (ch ClientChange) empty() bool {
	return ch.Name == nil && ch.RedirectURIs == nil && ch.GrantTypes == nil && ch.Publisher == nil && ch.HomepageURL == nil && ch.PrivacyURL == nil
}

// apply makes ch on cl and returns the JSON names of the changed fields.
func (ch ClientChange) apply(cl *storage.Client) []string {
	var changed []string
	set := func(name string, v *string, dst *string) {
		if v != nil {
			*dst = *v
			changed = append(changed, name)
		}
	}
	setList := func(name string, v *[]string, dst *[]string) {
		if v != nil {
			*dst = slices.Clone(*v)
			changed = append(changed, name)
		}
	}
	set("name", ch.Name, &cl.Name)
	setList("redirect_uris", ch.RedirectURIs, &cl.RedirectURIs)
	setList("grant_types", ch.GrantTypes, &cl.GrantTypes)
	set("publisher", ch.Publisher, &cl.Publisher)
	set("homepage_url", ch.HomepageURL, &cl.HomepageURL)
	set("privacy_url", ch.PrivacyURL, &cl.PrivacyURL)
	return changed
}

// UpdateClient applies ch atomically; the result must still fit together
// (an ErrInvalid blaming the fields otherwise). An empty ch is ErrInvalid.
func (s *Service) UpdateClient(ctx context.Context, actor, id string, ch ClientChange) (storage.Client, error) {
	if ch.empty() {
		return storage.Client{}, &Error{Kind: ErrInvalid, What: "client",
			Description: "nothing to change: give name, redirect_uris, grant_types, publisher, homepage_url or privacy_url"}
	}
	var changed []string
	cl, err := s.store.UpdateClient(ctx, id, func(cl storage.Client) (storage.Client, error) {
		changed = ch.apply(&cl)
		if err := Invalid(shapeProblems(cl)); err != nil {
			return cl, err
		}
		cl.UpdatedAt = s.now()
		return cl, nil
	})
	if err != nil {
		return cl, fromStore(err, "client")
	}
	s.forget(id)
	detail := map[string]string{"changed": strings.Join(changed, ",")}
	if ch.RedirectURIs != nil {
		detail["redirect_uris"] = strings.Join(cl.RedirectURIs, ",")
	}
	if ch.GrantTypes != nil {
		detail["grant_types"] = strings.Join(cl.GrantTypes, ",")
	}
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindClientUpdated, ClientID: id, Detail: detail})
	return cl, nil
}

// Suspend makes every token of the client inactive at once, here and
// (through the store's announcement) on every instance, until Resume.
func (s *Service) Suspend(ctx context.Context, actor, id string) (storage.Client, error) {
	return s.setStatus(ctx, actor, id, storage.Suspended, storage.KindClientSuspended)
}

// Resume makes a suspended client's unexpired tokens active again.
func (s *Service) Resume(ctx context.Context, actor, id string) (storage.Client, error) {
	return s.setStatus(ctx, actor, id, storage.Active, storage.KindClientResumed)
}

func (s *Service) setStatus(ctx context.Context, actor, id string, st storage.Status, kind string) (storage.Client, error) {
	cl, err := s.store.UpdateClient(ctx, id, func(cl storage.Client) (storage.Client, error) {
		cl.Status, cl.UpdatedAt = st, s.now()
		return cl, nil
	})
	if err != nil {
		return cl, fromStore(err, "client")
	}
	s.forget(id)
	s.Audit(ctx, actor, storage.Event{Kind: kind, ClientID: id})
	return cl, nil
}

// DeleteClient revokes every grant of the client, then deletes it, and
// returns the counts revoked.
func (s *Service) DeleteClient(ctx context.Context, actor, id string) (storage.Revocation, error) {
	if _, err := s.store.GetClient(ctx, id); err != nil {
		return storage.Revocation{}, fromStore(err, "client")
	}
	n, err := s.store.RevokeClient(ctx, id)
	if err != nil {
		return n, fromStore(err, "client")
	}
	if err := s.store.DeleteClient(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return n, fromStore(err, "client")
	}
	s.forget(id)
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindClientDeleted, ClientID: id, Detail: map[string]string{
		"grants": strconv.Itoa(n.Grants), "tokens": strconv.Itoa(n.Tokens)}})
	return n, nil
}
