package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/storage"
)

// pluginRequest files a scope request as the plugin (HTTP Basic).
func (e *adminEnv) pluginRequest(t *testing.T, id, secret string, body string) apiResp {
	t.Helper()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodPost, e.URL+"/plugin/v1/scope-requests", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func TestReviewFlow(t *testing.T) {
	e := newAdminTestEnv(t)
	id, secret := e.createPlugin(t)
	rsID, rsSecret := e.createResourceServer(t)
	request := `{"lines":[
		{"scope":"bucket:url:write","justification":"We upload the PDF invoices the plugin generates for the operator."},
		{"scope":"plugin:subscription:bill:write","justification":"We would like to report usage for metered billing every hour."}]}`

	// Client authentication is required and checked.
	r := e.pluginRequest(t, "", "", request)
	if r.Status != 401 || r.JSON(t)["error"] != "invalid_client" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("no auth: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := e.pluginRequest(t, id, "sgs_wrong", request); r.Status != 401 || r.JSON(t)["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %s", r.Status, r.Body)
	}
	if r := e.pluginRequest(t, rsID, rsSecret, request); r.Status != 403 || r.JSON(t)["error"] != "unauthorized_client" {
		t.Fatalf("resource server filing: %d %s", r.Status, r.Body)
	}
	if r := e.pluginRequest(t, id, secret, `{"lines":[{"scope":"bucket:url:write","justification":"pls"}]}`); r.Status != 400 ||
		!strings.HasPrefix(fields(t, r)["lines[0].justification"], "must be a real sentence") {
		t.Fatalf("short justification: %d %s", r.Status, r.Body)
	}
	r = e.pluginRequest(t, id, secret, request)
	if r.Status != 201 {
		t.Fatalf("file: %d %s", r.Status, r.Body)
	}
	var rv struct {
		ID      string `json:"id"`
		FiledBy string `json:"filed_by"`
		Status  string `json:"status"`
		Lines   []struct {
			Scope, Permission, Kind, Description, Status string
		} `json:"lines"`
	}
	r.Decode(t, &rv)
	if rv.FiledBy != "client" || rv.Status != "pending" || len(rv.Lines) != 2 || rv.Lines[0].Permission != "write" ||
		rv.Lines[0].Kind != "plugin" || rv.Lines[0].Description != "Generate file upload URLs" {
		t.Fatalf("review = %+v", rv)
	}
	// Nothing is approved yet.
	if code, _ := e.ccError(t, id, secret, "bucket:url:write"); code != "invalid_scope" {
		t.Errorf("before the decision: %s", code)
	}
	queue := e.must(t, 200, http.MethodGet, "/admin/v1/reviews", nil)["reviews"].([]any)
	if len(queue) != 1 || queue[0].(map[string]any)["id"] != rv.ID {
		t.Fatalf("queue = %v", queue)
	}

	// Approve line 0, reject line 1.
	m := e.must(t, 200, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/0", map[string]any{"decision": "approve", "note": "fine"})
	if got := strings.Join(toStrings(m["client"].(map[string]any)["approved"]), " "); got != "bucket:url:write" {
		t.Errorf("approved after line 0 = %s", got)
	}
	e.must(t, 200, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/1", map[string]any{"decision": "reject", "note": "billing needs a contract"})
	if r := e.api(t, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/1", map[string]any{"decision": "approve"}); r.Status != 409 {
		t.Errorf("deciding twice: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/2", map[string]any{"decision": "approve"}); r.Status != 404 {
		t.Errorf("line out of range: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPost, "/admin/v1/reviews/"+rv.ID+"/lines/-1", map[string]any{"decision": "approve"}); r.Status != 404 {
		t.Errorf("negative line: %d %s", r.Status, r.Body)
	}

	// Beyond the approved lines: invalid_scope; within: a token.
	if code, status := e.ccError(t, id, secret, "plugin:subscription:bill:write"); code != "invalid_scope" || status != 400 {
		t.Errorf("rejected scope: %s %d", code, status)
	}
	if code, _ := e.ccError(t, id, secret, "bucket:url:write", "plugin:subscription:bill:write"); code != "invalid_scope" {
		t.Errorf("approved + rejected scope: %s", code)
	}
	tok := e.ccToken(t, id, secret, "bucket:url:write")
	if got := e.Introspect(t, rsID, rsSecret, tok).Scope; got != "bucket:url:write" {
		t.Errorf("token scope = %q", got)
	}

	got := e.must(t, 200, http.MethodGet, "/admin/v1/reviews/"+rv.ID, nil)
	lines := got["lines"].([]any)
	if got["status"] != "decided" || lines[0].(map[string]any)["status"] != "approved" || lines[1].(map[string]any)["status"] != "rejected" ||
		lines[1].(map[string]any)["note"] != "billing needs a contract" || lines[1].(map[string]any)["reviewer"] != "admin:tester" {
		t.Errorf("review after decisions = %v", got)
	}
	if q := e.must(t, 200, http.MethodGet, "/admin/v1/reviews", nil)["reviews"].([]any); len(q) != 0 {
		t.Errorf("queue after decisions = %v", q)
	}
	if h := e.must(t, 200, http.MethodGet, "/admin/v1/reviews?status=decided&client_id="+id, nil)["reviews"].([]any); len(h) != 1 {
		t.Errorf("decided reviews = %v", h)
	}
	// Filing an approved scope again is refused; an admin can file too.
	r = e.pluginRequest(t, id, secret, `{"lines":[{"scope":"bucket:url:write","justification":"We upload the PDF invoices the plugin generates."}]}`)
	if r.Status != 400 || fields(t, r)["lines[0].scope"] != "is already approved for this client" {
		t.Errorf("re-filing an approved scope: %d %s", r.Status, r.Body)
	}
	adm := e.must(t, 201, http.MethodPost, "/admin/v1/reviews", map[string]any{"client_id": id, "lines": []map[string]string{
		{"scope": "bucket:url:read", "justification": "The plugin lists the files it uploaded before."}}})
	if adm["filed_by"] != "admin:tester" || adm["status"] != "pending" {
		t.Errorf("admin-filed review = %v", adm)
	}
	kinds := map[string]int{}
	evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?client_id="+id, nil)["events"].([]any)
	for _, ev := range evs {
		kinds[ev.(map[string]any)["kind"].(string)]++
	}
	if kinds["review.filed"] != 2 || kinds["review.line_approved"] != 1 || kinds["review.line_rejected"] != 1 {
		t.Errorf("audit kinds = %v", kinds)
	}
}

func TestAdminAuditPaging(t *testing.T) {
	e := newAdminTestEnv(t)
	for _, w := range []string{"s-1", "s-2", "s-3", "s-4", "s-5"} {
		e.must(t, 201, http.MethodPost, "/admin/v1/websites", map[string]any{"id": w, "name": w})
	}
	id, _ := e.createPlugin(t)
	var seen []string
	after := ""
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatal("too many pages")
		}
		q := url.Values{"kind": {"website.created"}, "limit": {"2"}}
		if after != "" {
			q.Set("after", after)
		}
		var p struct {
			Events []storage.Event `json:"events"`
			Next   string          `json:"next"`
		}
		e.api(t, http.MethodGet, "/admin/v1/audit?"+q.Encode(), nil).Decode(t, &p)
		for _, ev := range p.Events {
			if ev.Kind != "website.created" {
				t.Errorf("kind filter: %+v", ev)
			}
			seen = append(seen, ev.WebsiteID)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if got := strings.Join(seen, " "); got != "s-5 s-4 s-3 s-2 s-1" {
		t.Errorf("pages newest first = %q", got)
	}
	evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?client_id="+id, nil)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["kind"] != "client.created" {
		t.Errorf("client filter = %v", evs)
	}
	future := e.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?since="+future, nil)["events"].([]any); len(evs) != 0 {
		t.Errorf("since the future = %v", evs)
	}
	if evs := e.must(t, 200, http.MethodGet, "/admin/v1/audit?until="+future+"&website_id=s-3", nil)["events"].([]any); len(evs) != 1 {
		t.Errorf("website + until filter = %v", evs)
	}
}

func TestAdminOperators(t *testing.T) {
	e := newAdminTestEnv(t)
	e.must(t, 201, http.MethodPost, "/admin/v1/websites", map[string]any{"id": "site-a", "name": "A"})
	if r := e.api(t, http.MethodPost, "/admin/v1/websites", map[string]any{"id": "site-a", "name": "Other"}); r.Status != 409 {
		t.Errorf("duplicate website: %d %s", r.Status, r.Body)
	}
	if w := e.must(t, 200, http.MethodGet, "/admin/v1/websites/site-a", nil); w["name"] != "A" {
		t.Errorf("website changed by the duplicate: %v", w)
	}
	const pw = "correct horse battery"
	m := e.must(t, 201, http.MethodPost, "/admin/v1/operators", map[string]any{"email": "Ops@Example.com", "password": pw, "websites": []string{"site-a"}})
	if !strings.HasPrefix(m["operator_id"].(string), "op_") || m["email"] != "ops@example.com" {
		t.Errorf("operator = %v", m)
	}
	if r := e.api(t, http.MethodPost, "/admin/v1/operators", map[string]any{"email": "ops@example.com", "password": pw, "websites": []string{"site-a"}}); r.Status != 409 {
		t.Errorf("duplicate e-mail: %d %s", r.Status, r.Body)
	}
	if strings.Contains(dumpRedis(t, e.RDB), pw) {
		t.Error("Redis holds the password")
	}
	// The operator can sign in on the operator pages.
	b := e.NewBrowser(t)
	page := b.Get("/login")
	if r := b.SignIn(page, "ops@example.com", pw); r.StatusCode != http.StatusSeeOther {
		t.Errorf("operator sign-in: %d", r.StatusCode)
	}
}

// TestAdminSeparateListener: with SeparateAdmin the public handler has no
// /admin/ route, while the plugin API stays public.
func TestAdminSeparateListener(t *testing.T) {
	e := newAdminTestEnv(t, func(o *Options) { o.SeparateAdmin = true })
	if r := e.api(t, http.MethodGet, "/admin/v1/clients", nil); r.Status != 404 {
		t.Errorf("admin API on the public handler: %d", r.Status)
	}
	for _, p := range []string{"/admin", "/admin/review", "/admin/clients", "/admin/audit"} {
		if r := e.raw(t, http.MethodGet, p, "", nil, nil); r.Status != 404 {
			t.Errorf("admin page %s on the public handler: %d", p, r.Status)
		}
	}
	admin := httptest.NewServer(e.Web.AdminHandler())
	t.Cleanup(admin.Close)
	req, _ := http.NewRequest(http.MethodGet, admin.URL+"/admin/v1/clients", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("admin API on the admin handler: %d", resp.StatusCode)
	}
	if r := e.pluginRequest(t, "", "", `{}`); r.Status != 401 {
		t.Errorf("plugin API on the public handler: %d %s", r.Status, r.Body)
	}
}
