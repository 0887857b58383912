package web

import (
	"net/http"
	"strings"
	"testing"
)

func TestAdminValidation(t *testing.T) {
	e := newAdminTestEnv(t)
	e.must(t, 201, http.MethodPost, "/admin/v1/websites", map[string]any{"id": "site-1", "name": "Site"})
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		ct         string
		wantStatus int
		wantFields map[string]string // exact keys; values checked by prefix
	}{
		{"client: every bad field named", "POST", "/admin/v1/clients",
			`{"name":"","redirect_uris":["https://ok.example/cb","http://evil.example/cb","https://x.example/cb#frag","/relative"],"grant_types":["password"],"approve":["website:people:data:write","website:nope:read"]}`, "", 400,
			map[string]string{
				"name":             "is required",
				"redirect_uris[1]": "must be https (http only for loopback hosts)",
				"redirect_uris[2]": "must not have a fragment",
				"redirect_uris[3]": "must be an absolute URL",
				"grant_types[0]":   "must be one of: authorization_code, refresh_token, client_credentials",
				"approve[1]":       "must be a scope NAME:read or NAME:write from the catalogue",
			}},
		{"client: unknown field", "POST", "/admin/v1/clients", `{"name":"x","client_secret":"mine"}`, "", 400,
			map[string]string{"client_secret": "is not a known field"}},
		{"client: wrong type", "POST", "/admin/v1/clients", `{"name":5}`, "", 400, map[string]string{"name": "must be a string"}},
		{"client: wrong array type", "POST", "/admin/v1/clients", `{"name":"x","redirect_uris":"https://a.example/cb"}`, "", 400,
			map[string]string{"redirect_uris": "must be an array of strings"}},
		{"client: resource server with grants", "POST", "/admin/v1/clients", `{"name":"api","role":"resource-server","grant_types":["client_credentials"]}`, "", 400,
			map[string]string{"grant_types": "must be empty for a resource-server client"}},
		{"client: public with client credentials", "POST", "/admin/v1/clients", `{"name":"p","type":"public","redirect_uris":["http://127.0.0.1:9/cb"],"grant_types":["authorization_code","client_credentials"]}`, "", 400,
			map[string]string{"grant_types": "client_credentials needs a confidential client"}},
		{"client: code without redirect", "POST", "/admin/v1/clients", `{"name":"p","grant_types":["authorization_code"]}`, "", 400,
			map[string]string{"redirect_uris": "at least one is required for authorization_code"}},
		{"client: bad id", "POST", "/admin/v1/clients", `{"id":"a b{","name":"p"}`, "", 400, map[string]string{"id": "must be 3 to 64 characters"}},
		{"malformed JSON", "POST", "/admin/v1/clients", `{"name":`, "", 400, nil},
		{"trailing data", "POST", "/admin/v1/clients", `{"name":"x"} {"name":"y"}`, "", 400, nil},
		{"not an object", "POST", "/admin/v1/clients", `["x"]`, "", 400, nil},
		{"empty body", "POST", "/admin/v1/clients", ``, "", 400, nil},
		{"form content type", "POST", "/admin/v1/clients", `name=x`, "application/x-www-form-urlencoded", 415, nil},
		{"too large", "POST", "/admin/v1/clients", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, "", 413, nil},
		{"review: short justification and bad scope", "POST", "/admin/v1/reviews",
			`{"client_id":"nope","lines":[{"scope":"website:people:data:write","justification":"need it"},{"scope":"website:people:data","justification":"We sync contact records from the CRM into the website."}]}`, "", 400,
			map[string]string{"lines[0].justification": "must be a real sentence", "lines[1].scope": "must be a scope NAME:read or NAME:write from the catalogue (missing permission"}},
		{"review: no lines", "POST", "/admin/v1/reviews", `{"client_id":"plg_x","lines":[]}`, "", 400, map[string]string{"lines": "must have at least 1 items"}},
		{"review: unknown client", "POST", "/admin/v1/reviews",
			`{"client_id":"plg_missing","lines":[{"scope":"bucket:url:write","justification":"We upload generated invoices for the operator."}]}`, "", 400,
			map[string]string{"client_id": "no such client"}},
		{"operator: every field", "POST", "/admin/v1/operators", `{"email":"not-an-email","password":"short","websites":["site-1","missing-site"]}`, "", 400,
			map[string]string{"email": "must be an e-mail address", "password": "must be at least 12 characters", "websites[1]": "no such website"}},
		{"website: missing name", "POST", "/admin/v1/websites", `{"id":"site-2"}`, "", 400, map[string]string{"name": "is required"}},
		{"revoke: two at once", "POST", "/admin/v1/revoke", `{"client_id":"plg_a","website_id":"site-1"}`, "", 400,
			map[string]string{"client_id": "give exactly one of", "website_id": "give exactly one of"}},
		{"revoke: none", "POST", "/admin/v1/revoke", `{}`, "", 400, nil},
		{"revoke: not a token", "POST", "/admin/v1/revoke", `{"token":"ghp_notours"}`, "", 400, map[string]string{"token": "is not a scopegate token"}},
		{"rotate: grace too long", "POST", "/admin/v1/clients/plg_x/rotate-secret", `{"grace_seconds":604801}`, "", 400, map[string]string{"grace_seconds": "must be at most 604800"}},
		{"decide: bad decision", "POST", "/admin/v1/reviews/0123456789012345678901/lines/0", `{"decision":"maybe"}`, "", 400, map[string]string{"decision": "must be one of: approve, reject"}},
		{"audit: bad parameters", "GET", "/admin/v1/audit?since=yesterday&limit=0&after=x&color=red", ``, "", 400,
			map[string]string{"color": "is not a known parameter"}},
		{"audit: bad values", "GET", "/admin/v1/audit?since=yesterday&limit=0&after=x", ``, "", 400,
			map[string]string{"since": "must be an RFC 3339 time", "limit": "must be an integer from 1 to 1000", "after": "must be the next value"}},
		{"grants: neither", "GET", "/admin/v1/grants", ``, "", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.ct
			if ct == "" && tt.body != "" {
				ct = "application/json"
			}
			r := e.raw(t, tt.method, tt.path, ct, []byte(tt.body), map[string]string{"Authorization": "Bearer " + testAdminToken})
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			m := r.JSON(t)
			if m["error"] != "invalid_request" || m["error_description"] == "" {
				t.Errorf("want invalid_request with a description: %s", r.Body)
			}
			if tt.wantFields == nil {
				return
			}
			got := fields(t, r)
			if len(got) != len(tt.wantFields) {
				t.Errorf("fields = %v, want keys of %v", got, tt.wantFields)
			}
			for k, want := range tt.wantFields {
				if !strings.HasPrefix(got[k], want) {
					t.Errorf("fields[%q] = %q, want prefix %q", k, got[k], want)
				}
			}
		})
	}
	// Nothing was created by any of it.
	if m := e.must(t, 200, http.MethodGet, "/admin/v1/clients", nil); len(m["clients"].([]any)) != 0 {
		t.Errorf("clients were created: %v", m["clients"])
	}
}

func TestAdminUnknownRoutesAndMethods(t *testing.T) {
	e := newAdminTestEnv(t)
	if r := e.api(t, http.MethodGet, "/admin/v1/clients/plg_missing", nil); r.Status != 404 || r.JSON(t)["error"] != "not_found" {
		t.Errorf("missing client: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodGet, "/admin/v1/clients/%7Bbad%7D", nil); r.Status != 404 {
		t.Errorf("impossible client id: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodGet, "/admin/v1/reviews/nope", nil); r.Status != 404 {
		t.Errorf("bad review id: %d %s", r.Status, r.Body)
	}
	if r := e.api(t, http.MethodPut, "/admin/v1/clients", nil); r.Status != 405 {
		t.Errorf("PUT /admin/v1/clients: %d %s", r.Status, r.Body)
	}
}
