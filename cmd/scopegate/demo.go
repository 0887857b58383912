package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// Demo identities. The secrets are generated at each start and printed, so
// --demo against a shared Redis never leaves a well-known secret behind.
const (
	demoOperatorEmail = "demo@scopegate.test"
	demoPassword      = "demo-password"
	demoPluginID      = "demo-plugin"
	demoAPIID         = "demo-api"
)

// demoApproved reaches every route of the demo REST API (demoapi.go), so the
// operator can untick, say, messages:read at consent and watch the API and
// its realtime stream refuse exactly that.
var demoApproved = scopes.MustParse("website:conversation:sessions:read website:conversation:messages:read website:conversation:messages:write " +
	"website:conversation:states:write website:people:profiles:read website:people:profiles:write " +
	"website:people:data:read website:people:data:write plugin:subscription:bill:write")

// seedDemo loads (or refreshes) the demo data: two websites, an operator
// for both, a confidential plugin whose redirect URI is this server's own
// /demo/callback, and a resource-server client, whose secret it returns for
// the demo REST API.
func seedDemo(ctx context.Context, store storage.Store, issuer string, out io.Writer) (apiSecret string, err error) {
	now := time.Now()
	for _, w := range []storage.Website{{ID: "site-acme", Name: "Acme Shop"}, {ID: "site-blog", Name: "Acme Blog"}} {
		if err := store.PutWebsite(ctx, w); err != nil {
			return "", err
		}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(demoPassword), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	err = store.CreateOperator(ctx, storage.Operator{
		ID: "op-demo", Email: demoOperatorEmail, PasswordHash: hash, Websites: []string{"site-acme", "site-blog"}, CreatedAt: now,
	})
	if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		return "", err
	}
	pluginSecret, apiSecret := token.NewSecret(), token.NewSecret()
	clients := []storage.Client{{
		ID: demoPluginID, Name: "Demo Helpdesk Plugin", Type: storage.Confidential,
		Secrets:      []storage.SecretHash{oauth.HashSecret(pluginSecret)},
		RedirectURIs: []string{issuer + "/demo/callback"},
		GrantTypes:   []string{"authorization_code", "refresh_token", "client_credentials"},
		Role:         storage.RolePlugin, Status: storage.Active, Approved: demoApproved, CreatedAt: now, UpdatedAt: now,
		Publisher: "the scopegate project (demo)", HomepageURL: issuer + "/demo", // shown on the consent page
	}, {
		ID: demoAPIID, Name: "Demo REST API", Type: storage.Confidential,
		Secrets: []storage.SecretHash{oauth.HashSecret(apiSecret)},
		Role:    storage.RoleResourceServer, Status: storage.Active, CreatedAt: now, UpdatedAt: now,
	}}
	for _, c := range clients {
		err := store.CreateClient(ctx, c)
		if errors.Is(err, storage.ErrAlreadyExists) {
			c := c
			_, err = store.UpdateClient(ctx, c.ID, func(storage.Client) (storage.Client, error) { return c, nil })
		}
		if err != nil {
			return "", err
		}
	}
	fmt.Fprintf(out, `scopegate: demo data loaded
  open %s/demo to try the authorization code flow in a browser
  operator login:  %s / %s  (websites site-acme, site-blog)
  plugin client:   %s / %s
  resource server: %s / %s
`, issuer, demoOperatorEmail, demoPassword, demoPluginID, pluginSecret, demoAPIID, apiSecret)
	return apiSecret, nil
}
