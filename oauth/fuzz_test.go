package oauth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseForm: any body, Content-Type and query either parse into a
// clean form (body parameters only, each once, valid UTF-8, the body
// bounded) or fail with an RFC 6749 *Error of a 4xx status. Never a panic.
func FuzzParseForm(f *testing.F) {
	f.Add("POST", "application/x-www-form-urlencoded", "", "grant_type=refresh_token&refresh_token=sgr_x")
	f.Add("POST", "application/x-www-form-urlencoded; charset=UTF-8", "", "token=a&token_type_hint=access_token")
	f.Add("POST", "application/x-www-form-urlencoded", "scope=a", "scope=b")
	f.Add("POST", "application/x-www-form-urlencoded", "", "a=%ff&b=\x00&c=%zz")
	f.Add("POST", "multipart/form-data; boundary=x", "", "--x\r\n\r\n--x--")
	f.Add("GET", "", "token=x", "")
	f.Add("POST", "application/x-www-form-urlencoded", "", strings.Repeat("a=1&", 100))
	f.Add("POST", "application/x-www-form-urlencoded", "", ";a=1;b=2")
	f.Fuzz(func(t *testing.T, method, ctype, query, body string) {
		if !validMethod(method) {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		r.Method = method
		r.URL.RawQuery = query
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		w := httptest.NewRecorder()
		err := ParseForm(w, r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidRequest || e.Status < 400 || e.Status > 499 {
				t.Fatalf("ParseForm error %#v, want an invalid_request *Error with a 4xx status", err)
			}
			return
		}
		if method != http.MethodPost || query != "" {
			t.Fatalf("accepted method %q with query %q", method, query)
		}
		if len(body) > MaxBodyBytes {
			t.Fatalf("accepted a %d-byte body", len(body))
		}
		for k, vs := range r.Form {
			if len(vs) != 1 || !utf8.ValidString(k) || !utf8.ValidString(vs[0]) {
				t.Fatalf("accepted parameter %q = %q", k, vs)
			}
			if r.PostForm.Get(k) != vs[0] {
				t.Fatalf("r.Form[%q] is not the body's", k)
			}
		}
	})
}

// validMethod reports whether m is a method net/http accepts: an HTTP
// token (RFC 9110 §9.1).
func validMethod(m string) bool {
	_, err := http.NewRequest(m, "/", nil)
	return m != "" && err == nil
}

// FuzzClientCredentials: any Authorization header with any client_id and
// client_secret in the form gives either credentials with a non-empty
// client ID, or invalid_client / invalid_request (RFC 6749 §2.3.1, §5.2).
// HTTP Basic's id and secret are form-urlencoded first, and Basic plus a
// secret in the body (two methods) is refused.
func FuzzClientCredentials(f *testing.F) {
	b := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	f.Add(b("plug:secret"), "", "")
	f.Add(b("pl%75g:s%3Acret"), "plug", "")
	f.Add(b("plug:secret"), "", "secret")
	f.Add(b("plug"), "", "")
	f.Add(b("%zz:%zz"), "", "")
	f.Add("Basic !!!", "", "")
	f.Add("Bearer sga_x", "", "")
	f.Add("", "pub", "")
	f.Add("", "plug", "secret")
	f.Add("basic "+base64.StdEncoding.EncodeToString([]byte(":")), "", "")
	f.Fuzz(func(t *testing.T, auth, formID, formSecret string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", nil)
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		r.PostForm = url.Values{}
		if formID != "" {
			r.PostForm.Set("client_id", formID)
		}
		if formSecret != "" {
			r.PostForm.Set("client_secret", formSecret)
		}
		id, secret, basic, err := ClientCredentials(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Code != CodeInvalidClient && e.Code != CodeInvalidRequest) {
				t.Fatalf("error %#v, want invalid_client or invalid_request", err)
			}
			if id != "" || secret != "" {
				t.Fatal("credentials returned with an error")
			}
			return
		}
		if id == "" {
			t.Fatal("no error and no client ID")
		}
		if basic != (auth != "") {
			t.Fatalf("basic = %v with Authorization %q", basic, auth)
		}
		if basic && formSecret != "" {
			t.Fatal("Basic and client_secret (two methods) accepted")
		}
		if basic && formID != "" && formID != id {
			t.Fatalf("Basic id %q and client_id %q accepted", id, formID)
		}
		if !basic && (id != formID || secret != formSecret) {
			t.Fatalf("form credentials %q/%q read as %q/%q", formID, formSecret, id, secret)
		}
	})
}
