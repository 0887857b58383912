package oauth

import (
	"encoding/json"
	"testing"
)

// TestIntrospectionJSON holds the hand-written encoder to encoding/json's
// output, byte for byte, including escaping and omitted empty fields.
func TestIntrospectionJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Introspection
	}{
		{"inactive", Introspection{}},
		{"inactive ignores the rest", Introspection{Scope: "x", Exp: 1}},
		{"access token", Introspection{Active: true, Scope: "bucket:url:read website:people:data:read", ClientID: "plugin-1",
			Sub: "op-1", TokenType: "Bearer", Exp: 1790000000, Iat: 1789996400, Iss: "https://auth.example.com",
			WebsiteID: "site-1", OperatorID: "op-1", GrantID: "0123456789ABCDEFabcdef"}},
		{"client credentials", Introspection{Active: true, Scope: "bucket:url:read", ClientID: "p", Sub: "p", TokenType: "Bearer", Exp: 2, Iat: 1}},
		{"escaping", Introspection{Active: true, ClientID: `a"b\c<d>e&f` + "\x01\x1f\t\n\r~", Iss: "https://é.example/\u2028x\xff"}},
		{"negative times", Introspection{Active: true, Exp: -5, Iat: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.in
			if !want.Active {
				want = Introspection{}
			}
			w, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(tc.in.appendJSON(nil)); got != string(w)+"\n" {
				t.Errorf("appendJSON =\n%s\nwant (encoding/json)\n%s", got, w)
			}
		})
	}
}
