package oauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestParseFormWith: the endpoints' rules (the zero FormRules) and each
// relaxation a page asks for, one at a time.
func TestParseFormWith(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	page := FormRules{MaxBytes: 64 << 10, Repeatable: []string{"box"}, QueryAllowed: true}
	tests := []struct {
		name       string
		rules      FormRules
		method     string
		query      string
		ctype      string
		body       string
		wantStatus int // 0: accepted
		want       map[string][]string
	}{
		{name: "endpoint: plain", body: "a=1&b=2", want: map[string][]string{"a": {"1"}, "b": {"2"}}},
		{name: "endpoint: charset parameter", ctype: form + "; charset=UTF-8", body: "a=1", want: map[string][]string{"a": {"1"}}},
		{name: "endpoint: GET", method: http.MethodGet, wantStatus: 405},
		{name: "endpoint: query", query: "a=1", body: "b=2", wantStatus: 400},
		{name: "endpoint: bare ?", query: "?", body: "b=2", wantStatus: 400},
		{name: "endpoint: JSON", ctype: "application/json", body: `{"a":1}`, wantStatus: 400},
		{name: "endpoint: no Content-Type", ctype: "-", body: "a=1", wantStatus: 400},
		{name: "endpoint: twice", body: "box=1&box=2", wantStatus: 400},
		{name: "endpoint: invalid UTF-8 value", body: "a=%ff", wantStatus: 400},
		{name: "endpoint: invalid UTF-8 name", body: "%ff=1", wantStatus: 400},
		{name: "endpoint: malformed", body: "a=%zz", wantStatus: 400},
		{name: "endpoint: at the bound", body: "a=" + strings.Repeat("x", MaxBodyBytes-2), want: map[string][]string{"a": {strings.Repeat("x", MaxBodyBytes-2)}}},
		{name: "endpoint: over the bound", body: "a=" + strings.Repeat("x", MaxBodyBytes-1), wantStatus: 413},
		{name: "page: repeatable twice", rules: page, body: "box=1&box=2&a=3", want: map[string][]string{"box": {"1", "2"}, "a": {"3"}}},
		{name: "page: other field twice", rules: page, body: "box=1&a=3&a=4", wantStatus: 400},
		{name: "page: invalid UTF-8 in a repeated value", rules: page, body: "box=1&box=%ff", wantStatus: 400},
		{name: "page: query let through, not read", rules: page, query: "a=9&q=1", body: "a=3", want: map[string][]string{"a": {"3"}}},
		{name: "page: larger bound", rules: page, body: "a=" + strings.Repeat("x", 60<<10), want: map[string][]string{"a": {strings.Repeat("x", 60<<10)}}},
		{name: "page: over its bound", rules: page, body: "a=" + strings.Repeat("x", 64<<10), wantStatus: 413},
		{name: "page: still POST only", rules: page, method: http.MethodPut, body: "a=1", wantStatus: 405},
		{name: "page: still form only", rules: page, ctype: "multipart/form-data; boundary=x", body: "--x--", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, "/x", strings.NewReader(tt.body))
			r.URL.RawQuery = tt.query
			if tt.query == "?" {
				r.URL.RawQuery, r.URL.ForceQuery = "", true
			}
			switch tt.ctype {
			case "":
				r.Header.Set("Content-Type", form)
			case "-":
			default:
				r.Header.Set("Content-Type", tt.ctype)
			}
			w := httptest.NewRecorder()
			err := ParseFormWith(w, r, tt.rules)
			if tt.wantStatus != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalidRequest || e.Status != tt.wantStatus || e.Description == "" {
					t.Fatalf("err = %#v, want invalid_request %d with a description", err, tt.wantStatus)
				}
				if tt.wantStatus == 405 && w.Header().Get("Allow") != http.MethodPost {
					t.Errorf("405 without Allow: POST")
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want the form accepted", err)
			}
			if len(r.Form) != len(tt.want) || len(r.PostForm) != len(tt.want) {
				t.Fatalf("Form = %v, PostForm = %v, want %v", r.Form, r.PostForm, tt.want)
			}
			for k, vs := range tt.want {
				if strings.Join(r.Form[k], "\x00") != strings.Join(vs, "\x00") || strings.Join(r.PostForm[k], "\x00") != strings.Join(vs, "\x00") {
					t.Errorf("%s = %q (Form) %q (PostForm), want %q", k, r.Form[k], r.PostForm[k], vs)
				}
			}
		})
	}
}

// FuzzParseFormWith: under the page rules too, any request either parses
// into a clean form (body parameters only, only the repeatable ones more
// than once, valid UTF-8, the body within its bound) or fails with an
// invalid_request *Error of a 4xx status. Never a panic.
func FuzzParseFormWith(f *testing.F) {
	f.Add("POST", "application/x-www-form-urlencoded", "a=1", "box=1&box=2&csrf=x", true)
	f.Add("POST", "application/x-www-form-urlencoded", "", "csrf=x&csrf=y", false)
	f.Add("POST", "application/x-www-form-urlencoded", "%zz", "a=1", true)
	f.Add("POST", "text/plain", "", "a=1", true)
	f.Fuzz(func(t *testing.T, method, ctype, query, body string, page bool) {
		if !validMethod(method) {
			return
		}
		var rules FormRules
		if page {
			rules = FormRules{MaxBytes: 1 << 10, Repeatable: []string{"box"}, QueryAllowed: true}
		}
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
		r.Method = method
		r.URL.RawQuery = query
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		err := ParseFormWith(httptest.NewRecorder(), r, rules)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidRequest || e.Status < 400 || e.Status > 499 {
				t.Fatalf("error %#v, want an invalid_request *Error with a 4xx status", err)
			}
			return
		}
		limit := MaxBodyBytes
		if page {
			limit = 1 << 10
		}
		if method != http.MethodPost || (query != "" && !page) || len(body) > limit {
			t.Fatalf("accepted %s, query %q, %d-byte body (page rules %v)", method, query, len(body), page)
		}
		for k, vs := range r.Form {
			if (len(vs) != 1 && !(page && k == "box")) || !utf8.ValidString(k) {
				t.Fatalf("accepted parameter %q = %q", k, vs)
			}
			for i, v := range vs {
				if !utf8.ValidString(v) || r.PostForm[k][i] != v {
					t.Fatalf("accepted parameter %q = %q (body: %q)", k, vs, r.PostForm[k])
				}
			}
		}
	})
}
