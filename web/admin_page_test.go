package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fileTwoLineReview creates a plugin and an admin-filed two-line review.
func (e *adminEnv) fileTwoLineReview(t *testing.T) (clientID, reviewID string) {
	t.Helper()
	clientID, _ = e.createPlugin(t)
	m := e.must(t, 201, http.MethodPost, "/admin/v1/reviews", map[string]any{"client_id": clientID, "lines": []map[string]string{
		{"scope": "bucket:url:write", "justification": "We upload the PDF invoices the plugin generates."},
		{"scope": "plugin:subscription:bill:write", "justification": "We report metered usage for billing every hour."},
	}})
	return clientID, m["id"].(string)
}

func TestReviewPageLoginAndCSRF(t *testing.T) {
	e := newAdminTestEnv(t)
	clientID, reviewID := e.fileTwoLineReview(t)
	b := e.NewBrowser(t)

	if r := b.Get("/admin/review"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/login" {
		t.Fatalf("queue without a session: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	page := b.Get("/admin/login")
	if page.StatusCode != 200 || page.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login page: %d %v", page.StatusCode, page.Header)
	}
	form := findForm(t, page.Body, "/admin/login")

	// Wrong token; missing double-submit token.
	v := form.Values()
	v.Set("token", "sgadm_wrong-token-0123456789abcdefghijklmnopq")
	if r := b.Post("/admin/login", v); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "Invalid admin token.") {
		t.Errorf("wrong token: %d", r.StatusCode)
	}
	page = b.Get("/admin/login")
	v = findForm(t, page.Body, "/admin/login").Values()
	v.Set("token", testAdminToken)
	bad := url.Values{"csrf": {"forged"}, "token": {testAdminToken}}
	if r := b.Post("/admin/login", bad); r.StatusCode != http.StatusForbidden {
		t.Errorf("forged login CSRF: %d", r.StatusCode)
	}
	page = b.Get("/admin/login")
	v = findForm(t, page.Body, "/admin/login").Values()
	v.Set("token", testAdminToken)
	r := b.Post("/admin/login", v)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin" {
		t.Fatalf("login: %d %s %s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	var sess *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == adminSessionCookie && c.Value != "" {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/admin" || sess.Secure {
		t.Fatalf("session cookie = %+v", sess)
	}
	if strings.Contains(dumpRedis(t, e.RDB), sess.Value) {
		t.Error("Redis holds the session secret in the clear")
	}

	queue := b.Get("/admin/review")
	if queue.StatusCode != 200 {
		t.Fatalf("queue: %d", queue.StatusCode)
	}
	for _, want := range []string{reviewID, clientID, "bucket:url:write", "Generate file upload URLs", "WRITE",
		"We upload the PDF invoices the plugin generates.", "Write is asked without read."} {
		if !strings.Contains(queue.Body, want) {
			t.Errorf("queue lacks %q", want)
		}
	}
	if strings.Contains(queue.Body, "<script") || strings.Contains(queue.Body, "style=") || strings.Contains(queue.Body, "<style") {
		t.Error("inline script or style in the page")
	}
	decide := findForm(t, queue.Body, "/admin/review/decide")
	dv := decide.Values()
	if dv.Get("review") != reviewID || dv.Get("line") != "0" || dv.Get("csrf") == "" {
		t.Fatalf("decide form = %v", dv)
	}
	// A forged CSRF token changes nothing.
	forged := url.Values{"csrf": {"forged"}, "review": {reviewID}, "line": {"0"}, "decision": {"approve"}, "note": {""}}
	if r := b.Post("/admin/review/decide", forged); r.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", r.StatusCode)
	}
	// Another browser without a session cannot decide.
	other := e.NewBrowser(t)
	if r := other.Post("/admin/review/decide", dv); r.StatusCode != http.StatusForbidden {
		t.Errorf("decide without a session: %d", r.StatusCode)
	}
	if got := e.must(t, 200, http.MethodGet, "/admin/v1/reviews/"+reviewID, nil)["lines"].([]any)[0].(map[string]any)["status"]; got != "pending" {
		t.Fatalf("line 0 after forged posts = %v", got)
	}
	dv.Set("decision", "reject")
	dv.Set("note", "no uploads")
	if r := b.Post("/admin/review/decide", dv); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("decide: %d %s", r.StatusCode, r.Body)
	}
	if r := b.Post("/admin/review/decide", dv); r.StatusCode != http.StatusConflict {
		t.Errorf("deciding twice: %d", r.StatusCode)
	}
	hist := b.Get("/admin/review/clients/" + clientID)
	if hist.StatusCode != 200 || !strings.Contains(hist.Body, "no uploads") || !strings.Contains(hist.Body, "rejected") {
		t.Errorf("history: %d", hist.StatusCode)
	}
	// Log out ends the session.
	lv := findForm(t, hist.Body, "/admin/logout").Values()
	if r := b.Post("/admin/logout", lv); r.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", r.StatusCode)
	}
	if r := b.Get("/admin/review"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("queue after logout: %d", r.StatusCode)
	}
}

// TestReviewPageBrowser drives the review page in Debian's chromium: log
// in with the admin token, approve one line with a note, see it in the
// client's history and in the approved maximum.
func TestReviewPageBrowser(t *testing.T) {
	e := newAdminTestEnv(t)
	clientID, reviewID := e.fileTwoLineReview(t)
	ctx, console := newChrome(t, 60*time.Second)

	line0 := "line-" + reviewID + "-0"
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/admin/review"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testAdminToken),
		chromedp.Click(chromedp.ID("login")),
		// The overview comes first; the queue is one click away.
		chromedp.WaitVisible(chromedp.ID("stat-pending")),
		chromedp.Click(chromedp.ID("nav-review")),
		chromedp.WaitVisible(chromedp.ID(line0)),
	)
	if err != nil {
		t.Fatalf("browser: log in: %v (console: %v)", err, console())
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: text of %s: %v", sel, err)
		}
		return s
	}
	queueText := text("main")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("note-"+reviewID+"-0"), "looks fine"),
		chromedp.Click(chromedp.ID("approve-"+reviewID+"-0")),
		// Back on the queue, line 0 is decided and line 1 still pending.
		chromedp.WaitVisible(chromedp.CSS("#"+line0+".approved")),
		chromedp.WaitVisible(chromedp.ID("reject-"+reviewID+"-1")),
		chromedp.Navigate(e.URL+"/admin/review/clients/"+clientID),
		chromedp.WaitVisible(chromedp.ID("hline-"+reviewID+"-0")),
	)
	if err != nil {
		t.Fatalf("browser: approve: %v (console: %v)", err, console())
	}
	historyText := text("#hline-" + reviewID + "-0")
	line1Status := text("#hline-" + reviewID + "-1")
	approvedText := text("#approved")
	for _, want := range []string{"bucket:url:write", "WRITE", "Generate file upload URLs", "We upload the PDF invoices the plugin generates."} {
		if !strings.Contains(queueText, want) {
			t.Errorf("queue text lacks %q:\n%s", want, queueText)
		}
	}
	for _, want := range []string{"approved", "admin:tester", "looks fine"} {
		if !strings.Contains(historyText, want) {
			t.Errorf("history line lacks %q: %q", want, historyText)
		}
	}
	if !strings.Contains(line1Status, "pending") {
		t.Errorf("line 1 = %q, want pending", line1Status)
	}
	if !strings.Contains(approvedText, "bucket:url:write") || strings.Contains(approvedText, "plugin:subscription:bill") {
		t.Errorf("approved maximum on the page = %q", approvedText)
	}
	c := e.must(t, 200, http.MethodGet, "/admin/v1/clients/"+clientID, nil)
	if got := strings.Join(toStrings(c["approved"]), " "); got != "bucket:url:write" {
		t.Errorf("approved maximum = %q", got)
	}
	for _, m := range console() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused") {
			t.Errorf("console: %s", m)
		}
	}
}
