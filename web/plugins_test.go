package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

func TestPageConnectedPluginsDisconnect(t *testing.T) {
	f := newPageFixture(t)
	c := f.connect(t, "s", []string{"website:conversation:messages:write", "website:people:data:read"})
	b, tok := c.b, c.tok

	list := b.Get("/account/plugins?website=site-1")
	if list.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", list.StatusCode, list.Body)
	}
	assertPageHeaders(t, list)
	for _, want := range []string{
		"Helpdesk &lt;b&gt;Pro&lt;/b&gt;", "Shop One", "Send messages in conversations", "See data stored in CRM profiles",
		`title="website:people:data:read">READ</span>`, `title="website:conversation:messages:write">WRITE</span>`,
		"can change conversation messages but not read them", "Connected on <time datetime=",
	} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("connected plugins page lacks %q", want)
		}
	}
	if strings.Contains(list.Body, "website:conversation:sessions:read") {
		t.Error("the page lists a scope that was not granted")
	}
	gs := f.grants(t, "site-1")
	if len(gs) != 1 {
		t.Fatalf("grants = %+v, want 1", gs)
	}
	form := findForm(t, list.Body, "/account/plugins/disconnect").Values()
	if form.Get("grant_id") != gs[0].ID || form.Get("website") != "site-1" || form.Get("csrf") == "" {
		t.Fatalf("disconnect form = %v", form)
	}

	// Another operator cannot disconnect it, neither through their own
	// website nor through site-1.
	f.AddOperator(t, "eve@example.com", pgPassword, "site-2")
	eve := f.NewBrowser(t)
	eveHome := eve.FollowSignIn(eve.Get("/login"), "eve@example.com", pgPassword)
	eveCSRF := findForm(t, eveHome.Body, "/logout").Values().Get("csrf")
	for _, site := range []string{"site-1", "site-2"} {
		r := eve.Post("/account/plugins/disconnect", url.Values{"csrf": {eveCSRF}, "website": {site}, "grant_id": {gs[0].ID}})
		want := map[string]int{"site-1": http.StatusForbidden, "site-2": http.StatusNotFound}[site]
		if r.StatusCode != want {
			t.Fatalf("eve disconnecting via %s: status %d, want %d", site, r.StatusCode, want)
		}
	}
	// Wrong CSRF.
	bad := url.Values{"csrf": {token.NewRandom()}, "website": {"site-1"}, "grant_id": {gs[0].ID}}
	if r := b.Post("/account/plugins/disconnect", bad); r.StatusCode != http.StatusForbidden {
		t.Fatalf("bad CSRF: status %d, want 403", r.StatusCode)
	}
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); !in.Active {
		t.Fatal("token inactive before Disconnect")
	}

	// The first POST only asks for confirmation: nothing is revoked yet.
	ask := b.Post("/account/plugins/disconnect", form)
	if ask.StatusCode != http.StatusOK || !strings.Contains(ask.Body, "Disconnect Helpdesk &lt;b&gt;Pro&lt;/b&gt; &amp; &#34;Co&#34;?") ||
		!strings.Contains(ask.Body, "Send messages in conversations") {
		t.Fatalf("disconnect without confirm: status %d, want 200 with the confirmation page:\n%s", ask.StatusCode, ask.Body)
	}
	assertPageHeaders(t, ask)
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); !in.Active {
		t.Fatal("token inactive after the unconfirmed Disconnect")
	}
	confirm := findForm(t, ask.Body, "/account/plugins/disconnect").Values()
	if confirm.Get("confirm") != "yes" || confirm.Get("grant_id") != gs[0].ID || confirm.Get("csrf") != form.Get("csrf") {
		t.Fatalf("confirmation form = %v", confirm)
	}
	r := b.Post("/account/plugins/disconnect", confirm)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/plugins?website=site-1&disconnected=1" {
		t.Fatalf("disconnect: status %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	after := b.Get(r.Header.Get("Location"))
	if !strings.Contains(after.Body, "The plugin was disconnected.") || !strings.Contains(after.Body, "No plugin is connected") ||
		strings.Contains(after.Body, gs[0].ID) {
		t.Fatalf("page after disconnect:\n%s", after.Body)
	}
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.AccessToken); in.Active {
		t.Fatalf("access token still active after Disconnect: %+v", in)
	}
	if in := f.Introspect(t, pgRSID, f.RSSecret, tok.RefreshToken); in.Active {
		t.Fatalf("refresh token still active after Disconnect: %+v", in)
	}
	evs, err := f.Store.ListEvents(testCtx(t), storage.EventFilter{Kind: "grant.revoked"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Actor != "operator:"+f.Op.ID || evs[0].GrantID != gs[0].ID || evs[0].WebsiteID != "site-1" || evs[0].ClientID != pgPluginID {
		t.Fatalf("audit events = %+v", evs)
	}
}
