package web

import (
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

// leakFixture stores a grant with an access and a refresh token for a
// plugin, and another plugin's grant that must survive.
type leakFixture struct {
	e                        *testEnv
	rsID, rsSecret           string
	access, refresh, bystand string
	grantID                  string
}

func newLeakFixture(t *testing.T, opts ...func(*Options)) *leakFixture {
	t.Helper()
	e := newTestEnv(t, opts...)
	f := &leakFixture{e: e}
	f.rsID = "leak-rs"
	f.rsSecret = e.AddResourceServer(t, f.rsID)
	e.AddPlugin(t, "leaky", "Leaky", []string{"https://leaky.example/cb"}, "website:people:data:read")
	e.AddPlugin(t, "careful", "Careful", []string{"https://careful.example/cb"}, "website:people:data:read")
	mk := func(client string) (string, string, string) {
		now := time.Now()
		g := storage.Grant{ID: token.NewID(), ClientID: client, WebsiteID: "site-1", OperatorID: "op-1",
			Scopes: scopes.MustParse("website:people:data:read"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := e.Store.CreateGrant(testCtx(t), g); err != nil {
			t.Fatal(err)
		}
		at, rt := token.New(token.Access, g.ID), token.New(token.Refresh, g.ID)
		tok := func(v string, k token.Kind) storage.NewToken {
			return storage.NewToken{Value: v, Token: storage.Token{Kind: k, GrantID: g.ID, ClientID: client, Scopes: g.Scopes,
				IssuedAt: now, ExpiresAt: now.Add(time.Hour)}}
		}
		if err := e.Store.IssueTokens(testCtx(t), tok(at, token.Access), tok(rt, token.Refresh)); err != nil {
			t.Fatal(err)
		}
		return g.ID, at, rt
	}
	f.grantID, f.access, f.refresh = mk("leaky")
	_, f.bystand, _ = mk("careful")
	return f
}

func (f *leakFixture) report(t *testing.T, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(f.e.URL+"/oauth/leaked", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestLeakedTokenReportRevokesItsGrant(t *testing.T) {
	f := newLeakFixture(t)
	status, body := f.report(t, url.Values{"token": {f.access}})
	if status != http.StatusAccepted {
		t.Fatalf("status %d %s", status, body)
	}
	if strings.Contains(body, f.access) {
		t.Fatal("the answer echoes the token")
	}
	for name, tok := range map[string]string{"access": f.access, "refresh": f.refresh} {
		if f.e.Introspect(t, f.rsID, f.rsSecret, tok).Active {
			t.Errorf("%s token of the reported grant still active", name)
		}
	}
	if !f.e.Introspect(t, f.rsID, f.rsSecret, f.bystand).Active {
		t.Error("another plugin's token was revoked")
	}
	evs, err := f.e.Store.ListEvents(testCtx(t), storage.EventFilter{Kind: "grant.revoked"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].GrantID != f.grantID || evs[0].Actor != "leak-report" || evs[0].ClientID != "leaky" {
		t.Fatalf("audit events %+v", evs)
	}
	for _, ev := range evs {
		for k, v := range ev.Detail {
			if strings.Contains(v, f.access) {
				t.Fatalf("audit detail %s holds the token", k)
			}
		}
	}
}

// The answer must not tell a live token from a dead, unknown or malformed
// one: same status, same body.
func TestLeakedTokenAnswerSaysNothing(t *testing.T) {
	f := newLeakFixture(t)
	_, want := f.report(t, url.Values{"token": {f.refresh}})
	forged := token.New(token.Access, token.NewID())
	for name, tok := range map[string]string{
		"already revoked": f.access, "unknown but well-formed": forged, "malformed": "sga_nope", "not a token": "hello world",
	} {
		status, body := f.report(t, url.Values{"token": {tok}})
		if status != http.StatusAccepted || body != want {
			t.Errorf("%s: %d %q, want 202 %q", name, status, body, want)
		}
	}
	if !f.e.Introspect(t, f.rsID, f.rsSecret, f.bystand).Active {
		t.Error("a report of another grant's token revoked a bystander")
	}
}

func TestLeakedTokenReportBadRequests(t *testing.T) {
	f := newLeakFixture(t, func(o *Options) { o.LeakedRate = 3 })
	if status, body := f.report(t, url.Values{}); status != 400 || !strings.Contains(body, `"invalid_request"`) {
		t.Fatalf("missing token: %d %s", status, body)
	}
	resp, err := http.Get(f.e.URL + "/oauth/leaked?token=" + url.QueryEscape(f.access))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	if !f.e.Introspect(t, f.rsID, f.rsSecret, f.access).Active {
		t.Fatal("a GET with the token in the query revoked it")
	}
	// Rate limit: 3 per minute per IP; the missing-token request counted.
	f.report(t, url.Values{"token": {"x"}})
	f.report(t, url.Values{"token": {"y"}})
	if status, body := f.report(t, url.Values{"token": {f.access}}); status != http.StatusTooManyRequests || !strings.Contains(body, "temporarily_unavailable") {
		t.Fatalf("over the rate: %d %s", status, body)
	}
	if !f.e.Introspect(t, f.rsID, f.rsSecret, f.access).Active {
		t.Fatal("a rate-limited report still revoked")
	}
}
