package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/storage/token"
)

// TestRevoke: RFC 7009. The caller authenticates; unknown and malformed
// tokens get 200 and change nothing; another client's live token gets
// unauthorized_client (§2.1) and changes nothing; a refresh token takes its grant
// with it; an access token goes alone; token_type_hint is only a hint.
//
// Engine default: the engine has no revocation endpoint; its
// RemoveAccessToken/RemoveRefreshToken delete one token and leave the rest
// of the grant alive.
func TestRevoke(t *testing.T) {
	e := newEnv(t)
	revoke := func(id, tok string, extra ...string) reply {
		t.Helper()
		f := url.Values{"token": {tok}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return e.post("/oauth/revoke", f, e.basicFor(id))
	}
	want200 := func(r reply) {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("revoke: status %d, body %s", r.status, r.body)
		}
		wantClean(t, r)
	}

	t.Run("unknown and malformed", func(t *testing.T) {
		code, _ := e.codeFor(confID)
		for _, tok := range []string{token.New(token.Access, token.NewID()), token.New(token.Refresh, token.NewID()), "abc", "sga_nope", code} {
			want200(revoke(confID, tok))
		}
	})

	t.Run("foreign token", func(t *testing.T) {
		tok := e.codeFlow(confID)
		for _, r := range []reply{revoke(otherID, tok.AccessToken), revoke(otherID, tok.RefreshToken, "token_type_hint", "refresh_token")} {
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"error":"unauthorized_client"`) {
				t.Fatalf("another client's token: %d %s, want 400 unauthorized_client", r.status, r.body)
			}
		}
		if !e.active(tok.AccessToken) {
			t.Error("another client's revocation killed the token")
		}
		if r := e.refresh(confID, tok.RefreshToken); r.status != http.StatusOK {
			t.Errorf("another client's revocation killed the refresh token: %d %s", r.status, r.body)
		}
	})

	t.Run("refresh token revokes the grant", func(t *testing.T) {
		tok := e.codeFlow(confID)
		want200(revoke(confID, tok.RefreshToken, "token_type_hint", "refresh_token"))
		if e.active(tok.AccessToken) {
			t.Error("access token of a revoked refresh token's grant is active")
		}
		wantError(t, e.refresh(confID, tok.RefreshToken), http.StatusBadRequest, CodeInvalidGrant)
	})

	t.Run("access token alone", func(t *testing.T) {
		tok := e.codeFlow(confID)
		want200(revoke(confID, tok.AccessToken, "token_type_hint", "access_token"))
		if e.active(tok.AccessToken) {
			t.Error("revoked access token is active")
		}
		r := e.refresh(confID, tok.RefreshToken)
		if r.status != http.StatusOK {
			t.Fatalf("refresh after revoking only the access token: %d %s", r.status, r.body)
		}
		if !e.active(r.json(t)["access_token"].(string)) {
			t.Error("new access token of the grant is inactive")
		}
	})

	t.Run("misleading hints", func(t *testing.T) {
		tok := e.codeFlow(confID)
		want200(revoke(confID, tok.AccessToken, "token_type_hint", "refresh_token"))
		if e.active(tok.AccessToken) {
			t.Error("access token with a refresh_token hint was not revoked")
		}
		if r := e.refresh(confID, tok.RefreshToken); r.status != http.StatusOK {
			t.Errorf("an access token with a refresh hint took the grant with it: %d", r.status)
		}

		tok = e.codeFlow(confID)
		want200(revoke(confID, tok.RefreshToken, "token_type_hint", "access_token"))
		if e.active(tok.AccessToken) {
			t.Error("refresh token with an access_token hint did not revoke its grant")
		}

		tok = e.codeFlow(confID)
		want200(revoke(confID, tok.AccessToken, "token_type_hint", "bogus"))
		if e.active(tok.AccessToken) {
			t.Error("unknown hint stopped the revocation")
		}
	})

	t.Run("public client by client_id", func(t *testing.T) {
		tok := e.codeFlow(pubID)
		r := e.post("/oauth/revoke", url.Values{"token": {tok.RefreshToken}, "client_id": {pubID}}, basic{})
		want200(r)
		if e.active(tok.AccessToken) {
			t.Error("public client could not revoke its own grant")
		}
	})

	t.Run("caller must authenticate", func(t *testing.T) {
		tok := e.codeFlow(confID)
		wantError(t, e.post("/oauth/revoke", url.Values{"token": {tok.AccessToken}}, basic{}), http.StatusUnauthorized, CodeInvalidClient)
		wantError(t, e.post("/oauth/revoke", url.Values{"token": {tok.AccessToken}}, basic{confID, "sgs_wrong"}), http.StatusUnauthorized, CodeInvalidClient)
		wantError(t, e.post("/oauth/revoke", url.Values{"token": {tok.AccessToken}, "client_id": {confID}}, basic{}), http.StatusUnauthorized, CodeInvalidClient)
		if !e.active(tok.AccessToken) {
			t.Error("an unauthenticated revocation took effect")
		}
		wantError(t, e.post("/oauth/revoke", url.Values{}, e.basicFor(confID)), http.StatusBadRequest, CodeInvalidRequest)
		wantError(t, e.raw(http.MethodGet, "/oauth/revoke?token="+tok.AccessToken, "", "", e.basicFor(confID)), http.StatusMethodNotAllowed, CodeInvalidRequest)
		wantError(t, e.raw(http.MethodPost, "/oauth/revoke", "application/x-www-form-urlencoded", "token=a&token=b", e.basicFor(confID)), http.StatusBadRequest, CodeInvalidRequest)
	})
}
