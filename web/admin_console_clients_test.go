package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/scopegate/scopegate/storage"
)

// TestAdminConsoleClientActions: search, rotate with grace (secret shown
// once), suspend and resume, no widening, revoke everything, delete with
// typed confirmation, and the audit timeline's filter and pages.
func TestAdminConsoleClientActions(t *testing.T) {
	e := newAdminTestEnv(t)
	rsID, rsSecret := e.createResourceServer(t)
	id, secret := e.createPlugin(t, "bucket:url:write", "plugin:subscription:bill:read")
	tok := e.ccToken(t, id, secret)
	b, csrf := adminSignIn(t, e.testEnv)
	post := func(action string, v url.Values) testResponse {
		t.Helper()
		v.Set("csrf", csrf)
		return b.Post("/admin/clients/"+id+"/"+action, v)
	}

	if list := b.Get("/admin/clients?q=TEST+plug"); !strings.Contains(list.Body, `id="client-`+id+`"`) || !regexp.MustCompile(`Live grants" class="num">1<`).MatchString(list.Body) {
		t.Errorf("search by name lacks the client or its live grant:\n%s", list.Body)
	}
	if list := b.Get("/admin/clients?q=zzz"); strings.Contains(list.Body, id) || !strings.Contains(list.Body, "No client matches") {
		t.Error("search for zzz lists the client")
	}
	if list := b.Get("/admin/clients?status=suspended"); strings.Contains(list.Body, id) {
		t.Error("status=suspended lists an active client")
	}

	r := post("rotate", url.Values{"grace_seconds": {"3600"}})
	sm := regexp.MustCompile(`id="new-secret" readonly value="([^"]+)"`).FindStringSubmatch(r.Body)
	if r.StatusCode != 200 || sm == nil {
		t.Fatalf("rotate: %d\n%s", r.StatusCode, r.Body)
	}
	newSecret := sm[1]
	e.ccToken(t, id, secret)
	e.ccToken(t, id, newSecret)
	page := b.Get("/admin/clients/" + id)
	if strings.Contains(page.Body, newSecret) || !strings.Contains(page.Body, "Previous, verifies until") || strings.Contains(page.Body, "(not recorded)") {
		t.Errorf("client page after rotation shows the secret or lacks its grace/creation:\n%s", page.Body)
	}
	if r := post("rotate", url.Values{"grace_seconds": {"5"}}); r.StatusCode != 400 {
		t.Errorf("odd grace: %d", r.StatusCode)
	}

	if r := post("suspend", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", r.StatusCode, r.Body)
	}
	if e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("token active while suspended")
	}
	if r := post("resume", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: %d", r.StatusCode)
	}
	if !e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Error("token inactive after resume")
	}
	if r := post("maximum", url.Values{"scope": {"bucket:url:write", "bucket:url:read"}}); r.StatusCode != 400 || !strings.Contains(r.Body, "widening needs a review") {
		t.Errorf("widening: %d", r.StatusCode)
	}
	r = post("revoke", url.Values{})
	if r.StatusCode != 200 || !strings.Contains(r.Body, `id="count-grants">1<`) || e.Introspect(t, rsID, rsSecret, tok).Active {
		t.Errorf("revoke everything: %d\n%s", r.StatusCode, r.Body)
	}
	if r := post("delete", url.Values{"confirm": {"Test"}}); r.StatusCode != 400 {
		t.Errorf("delete with a wrong confirmation: %d", r.StatusCode)
	}
	e.must(t, 200, http.MethodGet, "/admin/v1/clients/"+id, nil)
	if r := post("delete", url.Values{"confirm": {"Test Plugin"}}); r.StatusCode != 200 || !strings.Contains(r.Body, "is deleted") {
		t.Errorf("delete: %d", r.StatusCode)
	}
	e.must(t, 404, http.MethodGet, "/admin/v1/clients/"+id, nil)
	if r := b.Get("/admin/clients/" + id); r.StatusCode != 404 {
		t.Errorf("deleted client's page: %d", r.StatusCode)
	}

	// The audit timeline: filter, links, pages of 50, bad filters.
	a := b.Get("/admin/audit?client_id=" + id + "&kind=client.deleted")
	if n := strings.Count(a.Body, `<tr class="event">`); n != 1 || !strings.Contains(a.Body, `href="/admin/clients/`+id+`"`) {
		t.Errorf("filtered audit: %d rows", n)
	}
	for i := range 60 {
		if err := e.Store.AppendEvent(tbCtx(t), storage.Event{Kind: "test.filler", WebsiteID: "site-x", Detail: map[string]string{"n": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	a = b.Get("/admin/audit?kind=test.filler&since=2000-01-01T00:00")
	if n := strings.Count(a.Body, `<tr class="event">`); n != 50 || !strings.Contains(a.Body, "n=59") || !strings.Contains(a.Body, `href="/admin/audit?website_id=site-x"`) {
		t.Fatalf("audit page 1: %d rows", n)
	}
	m := regexp.MustCompile(`href="([^"]*)" id="older"`).FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatal("no link to older events")
	}
	a = b.Get(html.UnescapeString(m[1]))
	if n := strings.Count(a.Body, `<tr class="event">`); n != 10 || !strings.Contains(a.Body, "n=0") || strings.Contains(a.Body, `id="older"`) {
		t.Errorf("audit page 2: %d rows", n)
	}
	if r := b.Get("/admin/audit?kind=" + url.QueryEscape("no such kind!")); r.StatusCode != 400 {
		t.Errorf("bad kind filter: %d", r.StatusCode)
	}
}
