package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
)

// TestStorageDown: with Redis gone, every endpoint answers 503
// temporarily_unavailable with Retry-After, never a token, never
// active:true or active:false, never invalid_client or invalid_grant (the
// client did nothing wrong), and never an internal detail.
//
// Engine default: a storage error reaches the engine wrapped, is not found
// in its error table (compared by value) and goes out as 500 server_error.
func TestStorageDown(t *testing.T) {
	rs := redistest.Start(t)
	// No retries: a refused connection fails the command at once (go-redis
	// would otherwise retry each command 3 times and each dial 5 times,
	// 100 ms apart).
	e := newEnvAt(t, rs.Addr, &redis.Options{Addr: rs.Addr, MaxRetries: -1, DialerRetries: 1, DialerRetryTimeout: time.Millisecond, DialTimeout: 2 * time.Second})

	tok := e.codeFlow(confID) // caches confID
	code, verifier := e.codeFor(confID)
	if !e.active(tok.AccessToken) { // caches the resource server
		t.Fatal("token inactive before the outage")
	}
	cfg := e.config(confID, oauth2.AuthStyleInHeader)
	authURL := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))
	req, err := e.parseAuthorize(authURL)
	if err != nil {
		t.Fatal(err)
	}

	rs.Kill() // the redis-server process is gone: refused connections from now on

	want503 := func(t *testing.T, r reply) {
		t.Helper()
		wantError(t, r, http.StatusServiceUnavailable, CodeTemporarilyUnavailable)
		if r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if _, ok := r.json(t)["active"]; ok {
			t.Errorf("503 body carries an introspection answer: %s", r.body)
		}
	}
	t.Run("introspect", func(t *testing.T) {
		want503(t, e.post("/oauth/introspect", url.Values{"token": {tok.AccessToken}}, e.basicFor(rsID)))
		want503(t, e.post("/oauth/introspect", url.Values{"token": {tok.RefreshToken}}, e.basicFor(rsID)))
		in, err := e.p.IntrospectToken(e.ctx, tok.AccessToken)
		if !errors.Is(err, storage.ErrUnavailable) || in.Active {
			t.Errorf("IntrospectToken = %+v, %v; want an error that Is storage.ErrUnavailable", in, err)
		}
	})
	t.Run("token", func(t *testing.T) {
		want503(t, e.tokenForm(url.Values{"grant_type": {"client_credentials"}}, e.basicFor(confID)))
		want503(t, e.refresh(confID, tok.RefreshToken))
		want503(t, e.tokenForm(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.basicFor(confID)))
		// Not cached: authentication itself cannot be decided.
		want503(t, e.tokenForm(url.Values{"grant_type": {"client_credentials"}}, e.basicFor(otherID)))
		_, err := cfg.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
		wantRetrieveError(t, err, http.StatusServiceUnavailable, CodeTemporarilyUnavailable)
	})
	t.Run("revoke", func(t *testing.T) {
		want503(t, e.post("/oauth/revoke", url.Values{"token": {tok.AccessToken}}, e.basicFor(confID)))
	})
	t.Run("authorize", func(t *testing.T) {
		r, err := e.parseAuthorize(e.config(otherID, oauth2.AuthStyleInHeader).AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		if r != nil {
			t.Error("ParseAuthorize with storage down gave a redirectable request")
		}
		if e, _ := AsError(err); e.Code != CodeTemporarilyUnavailable {
			t.Errorf("ParseAuthorize error = %v, want temporarily_unavailable", err)
		}
		_, err = e.p.Approve(e.ctx, req, Consent{OperatorID: operator, WebsiteID: website, Scopes: req.Requested})
		if pe, _ := AsError(err); pe.Code != CodeTemporarilyUnavailable || pe.Status != http.StatusServiceUnavailable {
			t.Errorf("Approve error = %v, want temporarily_unavailable", err)
		}
	})
}
