package oauth

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/scopegate/scopegate/storage/redistest"
)

// TestHotPathRoundTrips counts the Redis round trips of a warm request on
// the paths resource servers and plugins call all the time: a
// client-credentials token, an introspection, a code redemption and a
// refresh cost one each; nothing (no audit append) follows.
func TestHotPathRoundTrips(t *testing.T) {
	e := newEnv(t)
	h := &redistest.Counter{}
	e.rdb.AddHook(h)
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"bucket:url:read"}}
	// Warm: the scripts are loaded, the clients cached, the grant created.
	r := e.tokenForm(cc, e.basicFor(confID))
	if r.status != http.StatusOK {
		t.Fatalf("client credentials: %d %s", r.status, r.body)
	}
	at, _ := r.json(t)["access_token"].(string)
	e.active(at)
	rt := e.codeFlow(confID).RefreshToken
	e.refresh(confID, rt) // loads the scripts; rt is used up
	rt = e.codeFlow(confID).RefreshToken
	var code, verifier string

	ok := func(what string, r reply) {
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
	}
	for _, tc := range []struct {
		name  string
		setup func() // not counted
		call  func()
	}{
		{"client credentials", nil, func() { ok("client credentials", e.tokenForm(cc, e.basicFor(confID))) }},
		{"introspection", nil, func() {
			if !e.active(at) {
				t.Fatal("token inactive")
			}
		}},
		{"code redemption", func() { code, verifier = e.codeFor(confID) }, func() {
			ok("code redemption", e.tokenForm(url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.basicFor(confID)))
		}},
		{"refresh", nil, func() { ok("refresh", e.refresh(confID, rt)) }},
	} {
		if tc.setup != nil {
			tc.setup()
		}
		before := h.RoundTrips.Load()
		tc.call()
		if got := h.RoundTrips.Load() - before; got != 1 {
			t.Errorf("%s: %d Redis round trips, want 1", tc.name, got)
		}
	}
}
