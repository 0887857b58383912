package oauth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Handler benchmarks: the whole endpoint (form parsing, client
// authentication, storage, the JSON answer) on an httptest recorder, against
// a real redis-server on loopback. allocs/op is what to watch; ns/op is
// dominated by the Redis round trip(s).
//
//	go test -run '^$' -bench 'Handler' -benchmem ./oauth

// benchPost calls h with a form POST authenticated as id (HTTP Basic) and
// fails the benchmark unless the answer is 200.
func benchPost(b *testing.B, e *env, h http.HandlerFunc, form string, id string) *httptest.ResponseRecorder {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, e.secrets[id])
	w := httptest.NewRecorder()
	h(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
	return w
}

// benchRepeat measures the same benchPost, once untimed to warm caches.
func benchRepeat(b *testing.B, e *env, h http.HandlerFunc, form string, id string) {
	b.Helper()
	benchPost(b, e, h, form, id)
	b.ReportAllocs()
	for b.Loop() {
		benchPost(b, e, h, form, id)
	}
}

func BenchmarkIntrospectHandler(b *testing.B) {
	e := newEnv(b)
	benchRepeat(b, e, e.p.Introspect, url.Values{"token": {e.codeFlow(confID).AccessToken}}.Encode(), rsID)
}

func BenchmarkTokenHandlerClientCredentials(b *testing.B) {
	e := newEnv(b)
	benchRepeat(b, e, e.p.Token, url.Values{"grant_type": {"client_credentials"}, "scope": {"bucket:url:read"}}.Encode(), confID)
}

func BenchmarkTokenHandlerRefresh(b *testing.B) {
	e := newEnv(b)
	rt := e.codeFlow(confID).RefreshToken
	b.ReportAllocs()
	for b.Loop() {
		w := benchPost(b, e, e.p.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode(), confID)
		var res struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || res.RefreshToken == "" {
			b.Fatalf("no refresh token in %s", w.Body)
		}
		rt = res.RefreshToken
	}
}

func BenchmarkTokenHandlerCode(b *testing.B) {
	e := newEnv(b)
	type pending struct{ code, verifier string }
	codes := make([]pending, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if len(codes) == 0 {
			b.StopTimer()
			for range cap(codes) {
				c, v := e.codeFor(confID)
				codes = append(codes, pending{c, v})
			}
			b.StartTimer()
		}
		c := codes[len(codes)-1]
		codes = codes[:len(codes)-1]
		form := url.Values{"grant_type": {"authorization_code"}, "code": {c.code}, "redirect_uri": {redirectURI}, "code_verifier": {c.verifier}}.Encode()
		benchPost(b, e, e.p.Token, form, confID)
	}
}
