package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/embedded"
	"github.com/scopegate/scopegate/storage/token"
)

// fuzzServer is a web server over the embedded store (miniredis, the same
// storage code as production) with a plugin, a resource server, an admin
// token, a signed-in operator and live tokens to aim at.
type fuzzServer struct {
	h                          http.Handler
	plug, rs, admin, session   string
	csrf, access, refresh, cde string
}

const fuzzPlugURI = "https://plug.example/cb"

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	log := slog.New(slog.DiscardHandler)
	rdb, stop, err := embedded.Start(log)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = stop() })
	store := storage.NewRedis(rdb, storage.RedisOptions{})
	ctx := context.Background()
	now := time.Now()
	fs := &fuzzServer{plug: token.NewSecret(), rs: token.NewSecret(), admin: strings.Repeat("z", 40), session: token.NewRandom(), csrf: token.NewRandom()}
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	must(store.PutWebsite(ctx, storage.Website{ID: "site-1", Name: "Site"}))
	must(store.CreateOperator(ctx, storage.Operator{ID: "op-1", Email: "op@example.com", PasswordHash: []byte("$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinvali"), Websites: []string{"site-1"}, CreatedAt: now}))
	must(store.CreateClient(ctx, storage.Client{ID: "plug", Name: "Plug", Type: storage.Confidential, Secrets: []storage.SecretHash{oauth.HashSecret(fs.plug)},
		RedirectURIs: []string{fuzzPlugURI}, GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}, Role: storage.RolePlugin,
		Status: storage.Active, Approved: scopes.MustParse("website:people:data:read website:people:data:write"), CreatedAt: now, UpdatedAt: now}))
	must(store.CreateClient(ctx, storage.Client{ID: "rs", Name: "RS", Type: storage.Confidential, Secrets: []storage.SecretHash{oauth.HashSecret(fs.rs)},
		Role: storage.RoleResourceServer, Status: storage.Active, CreatedAt: now, UpdatedAt: now}))
	must(store.AddAdminToken(ctx, fs.admin, "fuzz"))
	must(store.CreateSession(ctx, fs.session, storage.Session{OperatorID: "op-1", CSRF: fs.csrf, ExpiresAt: now.Add(24 * time.Hour)}))
	g := storage.Grant{ID: token.NewID(), ClientID: "plug", WebsiteID: "site-1", OperatorID: "op-1", Scopes: scopes.MustParse("website:people:data:read"),
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	must(store.CreateGrant(ctx, g))
	fs.access, fs.refresh, fs.cde = token.New(token.Access, g.ID), token.New(token.Refresh, g.ID), token.New(token.Code, g.ID)
	tok := func(v string, k token.Kind) storage.NewToken {
		return storage.NewToken{Value: v, Token: storage.Token{Kind: k, GrantID: g.ID, ClientID: "plug", Scopes: g.Scopes, IssuedAt: now,
			ExpiresAt: now.Add(24 * time.Hour), RedirectURI: fuzzPlugURI}}
	}
	must(store.IssueTokens(ctx, tok(fs.access, token.Access), tok(fs.refresh, token.Refresh), tok(fs.cde, token.Code)))
	p := oauth.New(oauth.Config{Issuer: "http://127.0.0.1:1", Logger: log}, store)
	fs.h = New(Options{Provider: p, Store: store, Logger: log,
		Limits:     RateLimits{OAuthPerClient: -1, OAuthPerAddr: -1, LoginPerAccount: -1, LoginPerAddr: -1, AdminPerAddr: -1},
		LeakedRate: -1}).Handler()
	return fs
}

// expand replaces placeholders with live credentials, so the fuzzer can
// reach code behind authentication: $PLUG/$RS (HTTP Basic), $ADMIN
// (Bearer), $CSRF, $AT, $RT, $CODE.
func (fs *fuzzServer) expand(s string) string {
	return strings.NewReplacer(
		"$PLUG", basicAuth("plug", fs.plug), "$RS", basicAuth("rs", fs.rs), "$ADMIN", "Bearer "+fs.admin,
		"$CSRF", fs.csrf, "$AT", fs.access, "$RT", fs.refresh, "$CODE", fs.cde,
	).Replace(s)
}

// FuzzHandlers: a fuzzed request to any route, with or without an
// operator session and credentials, never gets a 5xx (a panic becomes a
// 500 in the recoverer) nor a redirect off-site except to the registered
// redirect URI.
func FuzzHandlers(f *testing.F) {
	fs := newFuzzServer(f)
	form := "application/x-www-form-urlencoded"
	seeds := []struct {
		method, target, ctype, auth, body string
		cookie                            bool
	}{
		{"POST", "/oauth/token", form, "$PLUG", "grant_type=refresh_token&refresh_token=$RT", false},
		{"POST", "/oauth/token", form, "$PLUG", "grant_type=authorization_code&code=$CODE&redirect_uri=" + url.QueryEscape(fuzzPlugURI), false},
		{"POST", "/oauth/token", form, "$PLUG", "grant_type=client_credentials&scope=plugin:subscription:bill:read", false},
		{"POST", "/oauth/token", form, "", "grant_type=refresh_token&client_id=plug&client_secret=x&refresh_token=$RT", false},
		{"POST", "/oauth/introspect", form, "$RS", "token=$AT", false},
		{"POST", "/oauth/revoke", form, "$PLUG", "token=$AT&token_type_hint=access_token", false},
		{"POST", "/oauth/leaked", form, "", "token=$RT", false},
		{"GET", "/oauth/authorize?response_type=code&client_id=plug&redirect_uri=" + url.QueryEscape(fuzzPlugURI) + "&scope=website:people:data:read&state=s", "", "", "", true},
		{"POST", "/oauth/authorize", form, "", "response_type=code&client_id=plug&redirect_uri=" + url.QueryEscape(fuzzPlugURI) + "&website_id=site-1&consent_scope=website:people:data:read&action=approve&csrf=$CSRF&consent_id=x", true},
		{"POST", "/login", form, "", "email=op@example.com&password=x&csrf=y&return_to=/", false},
		{"POST", "/account/plugins/disconnect", form, "", "website=site-1&grant_id=x&csrf=$CSRF", true},
		{"GET", "/account/plugins?website=site-1", "", "", "", true},
		{"POST", "/plugin/v1/scope-requests", "application/json", "$PLUG", `{"lines":[{"scope":"website:people:data:write","justification":"because we need it"}]}`, false},
		{"GET", "/admin/v1/clients", "", "$ADMIN", "", false},
		{"POST", "/admin/v1/clients", "application/json", "$ADMIN", `{"id":"new","name":"New","redirect_uris":["https://n.example/cb"]}`, false},
		{"PATCH", "/admin/v1/clients/plug", "application/json", "$ADMIN", `{"name":"P2"}`, false},
		{"POST", "/admin/v1/revoke", "application/json", "$ADMIN", `{"client_id":"plug"}`, false},
		{"GET", "/admin/v1/audit?limit=5&kind=grant.revoked", "", "$ADMIN", "", false},
		{"GET", "/.well-known/oauth-authorization-server", "", "", "", false},
		{"POST", "/admin/login", form, "", "token=x&csrf=y", false},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.ctype, s.auth, s.body, s.cookie)
	}
	f.Fuzz(func(t *testing.T, method, target, ctype, auth, body string, cookie bool) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") {
			return
		}
		u, err := url.ParseRequestURI(fs.expand(target))
		if err != nil {
			return
		}
		r := &http.Request{Method: method, URL: u, RequestURI: u.RequestURI(), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Host: "127.0.0.1:1", RemoteAddr: "192.0.2.1:1234"}
		b := fs.expand(body)
		r.Body, r.ContentLength = http.NoBody, 0
		if b != "" {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(b)), int64(len(b))
		}
		if ctype != "" {
			r.Header["Content-Type"] = []string{ctype}
		}
		if auth != "" {
			r.Header["Authorization"] = []string{fs.expand(auth)}
		}
		if cookie {
			r.Header["Cookie"] = []string{sessionCookie + "=" + fs.session}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w := httptest.NewRecorder()
		fs.h.ServeHTTP(w, r.WithContext(ctx))
		if w.Code >= 500 {
			t.Fatalf("%s %q: status %d: %.300s", method, target, w.Code, w.Body.String())
		}
		loc := w.Header().Get("Location")
		local := strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, "/\\")
		if loc != "" && !local && !strings.HasPrefix(loc, fuzzPlugURI+"?") {
			t.Fatalf("%s %q: redirect to %q", method, target, loc)
		}
	})
}

// validMethod reports whether m is a method net/http accepts: an HTTP
// token (RFC 9110 §9.1), of at most 20 bytes.
func validMethod(m string) bool {
	_, err := http.NewRequest(m, "/", nil)
	return m != "" && len(m) <= 20 && err == nil
}
