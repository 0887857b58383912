package oauth

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/scopegate/scopegate/scopes"
)

// TestMetadata: RFC 8414 metadata. Metadata touches no storage, so this
// test needs none.
//
// Engine default: the engine publishes no metadata.
func TestMetadata(t *testing.T) {
	const iss = "https://auth.example.com"
	for _, configured := range []string{iss, iss + "/"} {
		md := New(Config{Issuer: configured}, nil).Metadata()
		if md.Issuer != iss {
			t.Errorf("issuer = %q, want %q (no trailing slash, RFC 8414 §2)", md.Issuer, iss)
		}
		endpoints := map[string]string{
			"authorization": md.AuthorizationEndpoint, "token": md.TokenEndpoint,
			"introspection": md.IntrospectionEndpoint, "revocation": md.RevocationEndpoint,
		}
		want := map[string]string{
			"authorization": iss + "/oauth/authorize", "token": iss + "/oauth/token",
			"introspection": iss + "/oauth/introspect", "revocation": iss + "/oauth/revoke",
		}
		for k, v := range want {
			if endpoints[k] != v {
				t.Errorf("%s endpoint = %q, want %q", k, endpoints[k], v)
			}
		}
		if len(md.ScopesSupported) != 70 || !slices.Equal(md.ScopesSupported, scopes.All().Strings()) {
			t.Errorf("scopes_supported has %d scopes, want the 70 of the catalogue in canonical order", len(md.ScopesSupported))
		}
		if !slices.Equal(md.CodeChallengeMethodsSupported, []string{"S256"}) {
			t.Errorf("code_challenge_methods_supported = %v, want [S256]", md.CodeChallengeMethodsSupported)
		}
		if !slices.Equal(md.GrantTypesSupported, []string{"authorization_code", "client_credentials", "refresh_token"}) {
			t.Errorf("grant_types_supported = %v", md.GrantTypesSupported)
		}
		if !slices.Equal(md.ResponseTypesSupported, []string{"code"}) {
			t.Errorf("response_types_supported = %v", md.ResponseTypesSupported)
		}
		if !slices.Equal(md.IntrospectionEndpointAuthMethodsSupported, []string{"client_secret_basic", "client_secret_post"}) {
			t.Errorf("introspection auth methods = %v: resource servers always authenticate", md.IntrospectionEndpointAuthMethodsSupported)
		}
		for _, m := range [][]string{md.TokenEndpointAuthMethodsSupported, md.RevocationEndpointAuthMethodsSupported} {
			if !slices.Equal(m, []string{"none", "client_secret_basic", "client_secret_post"}) {
				t.Errorf("auth methods = %v", m)
			}
		}
		if !md.AuthorizationResponseIssParameterSupported {
			t.Error("authorization_response_iss_parameter_supported is false, but the redirect carries iss")
		}
	}

	// The JSON names are RFC 8414's.
	b, err := json.Marshal(New(Config{Issuer: iss}, nil).Metadata())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "introspection_endpoint", "revocation_endpoint",
		"scopes_supported", "response_types_supported", "grant_types_supported", "code_challenge_methods_supported",
		"token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported"} {
		if _, ok := m[k]; !ok {
			t.Errorf("metadata JSON lacks %s", k)
		}
	}
}
