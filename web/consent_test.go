package web

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
)

// consentLabel matches one permission's label on the consent page: its
// badge, its sentence and its scope string.
var consentLabel = regexp.MustCompile(`<label for="[^"]+"><span class="badge (read|write)">(READ|WRITE)</span> <span class="perm-text">([^<]*)</span> <code class="scope-code">([^<]*)</code></label>`)

// TestPageConsentSentenceMatchesPermission asks for every website scope,
// read and write, and checks each box: a READ box shows the scope's read
// sentence, a WRITE box its write sentence, never the other.
func TestPageConsentSentenceMatchesPermission(t *testing.T) {
	f := newPageFixture(t)
	all := scopes.WebsiteScopes().String()
	f.AddPlugin(t, "everything", "Everything Plugin", []string{pgRedirect}, all)
	conf := f.OAuthConfig("everything", "unused", pgRedirect, strings.Fields(all)...)
	_, page := f.signedInConsent(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))

	labels := consentLabel.FindAllStringSubmatch(page.Body, -1)
	if want := scopes.WebsiteScopes().Len(); len(labels) != want {
		t.Fatalf("%d permission labels on the consent page, want %d", len(labels), want)
	}
	for _, m := range labels {
		class, badge, text, raw := m[1], m[2], html.UnescapeString(m[3]), m[4]
		sc, err := scopes.ParseScope(raw)
		if err != nil {
			t.Fatalf("label scope %q: %v", raw, err)
		}
		d, _ := scopes.Lookup(sc.Name)
		wantBadge, other := "READ", d.Sentence(scopes.Write)
		if sc.Perm == scopes.Write {
			wantBadge, other = "WRITE", d.Sentence(scopes.Read)
		}
		if badge != wantBadge || class != strings.ToLower(wantBadge) {
			t.Errorf("%s: badge %s (class %s), want %s", raw, badge, class, wantBadge)
		}
		if want := d.Sentence(sc.Perm); text != want || text == "" {
			t.Errorf("%s: sentence %q, want %q", raw, text, want)
		}
		if text == other {
			t.Errorf("%s (%s) shows the other permission's sentence %q", raw, badge, text)
		}
	}
}

// TestPageConsentTrustSignals: publisher, homepage and privacy links, the
// marketplace review date, the host the browser goes to next and how long
// access lasts; and honest wording when they are missing.
func TestPageConsentTrustSignals(t *testing.T) {
	f := newPageFixture(t)
	ctx := testCtx(t)
	_, err := f.Store.UpdateClient(ctx, pgPluginID, func(c storage.Client) (storage.Client, error) {
		c.Publisher, c.HomepageURL, c.PrivacyURL = "Helpdesk Labs Ltd", "https://helpdesk.example/", "https://helpdesk.example/privacy"
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	decided := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	rv := storage.Review{ID: "rv-trust", ClientID: pgPluginID, FiledBy: "client", CreatedAt: decided.Add(-time.Hour),
		Lines: []storage.ReviewLine{{Scope: "website:people:data:read", Justification: "We sync contacts to the helpdesk.", Status: storage.LinePending}}}
	if err := f.Store.CreateReview(ctx, rv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Store.DecideLine(ctx, rv.ID, 0, true, "admin", "fine", decided); err != nil {
		t.Fatal(err)
	}

	_, page := f.signedInConsent(t, f.authURL("s", oauth2.GenerateVerifier(), pgRequested))
	for _, want := range []string{
		`Published by <strong>Helpdesk Labs Ltd</strong>`,
		`<a href="https://helpdesk.example/" rel="noopener noreferrer" id="trust-homepage">Website</a>`,
		`<a href="https://helpdesk.example/privacy" rel="noopener noreferrer" id="trust-privacy">Privacy policy</a>`,
		`<span class="badge ok">REVIEWED</span> Permissions reviewed by the marketplace on <time datetime="2026-03-14T09:30:00Z">14 March 2026</time>`,
		`you will be sent to <strong class="wrap">example.com</strong>`,
		`Access lasts until you disconnect the plugin; it ends on its own if the plugin goes 30 days without using it.`,
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}

	// A plugin with none of it, without refresh: said plainly.
	f.AddPlugin(t, "bare", "Bare Plugin", []string{"https://bare.example/cb"}, pgApproved)
	_, err = f.Store.UpdateClient(ctx, "bare", func(c storage.Client) (storage.Client, error) {
		c.GrantTypes = []string{"authorization_code"}
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	conf := f.OAuthConfig("bare", "unused", "https://bare.example/cb", "website:people:data:read")
	_, bare := f.signedInConsent(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	for _, want := range []string{
		"The publisher has not given its name",
		`<span class="badge warn">NOT REVIEWED</span>`,
		`you will be sent to <strong class="wrap">bare.example</strong>`,
		"Access lasts 1 hour; after that the plugin must ask you again.",
	} {
		if !strings.Contains(bare.Body, want) {
			t.Errorf("consent page of a bare plugin lacks %q", want)
		}
	}
	if strings.Contains(bare.Body, "trust-homepage") || strings.Contains(bare.Body, "trust-privacy") {
		t.Error("links shown for a plugin without homepage or privacy URL")
	}
	if bare.StatusCode != http.StatusOK {
		t.Errorf("status %d", bare.StatusCode)
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{720 * time.Hour, "30 days"}, {24 * time.Hour, "1 day"}, {time.Hour, "1 hour"}, {36 * time.Hour, "36 hours"},
		{90 * time.Minute, "90 minutes"}, {time.Minute, "1 minute"}, {45 * time.Second, "45 seconds"},
	} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestAdminClientTrustFields: publisher, homepage and privacy URLs are set
// at creation, changed and cleared by PATCH, validated (https; http only
// for loopback) and shown by GET.
func TestAdminClientTrustFields(t *testing.T) {
	e := newAdminTestEnv(t)
	m := e.must(t, http.StatusCreated, http.MethodPost, "/admin/v1/clients", map[string]any{
		"name": "Trusty", "grant_types": []string{"client_credentials"},
		"publisher": "Trusty Ltd", "homepage_url": "https://trusty.example/", "privacy_url": "http://127.0.0.1:9000/privacy",
	})
	id := m["client_id"].(string)
	if m["publisher"] != "Trusty Ltd" || m["homepage_url"] != "https://trusty.example/" || m["privacy_url"] != "http://127.0.0.1:9000/privacy" {
		t.Fatalf("created = %v", m)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
		want  string
	}{
		{map[string]any{"homepage_url": "http://trusty.example/"}, "homepage_url", "must be https (http only for loopback hosts)"},
		{map[string]any{"privacy_url": "trusty.example/privacy"}, "privacy_url", "must be an absolute URL"},
		{map[string]any{"publisher": " padded"}, "publisher", "must be 1 to 100 printable characters"},
	} {
		r := e.api(t, http.MethodPatch, "/admin/v1/clients/"+id, tc.body)
		if r.Status != http.StatusBadRequest || fields(t, r)[tc.field] != tc.want {
			t.Errorf("PATCH %v: %d %s, want 400 with %s: %s", tc.body, r.Status, r.Body, tc.field, tc.want)
		}
	}
	r := e.api(t, http.MethodPost, "/admin/v1/clients", map[string]any{"name": "X", "grant_types": []string{"client_credentials"}, "homepage_url": "ftp://x.example/"})
	if r.Status != http.StatusBadRequest || fields(t, r)["homepage_url"] != "must be https" {
		t.Errorf("create with an ftp homepage: %d %s", r.Status, r.Body)
	}
	m = e.must(t, http.StatusOK, http.MethodPatch, "/admin/v1/clients/"+id, map[string]any{"publisher": "Trusty Limited", "privacy_url": ""})
	if m["publisher"] != "Trusty Limited" || m["homepage_url"] != "https://trusty.example/" {
		t.Errorf("after PATCH = %v", m)
	}
	if _, has := m["privacy_url"]; has {
		t.Errorf("privacy_url not cleared: %v", m)
	}
	if got := e.must(t, http.StatusOK, http.MethodGet, "/admin/v1/clients/"+id, nil); got["publisher"] != "Trusty Limited" {
		t.Errorf("GET = %v", got)
	}
}
