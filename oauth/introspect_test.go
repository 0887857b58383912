package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// TestIntrospectCallers: only authenticated resource-server clients may
// introspect (RFC 7662 §2.1).
//
// Engine default: the engine has no introspection endpoint at all.
func TestIntrospectCallers(t *testing.T) {
	e := newEnv(t)
	tok := e.codeFlow(confID)
	form := url.Values{"token": {tok.AccessToken}}

	r := e.post("/oauth/introspect", form, e.basicFor(confID))
	wantError(t, r, http.StatusForbidden, CodeUnauthorizedClient)
	if strings.Contains(string(r.body), "active") {
		t.Errorf("a refused caller learned something: %s", r.body)
	}
	wantError(t, e.post("/oauth/introspect", form, basic{rsID, "sgs_wrong"}), http.StatusUnauthorized, CodeInvalidClient)
	wantError(t, e.post("/oauth/introspect", form, basic{"nobody", "sgs_x"}), http.StatusUnauthorized, CodeInvalidClient)
	wantError(t, e.post("/oauth/introspect", form, basic{}), http.StatusUnauthorized, CodeInvalidClient)
	wantError(t, e.post("/oauth/introspect", url.Values{}, e.basicFor(rsID)), http.StatusBadRequest, CodeInvalidRequest)
	wantError(t, e.raw(http.MethodGet, "/oauth/introspect?token="+tok.AccessToken, "", "", e.basicFor(rsID)), http.StatusMethodNotAllowed, CodeInvalidRequest)
	wantError(t, e.raw(http.MethodPost, "/oauth/introspect", "application/json", `{"token":"x"}`, e.basicFor(rsID)), http.StatusBadRequest, CodeInvalidRequest)

	// A public resource server (nothing stops an admin from making one)
	// would introspect with its client_id alone: RFC 7662 §2.1 requires
	// authentication, and the metadata lists no "none" method here.
	e.addClient(storage.Client{ID: "public-rs", Type: storage.Public, Role: storage.RoleResourceServer})
	wantError(t, e.post("/oauth/introspect", url.Values{"token": {tok.AccessToken}, "client_id": {"public-rs"}}, basic{}), http.StatusUnauthorized, CodeInvalidClient)
	wantError(t, e.post("/oauth/introspect", form, basic{"public-rs", ""}), http.StatusUnauthorized, CodeInvalidClient)

	// client_secret_post works as well as Basic.
	r = e.post("/oauth/introspect", withClient2(form, rsID, e.secrets[rsID]), basic{})
	if r.status != http.StatusOK || r.json(t)["active"] != true {
		t.Errorf("client_secret_post introspection: %d %s", r.status, r.body)
	}
}

// TestIntrospectActive: every RFC 7662 §2.2 field we promise, exactly.
func TestIntrospectActive(t *testing.T) {
	e := newEnv(t)
	issued := e.clk.Now()
	tok := e.codeFlow(confID, "website:people:data:read", "website:conversation:messages:write")
	want := map[string]any{
		"active":      true,
		"scope":       "website:conversation:messages:write website:people:data:read",
		"client_id":   confID,
		"sub":         operator,
		"website_id":  website,
		"operator_id": operator,
		"token_type":  "Bearer",
		"iat":         float64(issued.Unix()),
		"exp":         float64(issued.Add(time.Hour).Unix()),
		"iss":         e.srv.URL,
	}
	got := e.introspect(tok.AccessToken)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && k != "grant_id" {
			t.Errorf("unexpected field %s = %v", k, got[k])
		}
	}
	if g, ok := got["grant_id"].(string); !ok || len(g) != token.GrantLen {
		t.Errorf("grant_id = %v", got["grant_id"])
	}

	// DESIGN.md: introspection costs one round trip to Redis (the client
	// record is cached).
	hook := &redistest.Counter{}
	e.rdb.AddHook(hook)
	if in, err := e.p.IntrospectToken(e.ctx, tok.AccessToken); err != nil || !in.Active {
		t.Fatalf("IntrospectToken = %+v, %v", in, err)
	}
	if n := hook.Commands.Load(); n != 1 {
		t.Errorf("introspecting an active token cost %d Redis commands, want 1", n)
	}

	// A refresh token introspects as such, with its own lifetime.
	rt := e.introspect(tok.RefreshToken)
	if rt["active"] != true || rt["token_type"] != "refresh_token" || rt["exp"] != float64(issued.Add(30*24*time.Hour).Unix()) {
		t.Errorf("refresh token introspection = %v", rt)
	}
}

// TestIntrospectInactive: unknown, malformed, expired, revoked, codes and
// suspended clients' tokens are {"active":false}; malformed ones cost no
// storage call.
//
// Engine default: there is no introspection; its LoadAccessToken (what a
// hand-written one would use) looks any string up in the token store and
// checks only the expiry, not the client's status.
func TestIntrospectInactive(t *testing.T) {
	e := newEnv(t)
	hook := &redistest.Counter{}
	e.rdb.AddHook(hook)
	tok := e.codeFlow(confID)
	code, _ := e.codeFor(confID)
	if !e.active(tok.AccessToken) { // also caches the resource server
		t.Fatal("fresh token inactive")
	}

	flip := []byte(tok.AccessToken)
	flip[40] ^= 1 // breaks the checksum
	malformed := []string{
		"abc", strings.Repeat("x", 75), string(flip), tok.AccessToken + "A", tok.AccessToken[:74],
		"sgx_" + tok.AccessToken[4:], "SGA_" + tok.AccessToken[4:], strings.Repeat("é", 40),
		code, // a code is never a bearer token: rejected by its prefix
	}
	for _, m := range malformed {
		before := hook.Commands.Load()
		if e.active(m) {
			t.Errorf("%q introspects active", m)
		}
		in, err := e.p.IntrospectToken(e.ctx, m)
		if err != nil || in.Active {
			t.Errorf("IntrospectToken(%q) = %+v, %v", m, in, err)
		}
		if n := hook.Commands.Load() - before; n != 0 {
			t.Errorf("malformed %q cost %d storage commands, want 0", m, n)
		}
	}
	if e.active(token.New(token.Access, token.NewID())) {
		t.Error("unknown well-formed token introspects active")
	}

	t.Run("expired", func(t *testing.T) {
		e.clk.Advance(time.Hour - time.Second)
		if !e.active(tok.AccessToken) {
			t.Fatal("token inactive a second before it expires")
		}
		e.clk.Advance(time.Second)
		if e.active(tok.AccessToken) {
			t.Error("expired access token introspects active")
		}
		if !e.active(tok.RefreshToken) {
			t.Error("refresh token (30 days) expired with the access token")
		}
	})

	t.Run("revoked", func(t *testing.T) {
		tok := e.codeFlow(confID)
		if _, err := e.store.RevokeToken(e.ctx, tok.AccessToken); err != nil {
			t.Fatal(err)
		}
		if e.active(tok.AccessToken) {
			t.Error("revoked access token introspects active")
		}
		tok = e.codeFlow(confID)
		in := e.introspect(tok.AccessToken)
		if _, err := e.store.RevokeGrant(e.ctx, in["grant_id"].(string)); err != nil {
			t.Fatal(err)
		}
		if e.active(tok.AccessToken) || e.active(tok.RefreshToken) {
			t.Error("tokens of a revoked grant introspect active")
		}
	})

	t.Run("suspended client", func(t *testing.T) {
		tok := e.codeFlow(otherID)
		e.updateClient(otherID, func(c *storage.Client) { c.Status = storage.Suspended })
		if e.active(tok.AccessToken) || e.active(tok.RefreshToken) {
			t.Error("a suspended client's tokens introspect active")
		}
		e.updateClient(otherID, func(c *storage.Client) { c.Status = storage.Active })
		if !e.active(tok.AccessToken) {
			t.Error("resuming the client did not bring its live token back")
		}
	})

	t.Run("deleted client", func(t *testing.T) {
		e.addClient(storage.Client{ID: "doomed", Type: storage.Confidential, GrantTypes: allGrants, Approved: approvedWeb})
		tok := e.codeFlow("doomed")
		if err := e.store.DeleteClient(e.ctx, "doomed"); err != nil {
			t.Fatal(err)
		}
		e.p.Forget("doomed")
		if e.active(tok.AccessToken) {
			t.Error("a deleted client's token introspects active")
		}
	})
}

// TestIntrospectRecaps: introspection re-caps at the client's current
// approved maximum, and a change reaches an instance that did not make it
// within the client cache TTL (500 ms, inside DESIGN.md's one second).
//
// Engine default: a token's scope is what was stored at issuance, forever.
func TestIntrospectRecaps(t *testing.T) {
	e := newEnv(t)
	tok := e.codeFlow(confID)
	if got := e.introspect(tok.AccessToken)["scope"]; got != approvedWeb.String() {
		t.Fatalf("scope = %v", got)
	}

	lowered := scopes.MustParse("website:people:data:read website:conversation:messages:write")
	e.updateClient(confID, func(c *storage.Client) { c.Approved = lowered.Union(approvedPlugin) })
	if got := e.introspect(tok.AccessToken)["scope"]; got != lowered.String() {
		t.Errorf("after lowering the maximum, scope = %v, want %q", got, lowered)
	}

	// Another change, without Forget: as another instance sees it.
	_, err := e.store.UpdateClient(e.ctx, confID, func(c storage.Client) (storage.Client, error) {
		c.Approved = scopes.MustParse("website:people:data:read")
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(DefaultClientCacheTTL)
	if got := e.introspect(tok.AccessToken)["scope"]; got != "website:people:data:read" {
		t.Errorf("%v after the cache TTL, scope = %v, want website:people:data:read", DefaultClientCacheTTL, got)
	}

	// Nothing of the token left approved: inactive.
	e.updateClient(confID, func(c *storage.Client) { c.Approved = approvedPlugin })
	if e.active(tok.AccessToken) {
		t.Error("token with no approved scope left introspects active")
	}
}
