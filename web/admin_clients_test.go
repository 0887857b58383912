package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/oauth"
)

// dumpRedis returns every key and value in Redis as text.
func dumpRedis(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	ctx := testCtx(t)
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\n")
		typ, _ := rdb.Type(ctx, k).Result()
		var v any
		switch typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "list":
			v, err = rdb.LRange(ctx, k, 0, -1).Result()
		case "set":
			v, err = rdb.SMembers(ctx, k).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "stream":
			v, err = rdb.XRange(ctx, k, "-", "+").Result()
		}
		if err != nil {
			t.Fatalf("dump %s: %v", k, err)
		}
		j, _ := json.Marshal(v)
		b.Write(j)
		b.WriteString("\n")
	}
	return b.String()
}

func TestAdminCreateClientSecretOnce(t *testing.T) {
	e := newAdminTestEnv(t)
	r := e.api(t, http.MethodPost, "/admin/v1/clients", map[string]any{
		"name": "Helpdesk", "redirect_uris": []string{"https://plugin.example/cb", "http://127.0.0.1:8765/cb"},
		"approve": []string{"website:people:data:write", "plugin:subscription:bill:write"},
	})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var created struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Type         string   `json:"type"`
		Role         string   `json:"role"`
		Status       string   `json:"status"`
		GrantTypes   []string `json:"grant_types"`
		Approved     []string `json:"approved"`
		ReviewID     string   `json:"review_id"`
	}
	r.Decode(t, &created)
	if !strings.HasPrefix(created.ClientID, "plg_") || len(created.ClientID) != 20 {
		t.Errorf("client_id = %q, want plg_ + 16", created.ClientID)
	}
	if !strings.HasPrefix(created.ClientSecret, "sgs_") {
		t.Errorf("client_secret = %q", created.ClientSecret)
	}
	if got := r.Header.Get("Location"); got != "/admin/v1/clients/"+created.ClientID {
		t.Errorf("Location = %q", got)
	}
	if created.Type != "confidential" || created.Role != "plugin" || created.Status != "active" {
		t.Errorf("created = %+v", created)
	}
	if strings.Join(created.GrantTypes, " ") != "authorization_code refresh_token client_credentials" {
		t.Errorf("default grant types = %v", created.GrantTypes)
	}
	if strings.Join(created.Approved, " ") != "website:people:data:write plugin:subscription:bill:write" {
		t.Errorf("approved = %v", created.Approved)
	}
	// The shortcut is an admin-filed review, approved, in the history.
	rv := e.must(t, 200, http.MethodGet, "/admin/v1/reviews/"+created.ReviewID, nil)
	if rv["filed_by"] != "admin:tester" || rv["status"] != "decided" {
		t.Errorf("review = %v", rv)
	}
	for _, l := range rv["lines"].([]any) {
		if l.(map[string]any)["status"] != "approved" || l.(map[string]any)["reviewer"] != "admin:tester" {
			t.Errorf("line = %v", l)
		}
	}

	// GET never shows it, nor does the list; Redis never holds it.
	for _, path := range []string{"/admin/v1/clients/" + created.ClientID, "/admin/v1/clients"} {
		g := e.api(t, http.MethodGet, path, nil)
		if g.Status != 200 || bytes.Contains(g.Body, []byte(created.ClientSecret)) || bytes.Contains(g.Body, []byte("client_secret")) {
			t.Errorf("GET %s shows the secret: %s", path, g.Body)
		}
	}
	if dump := dumpRedis(t, e.RDB); strings.Contains(dump, created.ClientSecret) || strings.Contains(dump, strings.TrimPrefix(created.ClientSecret, "sgs_")) {
		t.Error("Redis holds the client secret in the clear")
	}
	// The secret works, for the approved plugin scope only.
	e.ccToken(t, created.ClientID, created.ClientSecret, "plugin:subscription:bill:write")

	// A public client has no secret; an explicit ID is used as given and
	// is unique.
	m := e.must(t, 201, http.MethodPost, "/admin/v1/clients", map[string]any{
		"id": "my-spa", "name": "SPA", "type": "public", "redirect_uris": []string{"http://localhost:3000/cb"}})
	if _, ok := m["client_secret"]; ok || m["client_id"] != "my-spa" {
		t.Errorf("public client: %v", m)
	}
	if got := strings.Join(toStrings(m["grant_types"]), " "); got != "authorization_code refresh_token" {
		t.Errorf("public default grant types = %s", got)
	}
	dup := e.api(t, http.MethodPost, "/admin/v1/clients", map[string]any{"id": "my-spa", "name": "Again", "grant_types": []string{"client_credentials"}})
	if dup.Status != 409 || dup.JSON(t)["fields"].(map[string]any)["id"] != "is taken" {
		t.Errorf("duplicate id: %d %s", dup.Status, dup.Body)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestAdminUpdateClient(t *testing.T) {
	e := newAdminTestEnv(t)
	id, _ := e.createPlugin(t, "bucket:url:write")
	m := e.must(t, 200, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{
		"name": "Renamed", "redirect_uris": []string{"https://new.example/cb"}, "grant_types": []string{"authorization_code", "client_credentials"}})
	if m["name"] != "Renamed" || strings.Join(toStrings(m["redirect_uris"]), " ") != "https://new.example/cb" ||
		strings.Join(toStrings(m["grant_types"]), " ") != "authorization_code client_credentials" {
		t.Errorf("updated = %v", m)
	}
	r := e.api(t, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{"redirect_uris": []string{}})
	if r.Status != 400 || fields(t, r)["redirect_uris"] != "at least one is required for authorization_code" {
		t.Errorf("removing the redirect URIs of a code client: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{}); r.Status != 400 {
		t.Errorf("empty patch: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{"status": "active"}); r.Status != 400 || fields(t, r)["status"] != "is not a known field" {
		t.Errorf("patching status: %d %s", r.Status, r.Body)
	}
}

func TestAdminRotateSecret(t *testing.T) {
	e := newAdminTestEnv(t)
	id, old := e.createPlugin(t, "bucket:url:write")
	m := e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/rotate-secret", map[string]any{"grace_seconds": 60})
	fresh := m["client_secret"].(string)
	if fresh == old || !strings.HasPrefix(fresh, "sgs_") {
		t.Fatalf("new secret = %q", fresh)
	}
	if n := len(m["client"].(map[string]any)["secrets"].([]any)); n != 2 {
		t.Errorf("secrets during grace = %d, want 2", n)
	}
	// During the grace period both work.
	e.ccToken(t, id, old)
	e.ccToken(t, id, fresh)
	// After it, only the new one.
	e.Clock.Advance(61 * time.Second)
	if code, status := e.ccError(t, id, old); code != "invalid_client" || status != 401 {
		t.Errorf("old secret after grace: %s %d, want invalid_client 401", code, status)
	}
	e.ccToken(t, id, fresh)
	// The expired secret is gone from the view.
	if n := len(e.must(t, 200, http.MethodGet, "/admin/v1/clients/"+id, nil)["secrets"].([]any)); n != 1 {
		t.Errorf("secrets after grace = %d, want 1", n)
	}
	// grace 0 ends the old one at once; an empty body means the default.
	m = e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/rotate-secret", map[string]any{"grace_seconds": 0})
	third := m["client_secret"].(string)
	if code, _ := e.ccError(t, id, fresh); code != "invalid_client" {
		t.Errorf("secret after rotation with grace 0: %s", code)
	}
	e.ccToken(t, id, third)
	r := e.raw(t, http.MethodPost, "/admin/v1/clients/"+id+"/rotate-secret", "", nil, map[string]string{"Authorization": "Bearer " + testAdminToken})
	var rot struct {
		Expire time.Time `json:"old_secrets_expire_at"`
	}
	r.Decode(t, &rot)
	if d := rot.Expire.Sub(e.Clock.Now()); r.Status != 200 || d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("default grace: %d, expires in %v", r.Status, d)
	}
	// A public client has no secret to rotate.
	e.must(t, 201, http.MethodPost, "/admin/v1/clients", map[string]any{"id": "pub-1", "name": "P", "type": "public", "redirect_uris": []string{"http://127.0.0.1:1/cb"}})
	if r := e.api(t, http.MethodPost, "/admin/v1/clients/pub-1/rotate-secret", nil); r.Status != 409 {
		t.Errorf("rotating a public client: %d %s", r.Status, r.Body)
	}
}

func TestAdminSuspendResume(t *testing.T) {
	e := newAdminTestEnv(t)
	id, secret := e.createPlugin(t, "bucket:url:write")
	rsID, rsSecret := e.createResourceServer(t)
	tok := e.ccToken(t, id, secret)

	// A second instance over the same Redis, with its own client cache
	// (default TTL 500 ms): it must catch up without being told.
	p2 := oauth.New(oauth.Config{Issuer: e.URL}, e.Store)
	other := httptest.NewServer(New(Options{Provider: p2, Store: e.Store}).Handler())
	t.Cleanup(other.Close)
	e2 := &testEnv{Store: e.Store, Provider: p2, URL: other.URL}
	if !e2.Introspect(t, rsID, rsSecret, tok).Active {
		t.Fatal("token inactive on the second instance before suspension")
	}

	m := e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/suspend", nil)
	if m["status"] != "suspended" {
		t.Fatalf("suspend: %v", m)
	}
	if code, status := e.ccError(t, id, secret); code != "invalid_client" || status != 401 {
		t.Errorf("token request of a suspended client: %s %d", code, status)
	}
	if got := e.Introspect(t, rsID, rsSecret, tok); got.Active {
		t.Errorf("suspended client's token active on this instance: %+v", got)
	}
	deadline := time.Now().Add(3 * time.Second)
	for e2.Introspect(t, rsID, rsSecret, tok).Active {
		if time.Now().After(deadline) {
			t.Fatal("suspended client's token still active on the other instance after 3 s (design: within 1 s)")
		}
	}

	e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/resume", nil)
	if !e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("token inactive after resume")
	}
	e.ccToken(t, id, secret)
	evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?client_id="+id+"&kind=client.suspended", nil)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["actor"] != "admin:tester" {
		t.Errorf("suspension audit = %v", evs)
	}
}

func TestAdminLowerMaximumNarrowsLiveToken(t *testing.T) {
	e := newAdminTestEnv(t)
	id, secret := e.createPlugin(t, "bucket:url:write", "plugin:subscription:bill:read", "plugin:subscription:bill:write")
	rsID, rsSecret := e.createResourceServer(t)
	tok := e.ccToken(t, id, secret)
	if got := e.Introspect(t, rsID, rsSecret, tok).Scope; got != "bucket:url:write plugin:subscription:bill:read plugin:subscription:bill:write" {
		t.Fatalf("scope before = %q", got)
	}
	m := e.must(t, 200, http.MethodPost, "/admin/v1/clients/"+id+"/lower", map[string]any{"scopes": []string{"plugin:subscription:bill:write"}})
	if got := strings.Join(toStrings(m["approved"]), " "); got != "bucket:url:write plugin:subscription:bill:read" {
		t.Errorf("approved = %s", got)
	}
	if got := e.Introspect(t, rsID, rsSecret, tok).Scope; got != "bucket:url:write plugin:subscription:bill:read" {
		t.Errorf("scope after lowering = %q", got)
	}
	if code, _ := e.ccError(t, id, secret, "plugin:subscription:bill:write"); code != "invalid_scope" {
		t.Errorf("token request for the removed scope: %s", code)
	}
	// Lowering something not in the maximum names it.
	r := e.api(t, http.MethodPost, "/admin/v1/clients/"+id+"/lower", map[string]any{"scopes": []string{"bucket:url:write", "website:people:data:read"}})
	if r.Status != 400 || len(fields(t, r)) != 1 || fields(t, r)["scopes[1]"] != "is not in the approved maximum" {
		t.Errorf("lowering a scope not approved: %d %s", r.Status, r.Body)
	}
	// PUT: a subset is fine, a wider set is refused.
	r = e.api(t, http.MethodPut, "/admin/v1/clients/"+id+"/approved", map[string]any{"scopes": []string{"plugin:subscription:bill:read", "bucket:url:read"}})
	if r.Status != 400 || fields(t, r)["scopes[1]"] != "is not in the approved maximum; widening needs a review" {
		t.Errorf("widening with PUT: %d %s", r.Status, r.Body)
	}
	m = e.must(t, 200, http.MethodPut, "/admin/v1/clients/"+id+"/approved", map[string]any{"scopes": []string{"plugin:subscription:bill:read"}})
	if got := strings.Join(toStrings(m["approved"]), " "); got != "plugin:subscription:bill:read" {
		t.Errorf("approved after PUT = %s", got)
	}
	if got := e.Introspect(t, rsID, rsSecret, tok).Scope; got != "plugin:subscription:bill:read" {
		t.Errorf("scope after PUT = %q", got)
	}
	e.must(t, 200, http.MethodPut, "/admin/v1/clients/"+id+"/approved", map[string]any{"scopes": []string{}})
	if got := e.Introspect(t, rsID, rsSecret, tok); got.Active {
		t.Errorf("token active with an empty maximum: %+v", got)
	}
}
