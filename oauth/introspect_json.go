package oauth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Introspection answers are written by hand: the endpoint sits on every
// API request of every resource server, and encoding/json's reflection
// costs more than everything else the handler does apart from the Redis
// round trip. The output is byte for byte what json.Marshal gives (the
// fields in declaration order, empty ones left out, strings escaped the
// same way); TestIntrospectionJSON holds it to that.

// inactiveJSON is the whole answer for an inactive token (RFC 7662 §2.2).
const inactiveJSON = `{"active":false}` + "\n"

// appendJSON appends in's JSON encoding and a newline to b.
func (in *Introspection) appendJSON(b []byte) []byte {
	if !in.Active {
		return append(b, inactiveJSON...)
	}
	b = append(b, `{"active":true`...)
	b = appendField(b, "scope", in.Scope)
	b = appendField(b, "client_id", in.ClientID)
	b = appendField(b, "sub", in.Sub)
	b = appendField(b, "token_type", in.TokenType)
	if in.Exp != 0 {
		b = strconv.AppendInt(append(b, `,"exp":`...), in.Exp, 10)
	}
	if in.Iat != 0 {
		b = strconv.AppendInt(append(b, `,"iat":`...), in.Iat, 10)
	}
	b = appendField(b, "iss", in.Iss)
	b = appendField(b, "website_id", in.WebsiteID)
	b = appendField(b, "operator_id", in.OperatorID)
	b = appendField(b, "grant_id", in.GrantID)
	return append(b, "}\n"...)
}

// appendField appends ,"name":"value" unless value is empty (omitempty).
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendString appends s as a JSON string, escaped as encoding/json does
// (HTML-safe: <, > and & as \u003c, \u003e, \u0026).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			// Rare (IDs are ASCII; the issuer is configured): let
			// encoding/json handle invalid UTF-8, U+2028 and U+2029.
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writeIntrospection writes in as a 200 answer with the headers writeJSON
// sets.
func writeIntrospection(w http.ResponseWriter, in *Introspection) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json;charset=UTF-8"}
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
	w.WriteHeader(http.StatusOK)
	var buf [512]byte
	_, _ = w.Write(in.appendJSON(buf[:0]))
}
