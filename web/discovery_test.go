package web

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestDiscoveryAtTheOpenIDPath: client libraries that look up
// /.well-known/openid-configuration first (openid-client, many SDKs) get
// the same RFC 8414 metadata, which claims nothing of OpenID Connect.
func TestDiscoveryAtTheOpenIDPath(t *testing.T) {
	e := newTestEnv(t)
	get := func(path string) (int, string, map[string]any) {
		t.Helper()
		resp, err := http.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: not JSON: %v", path, err)
		}
		return resp.StatusCode, string(raw), m
	}
	st1, oauthDoc, _ := get("/.well-known/oauth-authorization-server")
	st2, oidcDoc, m := get("/.well-known/openid-configuration")
	if st1 != 200 || st2 != 200 || oauthDoc != oidcDoc {
		t.Fatalf("status %d and %d; documents differ:\n%s\n%s", st1, st2, oauthDoc, oidcDoc)
	}
	if m["issuer"] != e.URL || m["token_endpoint"] != e.URL+"/oauth/token" {
		t.Errorf("metadata = %v", m)
	}
	for _, k := range []string{"userinfo_endpoint", "jwks_uri", "id_token_signing_alg_values_supported", "claims_supported"} {
		if _, has := m[k]; has {
			t.Errorf("metadata claims OpenID Connect: has %s", k)
		}
	}
	rts, _ := m["response_types_supported"].([]any)
	if !slices.Equal(rts, []any{"code"}) || strings.Contains(oidcDoc, `"openid"`) {
		t.Errorf("response_types_supported %v or an openid scope: only code, no OpenID Connect", rts)
	}
}
