package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// TestGrantTypeAuthorization: a client gets unauthorized_client for every
// grant type it is not registered for, and that check, like every storage
// call of the token endpoint, runs with the request's context. (The
// engine's ClientAuthorizedHandler has no context parameter; it is left
// unset and Token checks the authenticated client instead.)
func TestGrantTypeAuthorization(t *testing.T) {
	e := newEnv(t)
	const ccOnly = "plugin-cc-only"
	e.addClient(storage.Client{ID: ccOnly, Type: storage.Confidential, GrantTypes: []string{"client_credentials"}, Approved: approvedPlugin})
	code, verifier := e.codeFor(confID)
	refresh := e.codeFlow(confID).RefreshToken
	cases := []struct {
		name       string
		id         string
		form       url.Values
		wantStatus int
		wantCode   string // "" for success
	}{
		{"code grant not registered", ccOnly, url.Values{"grant_type": {"authorization_code"}, "code": {token.New(token.Code, token.NewID())}, "redirect_uri": {redirectURI}}, 400, CodeUnauthorizedClient},
		{"refresh not registered", noRefID, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token.New(token.Refresh, token.NewID())}}, 400, CodeUnauthorizedClient},
		{"client credentials not registered", noRefID, url.Values{"grant_type": {"client_credentials"}}, 400, CodeUnauthorizedClient},
		{"client credentials registered", ccOnly, url.Values{"grant_type": {"client_credentials"}}, 200, ""},
		{"code registered", confID, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, 200, ""},
		{"refresh registered", confID, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, 200, ""},
	}
	// A client record is never reused here (real clock, 1 ns TTL), so a
	// check that read the client without the request's context would
	// show up as a Redis command without the request's mark.
	p := New(Config{Issuer: e.srv.URL, ClientCacheTTL: time.Nanosecond}, e.store)
	hook := &ctxMarks{}
	e.rdb.AddHook(hook)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.WithValue(context.Background(), requestMark{}, tc.name)
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/oauth/token", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(tc.id), url.QueryEscape(e.secrets[tc.id]))
			rec := httptest.NewRecorder()
			before := hook.marked()
			p.Token(rec, req)
			r := reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
			if tc.wantCode != "" {
				wantError(t, r, tc.wantStatus, tc.wantCode)
			} else if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if hook.marked() == before {
				t.Error("no Redis command carried the request's context")
			}
			if n := hook.unmarked(); n != 0 {
				t.Errorf("%d Redis commands ran without the request's context", n)
			}
		})
	}
}

type requestMark struct{}

// ctxMarks counts Redis commands by whether their context carries a
// requestMark.
type ctxMarks struct {
	mu         sync.Mutex
	with, none int
}

func (h *ctxMarks) note(ctx context.Context) {
	h.mu.Lock()
	if ctx.Value(requestMark{}) != nil {
		h.with++
	} else {
		h.none++
	}
	h.mu.Unlock()
}

func (h *ctxMarks) marked() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.with
}

func (h *ctxMarks) unmarked() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.none
}

func (h *ctxMarks) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *ctxMarks) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.note(ctx)
		return next(ctx, cmd)
	}
}

func (h *ctxMarks) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.note(ctx)
		return next(ctx, cmds)
	}
}
