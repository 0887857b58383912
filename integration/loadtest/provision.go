package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/web/webtest"
)

const (
	redirectURI = "http://127.0.0.1:1/callback" // never fetched
	website     = "load-site"
	opEmail     = "load-operator@example.test"
	opPassword  = "load operator password"
	ccScope     = "bucket:url:read"
	codeScope   = "website:people:data:read"
	nPlugins    = 8
)

type client struct{ ID, Secret string }

// provisioned is what the scenarios use.
type provisioned struct {
	rs      client
	plugins []client
	// introspect is a pool of live access tokens (client credentials and
	// code flow).
	introspect []string
	// codes are unused authorization codes with their PKCE verifiers and
	// the plugin they belong to.
	codes []pendingCode
	// chains are refresh tokens, one rotation chain each, and their plugin.
	chains []chain
	// revoke are access tokens to revoke, with their plugin.
	revoke []owned
}

type pendingCode struct {
	plugin         int
	code, verifier string
}

type chain struct {
	plugin  int
	refresh string
}

type owned struct {
	plugin int
	token  string
}

// httpc is a client for provisioning: keep-alive, no redirects followed.
func httpc(conns int, jar http.CookieJar) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Jar:     jar,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true,
			IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// admin posts body as JSON to the admin API and decodes the answer into
// into (when not nil).
func (e *env) admin(ctx context.Context, path string, body, into any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.sgURL+"/admin/v1"+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := e.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("admin %s: %d %s", path, res.StatusCode, rb)
	}
	if into != nil {
		return json.Unmarshal(rb, into)
	}
	return nil
}

// provisionClients creates a resource server and nPlugins plugins through
// the admin API, their names starting with label.
func provisionClients(ctx context.Context, e *env, label string) (*provisioned, error) {
	newClient := func(body map[string]any) (client, error) {
		var r struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		err := e.admin(ctx, "/clients", body, &r)
		return client{r.ClientID, r.ClientSecret}, err
	}
	p := &provisioned{}
	var err error
	if p.rs, err = newClient(map[string]any{"name": label + " RS", "role": "resource-server"}); err != nil {
		return nil, err
	}
	for i := range nPlugins {
		c, err := newClient(map[string]any{"name": fmt.Sprintf("%s plugin %d", label, i), "redirect_uris": []string{redirectURI},
			"grant_types": []string{"authorization_code", "refresh_token", "client_credentials"},
			"approve":     []string{ccScope, codeScope}})
		if err != nil {
			return nil, err
		}
		p.plugins = append(p.plugins, c)
	}
	return p, nil
}

func provision(ctx context.Context, e *env, o options, out io.Writer) (*provisioned, error) {
	start := time.Now()
	hc := e.hc
	if err := e.admin(ctx, "/websites", map[string]any{"id": website, "name": "Load test site"}, nil); err != nil {
		return nil, err
	}
	if err := e.admin(ctx, "/operators", map[string]any{"email": opEmail, "password": opPassword, "websites": []string{website}}, nil); err != nil {
		return nil, err
	}
	p, err := provisionClients(ctx, e, "Load")
	if err != nil {
		return nil, err
	}
	// The floor's keys: the same token values, one small value each.
	// (Filled below, once the introspection pool is known.)

	// Client-credentials tokens: for introspection and for revocation.
	ccToks, err := parallel(ctx, 256+o.revokes, 32, func(i int) (owned, error) {
		at, _, err := tokenRequest(ctx, hc, e.sgURL, p.plugins[i%nPlugins], url.Values{"grant_type": {"client_credentials"}, "scope": {ccScope}})
		return owned{i % nPlugins, at}, err
	})
	if err != nil {
		return nil, fmt.Errorf("client-credentials tokens: %w", err)
	}
	for _, t := range ccToks[:256] {
		p.introspect = append(p.introspect, t.token)
	}
	p.revoke = ccToks[256:]

	// Codes through the real consent page, as an operator signed in once.
	jar, _ := cookiejar.New(nil)
	browser := httpc(32, jar)
	defer browser.CloseIdleConnections()
	if err := login(ctx, browser, e.sgURL, p.plugins[0]); err != nil {
		return nil, fmt.Errorf("operator login: %w", err)
	}
	maxConns := 0
	for _, c := range o.conns {
		maxConns = max(maxConns, c)
	}
	nChains := 4 * maxConns
	codes, err := parallel(ctx, nChains+o.codes, 16, func(i int) (pendingCode, error) {
		code, verifier, err := consent(ctx, browser, e.sgURL, p.plugins[i%nPlugins])
		return pendingCode{i % nPlugins, code, verifier}, err
	})
	if err != nil {
		return nil, fmt.Errorf("authorization codes: %w", err)
	}
	p.codes = codes[nChains:]
	chains, err := parallel(ctx, nChains, 16, func(i int) (owned, error) {
		c := codes[i]
		at, rt, err := tokenRequest(ctx, hc, e.sgURL, p.plugins[c.plugin], url.Values{"grant_type": {"authorization_code"},
			"code": {c.code}, "redirect_uri": {redirectURI}, "code_verifier": {c.verifier}})
		return owned{c.plugin, at + " " + rt}, err
	})
	if err != nil {
		return nil, fmt.Errorf("refresh chains: %w", err)
	}
	for _, c := range chains {
		at, rt, _ := strings.Cut(c.token, " ")
		p.introspect = append(p.introspect, at)
		p.chains = append(p.chains, chain{c.plugin, rt})
	}
	// The floor reads one key per token value, as introspection does.
	pipe := e.rdb.Pipeline()
	for _, t := range p.introspect {
		pipe.Set(ctx, "floor:"+t, ccScope, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("floor keys: %w", err)
	}
	fmt.Fprintf(out, "loadtest: provisioned %d plugins, %d tokens to introspect, %d codes, %d refresh chains, %d tokens to revoke in %v\n",
		len(p.plugins), len(p.introspect), len(p.codes), len(p.chains), len(p.revoke), time.Since(start).Round(100*time.Millisecond))
	return p, nil
}

// parallel runs fn(0..n-1) on workers goroutines and returns the results
// in order; the first error stops it.
func parallel[T any](ctx context.Context, n, workers int, fn func(i int) (T, error)) ([]T, error) {
	res := make([]T, n)
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				v, err := fn(i)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
				res[i] = v
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return res, first
}

// tokenRequest posts to the token endpoint as c and returns the access and
// refresh tokens.
func tokenRequest(ctx context.Context, hc *http.Client, base string, c client, form url.Values) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	res, err := hc.Do(req)
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	var t struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(b, &t) != nil || t.AccessToken == "" {
		return "", "", fmt.Errorf("token endpoint: %d %s", res.StatusCode, b)
	}
	return t.AccessToken, t.RefreshToken, nil
}

func get(ctx context.Context, hc *http.Client, method, u string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res, string(b), err
}

func authURL(base string, c client, verifier string) string {
	conf := &oauth2.Config{ClientID: c.ID, RedirectURL: redirectURI, Scopes: []string{codeScope},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth/authorize"}}
	return conf.AuthCodeURL(oauth2.GenerateVerifier()[:16], oauth2.S256ChallengeOption(verifier))
}

// login signs the operator in through the sign-in page, as a browser does.
func login(ctx context.Context, hc *http.Client, base string, c client) error {
	_, page, err := get(ctx, hc, http.MethodGet, authURL(base, c, oauth2.GenerateVerifier()), nil)
	if err != nil {
		return err
	}
	f, err := webtest.ParseForm(page, "/login")
	if err != nil {
		return err
	}
	v := f.Values()
	v.Set("email", opEmail)
	v.Set("password", opPassword)
	res, page, err := get(ctx, hc, http.MethodPost, base+"/login", v)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in: %d %.300s", res.StatusCode, page)
	}
	return nil
}

// consent gets one code through GET and POST /oauth/authorize (the
// consent page and its answer) and returns it with its PKCE verifier.
func consent(ctx context.Context, hc *http.Client, base string, c client) (string, string, error) {
	verifier := oauth2.GenerateVerifier()
	_, page, err := get(ctx, hc, http.MethodGet, authURL(base, c, verifier), nil)
	if err != nil {
		return "", "", err
	}
	f, err := webtest.ParseForm(page, "/oauth/authorize")
	if err != nil {
		return "", "", err
	}
	v := f.Values()
	v.Set("action", "approve")
	res, page, err := get(ctx, hc, http.MethodPost, base+"/oauth/authorize", v)
	if err != nil {
		return "", "", err
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", "", fmt.Errorf("consent: %d Location %q %.300s", res.StatusCode, res.Header.Get("Location"), page)
	}
	return loc.Query().Get("code"), verifier, nil
}
