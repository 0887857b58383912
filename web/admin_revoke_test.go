package web

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// revokeFixture: two plugins A and B, two websites w1 and w2; A and B each
// hold a grant on each website (an access and a refresh token) and a
// client-credentials token.
type revokeFixture struct {
	e              *adminEnv
	rsID, rsSecret string
	toks           map[string]string // name -> token value
	grants         map[string]string // name -> grant ID
}

func newRevokeFixture(t *testing.T) *revokeFixture {
	e := newAdminTestEnv(t)
	f := &revokeFixture{e: e, toks: map[string]string{}, grants: map[string]string{}}
	f.rsID, f.rsSecret = e.createResourceServer(t)
	for _, w := range []string{"w1", "w2"} {
		e.must(t, 201, http.MethodPost, "/admin/v1/websites", map[string]any{"id": "site-" + w, "name": w})
	}
	ctx := testCtx(t)
	now := e.Clock.Now()
	for _, c := range []string{"A", "B"} {
		m := e.must(t, 201, http.MethodPost, "/admin/v1/clients", map[string]any{
			"id": "plugin-" + c, "name": c, "redirect_uris": []string{"https://" + c + ".example/cb"},
			"approve": []string{"website:people:data:read", "bucket:url:write"}})
		f.toks[c+"cc"] = e.ccToken(t, m["client_id"].(string), m["client_secret"].(string))
		// Website grants as the consent flow stores them (the flow itself
		// is tested in pages_test.go and browser_test.go).
		for _, w := range []string{"w1", "w2"} {
			g := storage.Grant{ID: token.NewID(), ClientID: "plugin-" + c, WebsiteID: "site-" + w, OperatorID: "op-1",
				Scopes: scopes.MustParse("website:people:data:read"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := e.Store.CreateGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
			access, refresh := token.New(token.Access, g.ID), token.New(token.Refresh, g.ID)
			rec := storage.Token{GrantID: g.ID, ClientID: g.ClientID, Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			ra, rr := rec, rec
			ra.Kind, rr.Kind = token.Access, token.Refresh
			if err := e.Store.IssueTokens(ctx, storage.NewToken{Value: access, Token: ra}, storage.NewToken{Value: refresh, Token: rr}); err != nil {
				t.Fatal(err)
			}
			f.toks[c+w] = access
			f.toks[c+w+"r"] = refresh
			f.grants[c+w] = g.ID
		}
	}
	for name, tok := range f.toks {
		if !e.Introspect(t, f.rsID, f.rsSecret, tok).Active {
			t.Fatalf("token %s inactive before any revocation", name)
		}
	}
	return f
}

func TestAdminRevokeKillsExactly(t *testing.T) {
	tests := []struct {
		name       string
		body       func(f *revokeFixture) map[string]any
		wantDead   []string
		wantCounts storage.Revocation
		wantKind   string
	}{
		{"leaked access token kills its grant", func(f *revokeFixture) map[string]any { return map[string]any{"token": f.toks["Aw1"]} },
			[]string{"Aw1", "Aw1r"}, storage.Revocation{Grants: 1, Tokens: 2}, "revoke.token"},
		{"leaked refresh token kills its grant", func(f *revokeFixture) map[string]any { return map[string]any{"token": f.toks["Bw2r"]} },
			[]string{"Bw2", "Bw2r"}, storage.Revocation{Grants: 1, Tokens: 2}, "revoke.token"},
		{"grant", func(f *revokeFixture) map[string]any { return map[string]any{"grant_id": f.grants["Bw1"]} },
			[]string{"Bw1", "Bw1r"}, storage.Revocation{Grants: 1, Tokens: 2}, "revoke.grant"},
		{"client", func(f *revokeFixture) map[string]any { return map[string]any{"client_id": "plugin-A"} },
			[]string{"Aw1", "Aw1r", "Aw2", "Aw2r", "Acc"}, storage.Revocation{Grants: 3, Tokens: 5}, "revoke.client"},
		{"website", func(f *revokeFixture) map[string]any { return map[string]any{"website_id": "site-w1"} },
			[]string{"Aw1", "Aw1r", "Bw1", "Bw1r"}, storage.Revocation{Grants: 2, Tokens: 4}, "revoke.website"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRevokeFixture(t)
			body := tt.body(f)
			r := f.e.api(t, http.MethodPost, "/admin/v1/revoke", body)
			if r.Status != 200 {
				t.Fatalf("revoke: %d %s", r.Status, r.Body)
			}
			var got storage.Revocation
			r.Decode(t, &got)
			if got != tt.wantCounts {
				t.Errorf("counts = %+v, want %+v", got, tt.wantCounts)
			}
			dead := map[string]bool{}
			for _, n := range tt.wantDead {
				dead[n] = true
			}
			for name, tok := range f.toks {
				if active := f.e.Introspect(t, f.rsID, f.rsSecret, tok).Active; active == dead[name] {
					t.Errorf("token %s: active = %v, want %v", name, active, !dead[name])
				}
			}
			if tv, ok := body["token"].(string); ok && bytes.Contains(r.Body, []byte(tv)) {
				t.Error("the answer echoes the token")
			}
			a := f.e.api(t, http.MethodGet, "/admin/v1/audit?kind="+tt.wantKind, nil)
			var page struct {
				Events []storage.Event `json:"events"`
			}
			a.Decode(t, &page)
			if len(page.Events) != 1 || page.Events[0].Actor != "admin:tester" ||
				page.Events[0].Detail["grants"] != itoa(tt.wantCounts.Grants) || page.Events[0].Detail["tokens"] != itoa(tt.wantCounts.Tokens) {
				t.Errorf("audit = %+v", page.Events)
			}
			dump := dumpRedis(t, f.e.RDB)
			for name, tok := range f.toks {
				if strings.Contains(dump, tok) {
					t.Fatalf("token %s is stored in the clear", name)
				}
			}
		})
	}
}

func TestAdminRevokeEdgeCases(t *testing.T) {
	e := newAdminTestEnv(t)
	// A well-formed unknown token counts zero; unknown IDs are 404.
	var got storage.Revocation
	r := e.api(t, http.MethodPost, "/admin/v1/revoke", map[string]any{"token": token.New(token.Access, token.NewID())})
	r.Decode(t, &got)
	if r.Status != 200 || got != (storage.Revocation{}) {
		t.Errorf("unknown token: %d %s", r.Status, r.Body)
	}
	for _, body := range []map[string]any{{"grant_id": token.NewID()}, {"client_id": "plg_missing"}, {"website_id": "site-missing"}} {
		if r := e.api(t, http.MethodPost, "/admin/v1/revoke", body); r.Status != 404 || r.JSON(t)["error"] != "not_found" {
			t.Errorf("revoke %v: %d %s", body, r.Status, r.Body)
		}
	}
	// Delete revokes everything of the client, then the client is gone.
	id, secret := e.createPlugin(t, "bucket:url:write")
	rsID, rsSecret := e.createResourceServer(t)
	tok := e.ccToken(t, id, secret)
	m := e.must(t, 200, http.MethodDelete, "/admin/v1/clients/"+id, nil)
	if m["deleted"] != true || m["grants"] != 1.0 || m["tokens"] != 1.0 {
		t.Errorf("delete = %v", m)
	}
	if e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("deleted client's token active")
	}
	if r := e.api(t, http.MethodGet, "/admin/v1/clients/"+id, nil); r.Status != 404 {
		t.Errorf("GET deleted client: %d", r.Status)
	}
	if code, _ := e.ccError(t, id, secret); code != "invalid_client" {
		t.Errorf("deleted client's token request: %s", code)
	}
	// Grants listing.
	id2, secret2 := e.createPlugin(t, "bucket:url:write")
	e.ccToken(t, id2, secret2)
	gs := e.must(t, 200, http.MethodGet, "/admin/v1/grants?client_id="+id2, nil)["grants"].([]any)
	if len(gs) != 1 || gs[0].(map[string]any)["client_id"] != id2 {
		t.Errorf("grants = %v", gs)
	}
}
