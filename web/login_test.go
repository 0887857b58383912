package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/storage"
)

func TestPageLoginWrongPassword(t *testing.T) {
	f := newPageFixture(t)
	for _, tt := range []struct{ name, email, password string }{
		{"wrong password", pgEmail, "not the password"},
		{"unknown e-mail", "nobody@example.com", pgPassword},
		{"empty password", pgEmail, ""},
		{"over bcrypt's 72 bytes", pgEmail, pgPassword + strings.Repeat("x", 80)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := f.NewBrowser(t)
			login := b.Get("/login")
			r := b.SignIn(login, tt.email, tt.password)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422; body:\n%s", r.StatusCode, r.Body)
			}
			if !strings.Contains(r.Body, "Wrong e-mail or password.") {
				t.Errorf("body lacks the generic message:\n%s", r.Body)
			}
			if b.Cookie(sessionCookie) != nil {
				t.Errorf("a session cookie was set after a failed sign-in")
			}
			assertPageHeaders(t, r)
		})
	}
	t.Run("right password", func(t *testing.T) {
		b := f.NewBrowser(t)
		r := b.SignIn(b.Get("/login"), strings.ToUpper(pgEmail), pgPassword)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("status %d Location %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
		}
		ck := findSetCookie(r, sessionCookie)
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || len(ck.Value) != 43 {
			t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, 43-char secret", ck)
		}
		home := b.Get("/")
		if !strings.Contains(home.Body, "Signed in as <strong>"+pgEmail+"</strong>") {
			t.Errorf("home page does not show the operator:\n%s", home.Body)
		}
	})
}

func TestPageSecureCookies(t *testing.T) {
	f := newPageFixture(t, func(o *Options) { o.SecureCookies = true })
	// The test server is plain HTTP, so the jar would drop Secure cookies:
	// read the Set-Cookie headers directly.
	b := f.NewBrowser(t)
	login := b.Get("/login")
	ck := findSetCookie(login, loginCSRFCookie)
	if ck == nil || !ck.Secure || !ck.HttpOnly {
		t.Fatalf("login CSRF cookie = %+v, want Secure and HttpOnly", ck)
	}
	form := loginValues(t, login, pgEmail, pgPassword)
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: loginCSRFCookie, Value: ck.Value})
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sc := findSetCookie(testResponse{Response: resp}, sessionCookie)
	if resp.StatusCode != http.StatusSeeOther || sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
		t.Fatalf("status %d, session cookie %+v; want 303 and a Secure, HttpOnly, SameSite=Lax cookie", resp.StatusCode, sc)
	}
}

func TestPageLoginCSRF(t *testing.T) {
	f := newPageFixture(t)
	b := f.NewBrowser(t)
	login := b.Get("/login")
	form := loginValues(t, login, pgEmail, pgPassword)
	for _, tt := range []struct {
		name string
		csrf string
	}{
		{"missing", ""},
		{"wrong", strings.Repeat("A", 43)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range form {
				v[k] = vs
			}
			v.Set("csrf", tt.csrf)
			r := b.Post("/login", v)
			if r.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403; body:\n%s", r.StatusCode, r.Body)
			}
			if b.Cookie(sessionCookie) != nil {
				t.Fatal("signed in despite a bad CSRF token")
			}
		})
	}
	t.Run("no cookie", func(t *testing.T) {
		r := f.NewBrowser(t).Post("/login", form) // right token, other browser
		if r.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", r.StatusCode)
		}
	})
}

func TestPageLoginReturnToStaysLocal(t *testing.T) {
	f := newPageFixture(t)
	authz := "/oauth/authorize?client_id=helpdesk&response_type=code"
	tests := []struct{ returnTo, want string }{
		{"", "/"},
		{"https://evil.test/oauth/authorize?x=1", "/"},
		{"//evil.test/oauth/authorize?x=1", "/"},
		{"/\\evil.test", "/"},
		{"/oauth/authorize?x=1\r\nLocation: https://evil.test", "/"},
		{"javascript:alert(1)", "/"},
		{"/admin/v1/clients", "/"},
		{"/oauth/authorize", "/"},
		{"/oauth/authorize/../../evil", "/"},
		{authz, "/oauth/authorize?client_id=helpdesk&response_type=code"},
		{"/account/plugins?website=site-1&x=https://evil.test", "/account/plugins?website=site-1"},
	}
	for _, tt := range tests {
		t.Run(tt.returnTo, func(t *testing.T) {
			if got := safeReturnTo(tt.returnTo); got != tt.want {
				t.Errorf("safeReturnTo(%q) = %q, want %q", tt.returnTo, got, tt.want)
			}
			b := f.NewBrowser(t)
			form := loginValues(t, b.Get("/login"), pgEmail, pgPassword)
			form.Set("return_to", tt.returnTo)
			r := b.Post("/login", form)
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != tt.want {
				t.Fatalf("status %d Location %q, want 303 to %q", r.StatusCode, r.Header.Get("Location"), tt.want)
			}
		})
	}
	// The login form rendered in place on /oauth/authorize carries the
	// request back, and only that.
	au := f.authURL("s1", oauth2.GenerateVerifier())
	b := f.NewBrowser(t)
	login := b.Get(au)
	rt := findForm(t, login.Body, "/login").Values().Get("return_to")
	u, _ := url.Parse(au)
	if want := "/oauth/authorize?" + u.Query().Encode(); rt != want {
		t.Fatalf("return_to = %q, want %q", rt, want)
	}
}

func TestPageLogout(t *testing.T) {
	f := newPageFixture(t)
	au := f.authURL("s", oauth2.GenerateVerifier(), pgRequested)
	b, page := f.signedInConsent(t, au)
	secret := b.Cookie(sessionCookie).Value
	logout := findForm(t, page.Body, "/logout").Values()
	if r := b.Post("/logout", url.Values{"csrf": {"wrong"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with a bad CSRF token: status %d, want 403", r.StatusCode)
	}
	r := b.Post("/logout", logout)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("logout: status %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	if b.Cookie(sessionCookie) != nil {
		t.Error("session cookie kept after logout")
	}
	if _, err := f.Store.GetSession(testCtx(t), secret); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetSession after logout: err = %v, want ErrNotFound", err)
	}
	if r := b.Get(au); !strings.Contains(r.Body, `action="/login"`) {
		t.Error("authorize after logout does not ask to sign in")
	}
}

func TestPageLoginRateLimited(t *testing.T) {
	f := newPageFixture(t)
	b := f.NewBrowser(t)
	login := b.Get("/login")
	for i := range DefaultLoginPerAccount {
		if r := b.SignIn(login, pgEmail, "wrong"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: status %d, want 422", i+1, r.StatusCode)
		}
	}
	// Over the limit even the right password is refused, with the same
	// answer whatever the account.
	r := b.SignIn(login, pgEmail, pgPassword)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "Too many failed sign-in attempts") {
		t.Fatalf("status %d Retry-After %q, want 429:\n%s", r.StatusCode, r.Header.Get("Retry-After"), r.Body)
	}
	if b.Cookie(sessionCookie) != nil {
		t.Fatal("signed in over the rate limit")
	}
}
