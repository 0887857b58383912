package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// hostileFixture is a server with a confidential plugin, a public plugin,
// a resource server and an admin token, and the limits raised out of the
// way (TestRateLimit* covers them), so each hostile request gets the
// endpoint's own answer.
type hostileFixture struct {
	e                    *testEnv
	plugSecret, rsSecret string
	other, otherSecret   string
	admin                string
}

const (
	hPlug     = "plug"
	hPlugURI  = "https://plug.example/cb"
	hPub      = "pub"
	hPubURI   = "http://127.0.0.1:9/cb"
	hRS       = "rs"
	hVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

func newHostileFixture(t *testing.T) *hostileFixture {
	t.Helper()
	e := newTestEnv(t, func(o *Options) {
		o.Limits = RateLimits{OAuthPerClient: -1, OAuthPerAddr: -1, LoginPerAccount: -1, LoginPerAddr: -1, AdminPerAddr: -1}
		o.LeakedRate = -1
	})
	f := &hostileFixture{e: e, admin: strings.Repeat("k", 40)}
	f.plugSecret = e.AddPlugin(t, hPlug, "Plug", []string{hPlugURI}, "website:people:data:read website:people:data:write website:people:profiles:read")
	f.other = "other"
	f.otherSecret = e.AddPlugin(t, f.other, "Other", []string{"https://other.example/cb"}, "website:people:data:read")
	f.rsSecret = e.AddResourceServer(t, hRS)
	now := time.Now()
	if err := e.Store.CreateClient(testCtx(t), storage.Client{ID: hPub, Name: "Pub", Type: storage.Public, RedirectURIs: []string{hPubURI},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Role: storage.RolePlugin, Status: storage.Active,
		Approved: scopes.MustParse("website:people:data:read"), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.AddAdminToken(testCtx(t), f.admin, "hostile"); err != nil {
		t.Fatal(err)
	}
	return f
}

// grant stores a live grant for client with the given tokens: a refresh
// token, an access token, and a code with an S256 challenge of hVerifier
// and redirect URI uri.
func (f *hostileFixture) grant(t *testing.T, client, uri string) (refresh, access, code string) {
	t.Helper()
	now := time.Now()
	g := storage.Grant{ID: token.NewID(), ClientID: client, WebsiteID: "site-1", OperatorID: "op-1",
		Scopes: scopes.MustParse("website:people:data:read"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.e.Store.CreateGrant(testCtx(t), g); err != nil {
		t.Fatal(err)
	}
	refresh, access, code = token.New(token.Refresh, g.ID), token.New(token.Access, g.ID), token.New(token.Code, g.ID)
	sum := sha256.Sum256([]byte(hVerifier))
	mk := func(v string, k token.Kind) storage.NewToken {
		nt := storage.NewToken{Value: v, Token: storage.Token{Kind: k, GrantID: g.ID, ClientID: client, Scopes: g.Scopes,
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)}}
		if k == token.Code {
			nt.ExpiresAt = now.Add(time.Minute)
			nt.RedirectURI, nt.CodeChallenge, nt.CodeChallengeMethod = uri, base64.RawURLEncoding.EncodeToString(sum[:]), "S256"
		}
		return nt
	}
	if err := f.e.Store.IssueTokens(testCtx(t), mk(refresh, token.Refresh), mk(access, token.Access), mk(code, token.Code)); err != nil {
		t.Fatal(err)
	}
	return refresh, access, code
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// hostileCase is one malicious request and the answer RFC 6749 / 6750 /
// 7009 / 7662 (or the admin API's JSON, or an HTML error page) requires.
type hostileCase struct {
	name   string
	method string
	path   string // with any query
	ctype  string
	body   string
	auth   string
	header map[string]string
	status int
	// code is the RFC error: in the JSON body, or in the query of a
	// redirect to the registered URI (redirect set). Empty: no JSON error
	// expected (an HTML page, a 2xx, a 431).
	code     string
	redirect bool
}

const formCT = "application/x-www-form-urlencoded"

// manyParams is n distinct parameters.
func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "p%d=&", i)
	}
	return b.String()
}

// TestHostileInput sends malformed and malicious requests to every
// endpoint: each gets its RFC error and status; none gets a 5xx, a stack
// trace, or a redirect anywhere but a registered redirect URI.
func TestHostileInput(t *testing.T) {
	f := newHostileFixture(t)
	cases := f.cases(t)
	if len(cases) < 60 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	registered := []string{hPlugURI + "?", hPubURI + "?", "https://other.example/cb?"}
	client := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testCtx(t), tc.method, f.e.URL+"/", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			// The path goes on the wire as written (CR, LF, %2f and all).
			req.URL.Opaque = "//" + req.URL.Host + strings.NewReplacer("\r", "%0D", "\n", "%0A").Replace(tc.path)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			if resp.StatusCode >= 500 || strings.Contains(string(body), "goroutine ") || strings.Contains(string(body), "panic") {
				t.Fatalf("server error: %d %s", resp.StatusCode, body)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %.300s", resp.StatusCode, tc.status, body)
			}
			loc := resp.Header.Get("Location")
			if loc != "" {
				ok := false
				for _, r := range registered {
					ok = ok || strings.HasPrefix(loc, r)
				}
				if !ok {
					t.Fatalf("redirect to an unregistered URI: %q", loc)
				}
			}
			switch {
			case tc.redirect:
				u, err := url.Parse(loc)
				if err != nil || u.Query().Get("error") != tc.code {
					t.Errorf("redirect %q, want error=%s", loc, tc.code)
				}
			case tc.code != "":
				if loc != "" {
					t.Errorf("unexpected redirect %q", loc)
				}
				var e struct {
					Error string `json:"error"`
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error != tc.code {
					t.Errorf("body %.300s, want JSON error %q", body, tc.code)
				}
			case tc.status == 400 || tc.status == 405:
				if loc != "" {
					t.Errorf("unexpected redirect %q", loc)
				}
			}
		})
	}
}
