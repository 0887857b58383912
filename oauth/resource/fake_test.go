package resource_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAS is a stand-in for scopegate's introspection endpoint, for tests of
// the client's own logic (cache expiry, website binding) that need answers
// a real server gives only slowly (exp in a second) or not on demand. The
// end-to-end behaviour is proven against the real server in
// resource_test.go and integration/resource_test.go.
type fakeAS struct {
	srv   *httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	toks  map[string]map[string]any // token -> RFC 7662 body
	gate  chan struct{}             // when set, each call waits for it
}

func newFakeAS(t *testing.T) *fakeAS {
	t.Helper()
	f := &fakeAS{toks: map[string]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		if id, secret, ok := r.BasicAuth(); !ok || id != "api" || secret != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		gate := f.gate
		body, ok := f.toks[r.PostFormValue("token")]
		f.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if !ok {
			body = map[string]any{"active": false}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAS) set(tok string, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if body == nil {
		delete(f.toks, tok)
		return
	}
	f.toks[tok] = body
}

func (f *fakeAS) url() string { return f.srv.URL + "/oauth/introspect" }

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
