package admin_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

const actor = "admin:tester"

// forgetful is a client cache that records what it was told to forget.
type forgetful struct {
	mu  sync.Mutex
	ids []string
}

func (f *forgetful) Forget(id string) { f.mu.Lock(); f.ids = append(f.ids, id); f.mu.Unlock() }

func (f *forgetful) forgot(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.ids, id)
}

type env struct {
	svc     *admin.Service
	store   *storage.Redis
	cache   *forgetful
	revoked []admin.RevocationKind
}

// newEnv is a service over a real redis-server.
func newEnv(t *testing.T) *env {
	t.Helper()
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	e := &env{store: storage.NewRedis(rdb, storage.RedisOptions{}), cache: &forgetful{}}
	e.svc = admin.New(admin.Options{Store: e.store, Cache: e.cache,
		Revoked: func(k admin.RevocationKind) { e.revoked = append(e.revoked, k) }})
	return e
}

// events returns the kinds of the audit trail, oldest first, and checks
// each is a known audit kind with an actor.
func (e *env) events(t *testing.T) []string {
	t.Helper()
	evs, err := e.store.ListEvents(t.Context(), storage.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		if !slices.Contains(storage.AuditKinds(), ev.Kind) {
			t.Errorf("event kind %q is not an audit kind", ev.Kind)
		}
		if ev.Actor == "" || ev.Time.IsZero() {
			t.Errorf("event %s: actor %q, time %v", ev.Kind, ev.Actor, ev.Time)
		}
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

func wantKind(t *testing.T, err, kind error) *admin.Error {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	var e *admin.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v is not an *admin.Error", err)
	}
	return e
}

func wantFields(t *testing.T, err error, keys ...string) {
	t.Helper()
	e := wantKind(t, err, admin.ErrInvalid)
	got := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("fields = %v, want keys %v", e.Fields, keys)
	}
}

func TestCreateClientDefaultsAndShortcut(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	made, err := e.svc.CreateClient(ctx, actor, admin.NewClient{Name: "Plugin", RedirectURIs: []string{"https://p.example/cb"},
		Approve: []string{"website:people:data:write", "plugin:subscription:bill:read"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := made.Client
	if !strings.HasPrefix(cl.ID, "plg_") || cl.Type != storage.Confidential || cl.Role != storage.RolePlugin || cl.Status != storage.Active {
		t.Errorf("client = %+v", cl)
	}
	if want := []string{admin.GrantCode, admin.GrantRefresh, admin.GrantClientCredentials}; !slices.Equal(cl.GrantTypes, want) {
		t.Errorf("grant types %v, want %v", cl.GrantTypes, want)
	}
	if got := cl.Approved.String(); got != "website:people:data:write plugin:subscription:bill:read" {
		t.Errorf("approved %q", got)
	}
	stored, err := e.store.GetClient(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(made.Secret, "sgs_") && made.Secret == "" {
		t.Errorf("secret %q", made.Secret)
	}
	if !stored.VerifySecret(made.Secret, time.Now()) || stored.VerifySecret(made.Secret+"x", time.Now()) {
		t.Error("the stored hash does not verify exactly the returned secret")
	}
	rv, err := e.svc.GetReview(ctx, made.ReviewID)
	if err != nil || rv.FiledBy != actor || rv.Pending() || len(rv.Lines) != 2 {
		t.Errorf("review %+v, %v", rv, err)
	}
	if !e.cache.forgot(cl.ID) {
		t.Error("the cache did not forget the new client")
	}
	want := []string{storage.KindClientCreated, storage.KindReviewFiled, storage.KindReviewLineApproved, storage.KindReviewLineApproved}
	if got := e.events(t); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}

	// A public client: no secret, code flow only.
	pub, err := e.svc.CreateClient(ctx, actor, admin.NewClient{Name: "SPA", Type: storage.Public, RedirectURIs: []string{"http://127.0.0.1:9/cb"}}, nil)
	if err != nil || pub.Secret != "" || len(pub.Client.Secrets) != 0 || slices.Contains(pub.Client.GrantTypes, admin.GrantClientCredentials) {
		t.Errorf("public client %+v, %v", pub, err)
	}
	rsrv, err := e.svc.CreateClient(ctx, actor, admin.NewClient{Name: "API", Role: storage.RoleResourceServer}, nil)
	if err != nil || !strings.HasPrefix(rsrv.Client.ID, "rs_") || len(rsrv.Client.GrantTypes) != 0 {
		t.Errorf("resource server %+v, %v", rsrv, err)
	}
}

func TestCreateClientInvalid(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		n     admin.NewClient
		bad   map[string]string
		wantF []string
	}{
		{"resource server with grants and scopes", admin.NewClient{Name: "x", Role: storage.RoleResourceServer,
			GrantTypes: []string{admin.GrantClientCredentials}, Approve: []string{"plugin:subscription:bill:read"}}, nil, []string{"grant_types", "approve"}},
		{"public resource server", admin.NewClient{Name: "x", Role: storage.RoleResourceServer, Type: storage.Public}, nil, []string{"type"}},
		{"public without redirect", admin.NewClient{Name: "x", Type: storage.Public}, nil, []string{"redirect_uris"}},
		{"public with client credentials", admin.NewClient{Name: "x", Type: storage.Public, RedirectURIs: []string{"https://a.example/cb"},
			GrantTypes: []string{admin.GrantCode, admin.GrantClientCredentials}}, nil, []string{"grant_types"}},
		{"refresh without code", admin.NewClient{Name: "x", GrantTypes: []string{admin.GrantRefresh}}, nil, []string{"grant_types"}},
		{"code without redirect", admin.NewClient{Name: "x", GrantTypes: []string{admin.GrantCode}}, nil, []string{"redirect_uris"}},
		{"no grant types", admin.NewClient{Name: "x", GrantTypes: []string{}}, nil, []string{"grant_types"}},
		{"unknown scope approved", admin.NewClient{Name: "x", GrantTypes: []string{admin.GrantClientCredentials},
			Approve: []string{"plugin:subscription:bill:read", "website:nope:read"}}, nil, []string{"approve[1]"}},
		{"decoder's complaints come first", admin.NewClient{Name: "x", GrantTypes: []string{admin.GrantCode}},
			map[string]string{"redirect_uris": "from the decoder", "name": "is required"}, []string{"redirect_uris", "name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.CreateClient(t.Context(), actor, tt.n, tt.bad)
			wantFields(t, err, tt.wantF...)
			if f := wantKind(t, err, admin.ErrInvalid).Fields; tt.bad != nil && f["redirect_uris"] != "from the decoder" {
				t.Errorf("the decoder's complaint was replaced: %v", f)
			}
		})
	}
	if cs, _ := e.svc.ListClients(t.Context()); len(cs) != 0 {
		t.Errorf("invalid clients were created: %v", cs)
	}
	if _, err := e.svc.CreateClient(t.Context(), actor, admin.NewClient{ID: "plg_fixed", Name: "A", GrantTypes: []string{admin.GrantClientCredentials}}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateClient(t.Context(), actor, admin.NewClient{ID: "plg_fixed", Name: "B", GrantTypes: []string{admin.GrantClientCredentials}}, nil)
	if f := wantKind(t, err, admin.ErrConflict).Fields; f["id"] != "is taken" {
		t.Errorf("conflict fields %v", f)
	}
}

func newPlugin(t *testing.T, e *env, approve ...string) storage.Client {
	t.Helper()
	made, err := e.svc.CreateClient(t.Context(), actor, admin.NewClient{Name: "Plugin", RedirectURIs: []string{"https://p.example/cb"}, Approve: approve}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return made.Client
}

func TestClientLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cl := newPlugin(t, e, "website:people:data:read", "website:people:data:write")
	old := cl.Secrets[0]

	// Rotation with grace keeps the old secret until then; 0 drops it.
	r, err := e.svc.RotateSecret(ctx, actor, cl.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Client.Secrets) != 2 || r.Client.Secrets[0].Hash != old.Hash || !r.Client.Secrets[0].ExpiresAt.Equal(r.OldSecretsExpireAt) {
		t.Errorf("after a 1 h rotation: %+v", r.Client.Secrets)
	}
	if !r.Client.VerifySecret(r.Secret, time.Now()) {
		t.Error("the new secret does not verify")
	}
	r0, err := e.svc.RotateSecret(ctx, actor, cl.ID, 0)
	if err != nil || len(r0.Client.Secrets) != 1 || r0.Client.VerifySecret(r.Secret, time.Now()) {
		t.Errorf("after a 0 s rotation: %+v, %v", r0.Client.Secrets, err)
	}
	wantFields(t, func() error { _, err := e.svc.RotateSecret(ctx, actor, cl.ID, admin.MaxGrace+time.Second); return err }(), "grace_seconds")
	pub, _ := e.svc.CreateClient(ctx, actor, admin.NewClient{Name: "SPA", Type: storage.Public, RedirectURIs: []string{"https://s.example/cb"}}, nil)
	_, err = e.svc.RotateSecret(ctx, actor, pub.Client.ID, time.Hour)
	wantKind(t, err, admin.ErrConflict)
	if !errors.Is(err, admin.ErrPublicClient) {
		t.Errorf("public rotation: %v", err)
	}

	// Suspend and resume.
	if got, err := e.svc.Suspend(ctx, actor, cl.ID); err != nil || got.Status != storage.Suspended {
		t.Errorf("suspend: %v %v", got.Status, err)
	}
	if got, err := e.svc.Resume(ctx, actor, cl.ID); err != nil || got.Status != storage.Active {
		t.Errorf("resume: %v %v", got.Status, err)
	}

	// The maximum only narrows, and each scope named must be in it.
	_, err = e.svc.LowerMaximum(ctx, actor, cl.ID, []string{"website:people:data:write", "plugin:subscription:bill:read"})
	wantFields(t, err, "scopes[1]")
	_, err = e.svc.SetMaximum(ctx, actor, cl.ID, []string{"bucket:url:write"})
	wantFields(t, err, "scopes[0]")
	_, err = e.svc.LowerMaximum(ctx, actor, cl.ID, []string{"website:people"})
	wantFields(t, err, "scopes[0]")
	got, err := e.svc.LowerMaximum(ctx, actor, cl.ID, []string{"website:people:data:write"})
	if err != nil || got.Approved.String() != "website:people:data:read" {
		t.Errorf("lowered: %q %v", got.Approved.String(), err)
	}
	if got, err = e.svc.SetMaximum(ctx, actor, cl.ID, []string{}); err != nil || !got.Approved.IsEmpty() {
		t.Errorf("set to nothing: %q %v", got.Approved.String(), err)
	}

	// Updates keep the shape.
	_, err = e.svc.UpdateClient(ctx, actor, cl.ID, admin.ClientChange{})
	wantKind(t, err, admin.ErrInvalid)
	empty := []string{}
	_, err = e.svc.UpdateClient(ctx, actor, cl.ID, admin.ClientChange{RedirectURIs: &empty})
	wantFields(t, err, "redirect_uris")
	name := "Renamed"
	if got, err := e.svc.UpdateClient(ctx, actor, cl.ID, admin.ClientChange{Name: &name}); err != nil || got.Name != name {
		t.Errorf("rename: %q %v", got.Name, err)
	}
	_, err = e.svc.UpdateClient(ctx, actor, "plg_missing", admin.ClientChange{Name: &name})
	wantKind(t, err, admin.ErrNotFound)

	// Deletion revokes, then deletes.
	if _, err := e.svc.DeleteClient(ctx, actor, cl.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetClient(ctx, cl.ID)
	wantKind(t, err, admin.ErrNotFound)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Error("a not-found service error does not unwrap to storage.ErrNotFound")
	}
	_, err = e.svc.DeleteClient(ctx, actor, cl.ID)
	wantKind(t, err, admin.ErrNotFound)

	kinds := e.events(t)
	for _, k := range []string{storage.KindClientSecretRotated, storage.KindClientSuspended, storage.KindClientResumed,
		storage.KindClientMaximumLowered, storage.KindClientUpdated, storage.KindClientDeleted} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s event in %v", k, kinds)
		}
	}
}

func TestReviews(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cl := newPlugin(t, e, "website:people:data:read")
	why := "We sync contact records from the CRM into the website."
	_, err := e.svc.FileReview(ctx, actor, "plg_missing", []admin.ReviewLine{{Scope: "bucket:url:write", Justification: why}})
	wantFields(t, err, "client_id")
	_, err = e.svc.FileReview(ctx, actor, cl.ID, []admin.ReviewLine{
		{Scope: "website:people:data:read", Justification: why}, {Scope: "bucket:url:write", Justification: why}, {Scope: "bucket:url:write", Justification: why}})
	wantFields(t, err, "lines[0].scope", "lines[2].scope")

	rv, err := e.svc.FileClientReview(ctx, cl, []admin.ReviewLine{{Scope: "bucket:url:write", Justification: "  " + why}, {Scope: "website:people:data:write", Justification: why}})
	if err != nil || rv.FiledBy != "client" || rv.Lines[0].Justification != why {
		t.Fatalf("filed %+v, %v", rv, err)
	}
	if rs, err := e.svc.ListReviews(ctx, admin.ReviewsPending, ""); err != nil || len(rs) != 1 {
		t.Errorf("pending: %d %v", len(rs), err)
	}
	_, got, err := e.svc.Decide(ctx, actor, rv.ID, 0, true, " fine ")
	if err != nil || !scopes.MustParse("bucket:url:write").SubsetOf(got.Approved) {
		t.Fatalf("approve: %q %v", got.Approved.String(), err)
	}
	if !e.cache.forgot(cl.ID) {
		t.Error("the cache did not forget the client whose maximum grew")
	}
	_, _, err = e.svc.Decide(ctx, actor, rv.ID, 0, false, "")
	wantKind(t, err, admin.ErrConflict)
	_, _, err = e.svc.Decide(ctx, actor, rv.ID, 2, false, "")
	if er := wantKind(t, err, admin.ErrNotFound); er.What != "line" {
		t.Errorf("out of range: %+v", er)
	}
	_, _, err = e.svc.Decide(ctx, actor, token.NewID(), 0, false, "")
	if er := wantKind(t, err, admin.ErrNotFound); er.What != "review" {
		t.Errorf("missing review: %+v", er)
	}
	rv, got, err = e.svc.Decide(ctx, actor, rv.ID, 1, false, "no")
	if err != nil || rv.Pending() || scopes.MustParse("website:people:data:write").SubsetOf(got.Approved) {
		t.Errorf("reject: %+v %q %v", rv, got.Approved.String(), err)
	}
	if rs, err := e.svc.ListReviews(ctx, admin.ReviewsDecided, ""); err != nil || len(rs) != 2 {
		t.Errorf("decided: %d %v", len(rs), err)
	}
	_, err = e.svc.ListReviews(ctx, "open", "")
	wantFields(t, err, "status")

	evs, _ := e.store.ListEvents(ctx, storage.EventFilter{Kind: storage.KindReviewFiled, Limit: 10})
	if len(evs) != 2 || evs[0].Actor != "client:"+cl.ID {
		t.Errorf("review.filed events %+v", evs)
	}
}

func TestWebsitesAndOperators(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.svc.CreateWebsite(ctx, actor, storage.Website{ID: "site-1", Name: "One"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateWebsite(ctx, actor, storage.Website{ID: "site-1", Name: "Other"})
	wantKind(t, err, admin.ErrConflict)
	if w, _ := e.svc.GetWebsite(ctx, "site-1"); w.Name != "One" {
		t.Errorf("a taken website was overwritten: %+v", w)
	}
	_, err = e.svc.CreateOperator(ctx, actor, admin.NewOperator{Email: "a@b.example", Password: "correct horse battery", Websites: []string{"site-1", "site-2"}}, nil)
	wantFields(t, err, "websites[1]")
	_, err = e.svc.CreateOperator(ctx, actor, admin.NewOperator{Email: "a@b.example", Password: strings.Repeat("p", 73), Websites: []string{"site-2"}},
		map[string]string{"websites[0]": "from the decoder"})
	wantFields(t, err, "password", "websites[0]")
	op, err := e.svc.CreateOperator(ctx, actor, admin.NewOperator{Email: "A@B.example", Password: "correct horse battery", Websites: []string{"site-1"}}, nil)
	if err != nil || op.Email != "a@b.example" || !strings.HasPrefix(op.ID, "op_") {
		t.Fatalf("operator %+v %v", op, err)
	}
	_, err = e.svc.CreateOperator(ctx, actor, admin.NewOperator{Email: "a@b.example", Password: "correct horse battery", Websites: []string{"site-1"}}, nil)
	wantKind(t, err, admin.ErrConflict)
}

// liveGrant stores a website grant of cl with an access and a refresh
// token and returns the grant and the access token.
func liveGrant(t *testing.T, e *env, cl storage.Client, website string) (storage.Grant, string) {
	t.Helper()
	ctx := t.Context()
	g := storage.Grant{ID: token.NewID(), ClientID: cl.ID, WebsiteID: website, OperatorID: "op_1", Scopes: cl.Approved, CreatedAt: time.Now()}
	if err := e.store.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var toks []storage.NewToken
	for _, k := range []token.Kind{token.Access, token.Refresh} {
		toks = append(toks, storage.NewToken{Value: token.New(k, g.ID), Token: storage.Token{Kind: k, GrantID: g.ID, ClientID: cl.ID,
			Scopes: cl.Approved, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}})
	}
	if err := e.store.IssueTokens(ctx, toks...); err != nil {
		t.Fatal(err)
	}
	return g, toks[0].Value
}

func TestRevocations(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cl := newPlugin(t, e, "website:people:data:read")
	for _, id := range []string{"site-1", "site-2"} {
		if _, err := e.svc.CreateWebsite(ctx, actor, storage.Website{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}

	_, err := e.svc.Revoke(ctx, actor, admin.Target{}, "")
	if er := wantKind(t, err, admin.ErrInvalid); len(er.Fields) != 0 || er.Description == "" {
		t.Errorf("no target: %+v", er)
	}
	_, err = e.svc.Revoke(ctx, actor, admin.Target{ClientID: cl.ID, WebsiteID: "site-1"}, "")
	wantFields(t, err, "client_id", "website_id")
	_, err = e.svc.Revoke(ctx, actor, admin.Target{Token: "ghp_notours"}, "")
	wantFields(t, err, "token")
	if !errors.Is(err, admin.ErrNotAToken) {
		t.Errorf("not a token: %v", err)
	}
	for _, tg := range []admin.Target{{GrantID: token.NewID()}, {ClientID: "plg_missing"}, {WebsiteID: "site-9"}} {
		_, err := e.svc.Revoke(ctx, actor, tg, "")
		wantKind(t, err, admin.ErrNotFound)
	}

	// A pasted access token takes its whole grant.
	g1, access := liveGrant(t, e, cl, "site-1")
	n, err := e.svc.Revoke(ctx, actor, admin.Target{Token: access}, "kill switch")
	if err != nil || n.Grants != 1 || n.Tokens != 2 {
		t.Errorf("by token: %+v %v", n, err)
	}
	if _, _, err := e.store.LookupToken(ctx, access); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the token is still live: %v", err)
	}
	ev, _ := e.store.ListEvents(ctx, storage.EventFilter{Kind: storage.KindRevokeToken, Limit: 1})
	if len(ev) != 1 || ev[0].GrantID != g1.ID || ev[0].Detail["reason"] != "kill switch" || strings.Contains(strings.Join(slices.Collect(maps.Values(ev[0].Detail)), " "), access) {
		t.Errorf("revoke.token event %+v", ev)
	}
	// Again: it counts zero.
	if n, err := e.svc.Revoke(ctx, actor, admin.Target{Token: access}, ""); err != nil || n.Grants != 0 {
		t.Errorf("again: %+v %v", n, err)
	}

	liveGrant(t, e, cl, "site-1")
	liveGrant(t, e, cl, "site-2")
	if n, err := e.svc.Revoke(ctx, actor, admin.Target{WebsiteID: "site-2"}, ""); err != nil || n.Grants != 1 {
		t.Errorf("by website: %+v %v", n, err)
	}
	if n, err := e.svc.Revoke(ctx, actor, admin.Target{ClientID: cl.ID}, ""); err != nil || n.Grants != 1 {
		t.Errorf("by client: %+v %v", n, err)
	}
	g4, _ := liveGrant(t, e, cl, "site-1")
	if n, err := e.svc.Revoke(ctx, actor, admin.Target{GrantID: g4.ID}, ""); err != nil || n.Grants != 1 {
		t.Errorf("by grant: %+v %v", n, err)
	}

	// A leak report and a Disconnect: grant.revoked with their actors.
	g5, leaked := liveGrant(t, e, cl, "site-1")
	e.svc.ReportLeak(ctx, leaked)
	e.svc.ReportLeak(ctx, "not a token at all")
	if _, _, err := e.store.LookupToken(ctx, leaked); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the leaked token is still live: %v", err)
	}
	g6, _ := liveGrant(t, e, cl, "site-2")
	if n, err := e.svc.Disconnect(ctx, "op_1", g6); err != nil || n.Tokens != 2 {
		t.Errorf("disconnect: %+v %v", n, err)
	}
	evs, _ := e.store.ListEvents(ctx, storage.EventFilter{Kind: storage.KindGrantRevoked, Limit: 10})
	if len(evs) != 2 || evs[1].Actor != "leak-report" || evs[1].GrantID != g5.ID || evs[0].Actor != "operator:op_1" || evs[0].GrantID != g6.ID {
		t.Errorf("grant.revoked events %+v", evs)
	}

	want := []admin.RevocationKind{admin.RevokedAdminToken, admin.RevokedAdminToken, admin.RevokedAdminWebsite, admin.RevokedAdminClient,
		admin.RevokedAdminGrant, admin.RevokedLeak, admin.RevokedDisconnect}
	if !slices.Equal(e.revoked, want) {
		t.Errorf("revocations counted %v, want %v", e.revoked, want)
	}
	e.events(t)
}

// TestUnavailablePassesThrough: a storage outage is not dressed up as a
// service error kind.
func TestUnavailablePassesThrough(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	svc := admin.New(admin.Options{Store: storage.NewRedis(rdb, storage.RedisOptions{})})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := svc.GetClient(ctx, "plg_x")
	if !errors.Is(err, storage.ErrUnavailable) || errors.Is(err, admin.ErrNotFound) || errors.Is(err, admin.ErrInvalid) {
		t.Errorf("err = %v, want storage.ErrUnavailable only", err)
	}
}

func TestFieldsText(t *testing.T) {
	tests := []struct {
		name   string
		fields map[string]string
		want   string
	}{
		{"none", nil, ""},
		{"one", map[string]string{"name": "is required"}, "name: is required"},
		{"name order", map[string]string{"type": "bad", "name": "is required", "approved": "unknown scope"},
			"approved: unknown scope; name: is required; type: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := admin.FieldsText(tt.fields); got != tt.want {
				t.Errorf("FieldsText(%v) = %q, want %q", tt.fields, got, tt.want)
			}
		})
	}
}
