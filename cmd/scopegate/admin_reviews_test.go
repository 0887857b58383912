package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/web/adminapi"
)

func TestCLIReviewsRevokeAudit(t *testing.T) {
	c := newCLIEnv(t)
	p := c.json(t, "", "clients", "create", "--name", "Uploader", "--grant-type", "client_credentials")
	id, secret := p["client_id"].(string), p["client_secret"].(string)
	rs := c.json(t, "", "clients", "create", "--name", "API", "--role", "resource-server")
	rsID, rsSecret := rs["client_id"].(string), rs["client_secret"].(string)

	// The plugin files its own request.
	body, _ := json.Marshal(adminapi.PluginReviewRequest{Lines: []adminapi.ReviewLineRequest{
		{Scope: "bucket:url:write", Justification: "We upload the PDF invoices the plugin generates."},
		{Scope: "plugin:subscription:bill:write", Justification: "We report metered usage for billing every hour."}}})
	req, _ := http.NewRequest(http.MethodPost, c.base+"/plugin/v1/scope-requests", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var filed adminapi.Review
	_ = json.NewDecoder(resp.Body).Decode(&filed)
	resp.Body.Close()
	if resp.StatusCode != 201 || filed.ID == "" {
		t.Fatalf("file request: %d", resp.StatusCode)
	}

	list := c.ok(t, "", "reviews", "list")
	if !strings.HasPrefix(list, "REVIEW") || strings.Count(list, filed.ID) != 2 || !strings.Contains(list, "bucket:url:write") {
		t.Errorf("reviews list:\n%s", list)
	}
	var reviews adminapi.ReviewList
	if c.typed(t, &reviews, "", "reviews", "list"); len(reviews.Reviews) != 1 || reviews.Reviews[0].ID != filed.ID {
		t.Errorf("reviews list --json: %+v", reviews)
	}
	out := c.ok(t, "", "reviews", "decide", filed.ID, "--line", "0", "--approve", "--note", "ok")
	if out != "line 0 of review "+filed.ID+" approved; client "+id+" approved maximum: bucket:url:write\n" {
		t.Errorf("decide output %q", out)
	}
	var dec adminapi.Decided
	c.typed(t, &dec, "", "reviews", "decide", filed.ID, "--line", "1", "--reject", "--note", "needs a contract")
	if dec.Review.Status != "decided" || dec.Review.Lines[1].Status != "rejected" || strings.Join(dec.Client.Approved, " ") != "bucket:url:write" {
		t.Errorf("decide --json = %+v", dec)
	}
	c.fails(t, c.env(), 1, "", []string{"reviews", "decide", filed.ID, "--line", "1", "--approve"}, "line 1 is already rejected")
	show := c.ok(t, "", "reviews", "show", filed.ID)
	if !strings.Contains(show, "approved") || !strings.Contains(show, "rejected") || !strings.Contains(show, "admin:configured token: needs a contract") {
		t.Errorf("reviews show:\n%s", show)
	}
	if _, err := c.ccConfig(id, secret, "plugin:subscription:bill:write").Token(context.Background()); err == nil {
		t.Error("rejected scope granted")
	}
	tok, err := c.ccConfig(id, secret, "bucket:url:write").Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Revoke by token read from stdin: its grant dies; counts in JSON.
	rv := c.json(t, tok.AccessToken+"\n", "revoke", "--token", "-")
	if rv["grants"] != 1.0 || rv["tokens"] != 1.0 || rv["durable"] != true || len(rv) != 3 {
		t.Errorf("revoke --token - --json = %v", rv)
	}
	if active(c.introspect(t, rsID, rsSecret, tok.AccessToken)) {
		t.Error("revoked token active")
	}
	tok2, err := c.ccConfig(id, secret).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out := c.ok(t, "", "revoke", "--client", id); out != "revoked 1 grant, 1 token\n" {
		t.Errorf("revoke --client output %q", out)
	}
	if active(c.introspect(t, rsID, rsSecret, tok2.AccessToken)) {
		t.Error("token active after revoking its client")
	}
	c.fails(t, c.env(), 1, "", []string{"revoke", "--website", "nope-site"}, "scopegate revoke: website not found")

	// Audit: filters, paging, text table.
	a := c.json(t, "", "audit", "--client", id, "--kind", "revoke.client")
	evs := a["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["actor"] != "admin:configured token" || a["next"] != "" {
		t.Errorf("audit --kind revoke.client = %v", a)
	}
	if strings.Contains(c.ok(t, "", "audit", "--limit", "1000"), tok.AccessToken) {
		t.Error("the audit trail holds a token")
	}
	var page1, page2 adminapi.AuditPage
	c.typed(t, &page1, "", "audit", "--client", id, "--limit", "2")
	if len(page1.Events) != 2 || page1.Next == "" {
		t.Fatalf("audit page 1 = %+v", page1)
	}
	c.typed(t, &page2, "", "audit", "--client", id, "--limit", "2", "--after", page1.Next)
	if len(page2.Events) == 0 || page1.Events[1].ID == page2.Events[0].ID {
		t.Errorf("page 2 repeats page 1 or is empty: %+v", page2)
	}
	text := c.ok(t, "", "audit", "--client", id, "--limit", "2", "--since", "1h")
	if !strings.HasPrefix(text, "TIME") || !strings.Contains(text, "more: --after ") {
		t.Errorf("audit text:\n%s", text)
	}
	if got := c.json(t, "", "audit", "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))["events"].([]any); len(got) != 0 {
		t.Errorf("audit since the future = %v", got)
	}
}
