package web

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPageFormRefused: an operator page's form is read by the same parser
// as the OAuth endpoints' (oauth.ParseFormWith, page rules), and a refusal
// is the error page with the status and description the API would give.
func TestPageFormRefused(t *testing.T) {
	f := newPageFixture(t)
	b := f.NewBrowser(t)
	good := loginValues(t, b.Get("/login"), pgEmail, "wrong")
	tests := []struct {
		name, path, ctype, body string
		wantStatus              int
		want                    []string // in the page
	}{
		{name: "JSON", path: "/login", ctype: "application/json", body: `{"email":"x"}`,
			wantStatus: 400, want: []string{"Bad request", "Content-Type must be application/x-www-form-urlencoded."}},
		{name: "field twice", path: "/login", body: good.Encode() + "&email=other@example.com",
			wantStatus: 400, want: []string{"Bad request", "is given more than once."}},
		{name: "invalid UTF-8", path: "/login", body: good.Encode() + "&x=%ff",
			wantStatus: 400, want: []string{"Bad request", "Parameters must be valid UTF-8."}},
		{name: "over 64 KiB", path: "/login", body: good.Encode() + "&x=" + strings.Repeat("a", 64<<10),
			wantStatus: 413, want: []string{"Request entity too large", "Request body too large."}},
		{name: "consent: website twice", path: "/oauth/authorize", body: "website_id=site-1&website_id=site-2&action=approve",
			wantStatus: 400, want: []string{"Bad request", "is given more than once."}},
		{name: "disconnect: over 64 KiB", path: "/account/plugins/disconnect", body: "x=" + strings.Repeat("a", 64<<10),
			wantStatus: 413, want: []string{"Request entity too large", "Request body too large."}},
		{name: "disconnect: field twice", path: "/account/plugins/disconnect", body: "grant_id=a&grant_id=b",
			wantStatus: 400, want: []string{"Bad request", "is given more than once."}},
		{name: "logout: query let through unread", path: "/logout?csrf=x", body: "a=1", wantStatus: http.StatusSeeOther},
		{name: "sign-in: query let through unread", path: "/login?email=" + url.QueryEscape(pgEmail), body: good.Encode(),
			wantStatus: http.StatusUnprocessableEntity, want: []string{msgWrongLogin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, f.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			ct := tt.ctype
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ct)
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := testResponse{Response: resp, Body: string(data)}
			if r.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d:\n%s", r.StatusCode, tt.wantStatus, r.Body)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("page lacks %q:\n%s", w, r.Body)
				}
			}
			if r.StatusCode >= 400 {
				assertPageHeaders(t, r)
				if strings.Contains(r.Body, "invalid_request") {
					t.Errorf("page shows the protocol code:\n%s", r.Body)
				}
			}
		})
	}
}
