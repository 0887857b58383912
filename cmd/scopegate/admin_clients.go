package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/scopegate/scopegate/web/adminapi"
)

// clients: create, list, show, suspend, resume, delete, rotate-secret,
// update, lower.

// printClient prints a client; only a creation's answer has a secret and
// a review.
func (h *adminCmd) printClient(c adminapi.ClientCreated) {
	tw := h.table()
	fmt.Fprintf(tw, "client_id\t%s\n", c.ClientID)
	if c.ClientSecret != "" {
		fmt.Fprintf(tw, "client_secret\t%s\t(shown only now: store it)\n", c.ClientSecret)
	}
	fmt.Fprintf(tw, "name\t%s\n", c.Name)
	fmt.Fprintf(tw, "type\t%s\n", c.Type)
	fmt.Fprintf(tw, "role\t%s\n", c.Role)
	fmt.Fprintf(tw, "status\t%s\n", c.Status)
	fmt.Fprintf(tw, "redirect_uris\t%s\n", dash(c.RedirectURIs))
	fmt.Fprintf(tw, "grant_types\t%s\n", dash(c.GrantTypes))
	fmt.Fprintf(tw, "approved\t%s\n", dash(c.Approved))
	for _, f := range [][2]string{{"publisher", c.Publisher}, {"homepage", c.HomepageURL}, {"privacy_url", c.PrivacyURL}} {
		if f[1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", f[0], f[1])
		}
	}
	for _, s := range c.Secrets {
		if s.ExpiresAt != nil {
			fmt.Fprintf(tw, "old secret\tvalid until %s\n", s.ExpiresAt.UTC().Format(time.RFC3339))
		}
	}
	if c.ReviewID != "" {
		fmt.Fprintf(tw, "review\t%s\t(the --approve scopes, approved)\n", c.ReviewID)
	}
	tw.Flush()
}

func (h *adminCmd) clientsCreate(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients create --name N [--public] [--redirect-uri U]... [--grant-type G]... [--approve SCOPE]... [--role plugin|resource-server] [--id ID] [--publisher P] [--homepage URL] [--privacy-url URL] [--json]")
	var (
		name, id, role     string
		public             bool
		uris, grants, appr stringSlice
		trust              trustFlags
	)
	trust.bind(fs)
	fs.StringVar(&name, "name", "", "display `name` of the client (required)")
	fs.StringVar(&id, "id", "", "client `ID` (default: generated, plg_… or rs_…)")
	fs.StringVar(&role, "role", "plugin", "`role`: plugin or resource-server (allowed to introspect)")
	fs.BoolVar(&public, "public", false, "a public client (no secret; PKCE only)")
	fs.Var(&uris, "redirect-uri", "exact redirect `URI` (repeatable)")
	fs.Var(&grants, "grant-type", "`grant type`: authorization_code, refresh_token, client_credentials (repeatable; default from the other flags)")
	fs.Var(&appr, "approve", "`scope` to approve at once, such as website:people:data:write (repeatable; recorded as an admin-filed review)")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	if name == "" {
		return usagef("--name is required")
	}
	if err := checkChoice("--role", role, "plugin", "resource-server"); err != nil {
		return err
	}
	if err := checkGrantTypes(grants); err != nil {
		return err
	}
	if err := checkScopes("--approve", appr); err != nil {
		return err
	}
	req := adminapi.CreateClientRequest{ID: id, Name: name, Role: role, RedirectURIs: uris, GrantTypes: grants, Approve: appr,
		Publisher: trust.publisher, HomepageURL: trust.homepage, PrivacyURL: trust.privacy}
	if public {
		req.Type = "public"
	}
	return call(ctx, h, api, http.MethodPost, "/admin/v1/clients", req, h.printClient)
}

func (h *adminCmd) clientsList(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients list [--json]")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	return call(ctx, h, api, http.MethodGet, "/admin/v1/clients", nil, func(v adminapi.ClientList) {
		tw := h.table()
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tROLE\tTYPE\tSTATUS\tAPPROVED")
		for _, c := range v.Clients {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ClientID, c.Name, c.Role, c.Type, c.Status, plural(len(c.Approved), "scope"))
		}
		tw.Flush()
	})
}

func (h *adminCmd) clientsByID(ctx context.Context, sub string, args []string) error {
	fs := h.flags("scopegate clients " + sub + " ID [--json]")
	pos, api, err := h.parse(fs, args, "client ID")
	if err != nil {
		return err
	}
	path := "/admin/v1/clients/" + url.PathEscape(pos[0])
	switch sub {
	case "show":
		return call(ctx, h, api, http.MethodGet, path, nil, h.printClient)
	case "delete":
		return call(ctx, h, api, http.MethodDelete, path, nil, func(v adminapi.Deleted) {
			fmt.Fprintf(h.stdout, "client %s deleted; revoked %s, %s\n", pos[0], plural(v.Grants, "grant"), plural(v.Tokens, "token"))
		})
	}
	return call(ctx, h, api, http.MethodPost, path+"/"+sub, nil, func(c adminapi.Client) {
		fmt.Fprintf(h.stdout, "client %s is %s\n", c.ClientID, c.Status)
	})
}

func (h *adminCmd) clientsRotate(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients rotate-secret ID [--grace 1h] [--json]")
	grace := fs.Duration("grace", time.Hour, "how long the current secret keeps working (0 to 168h, whole seconds)")
	pos, api, err := h.parse(fs, args, "client ID")
	if err != nil {
		return err
	}
	if *grace < 0 || *grace > 7*24*time.Hour || *grace%time.Second != 0 {
		return usagef("--grace must be whole seconds from 0 to 168h")
	}
	seconds := int(*grace / time.Second)
	req := adminapi.RotateRequest{GraceSeconds: &seconds}
	return call(ctx, h, api, http.MethodPost, "/admin/v1/clients/"+url.PathEscape(pos[0])+"/rotate-secret", req, func(v adminapi.Rotated) {
		tw := h.table()
		fmt.Fprintf(tw, "client_id\t%s\n", v.ClientID)
		fmt.Fprintf(tw, "client_secret\t%s\t(shown only now: store it)\n", v.ClientSecret)
		fmt.Fprintf(tw, "old secret valid until\t%s\n", v.OldSecretsExpireAt.UTC().Format(time.RFC3339))
		tw.Flush()
	})
}

func (h *adminCmd) clientsUpdate(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients update ID [--name N] [--redirect-uri U]... [--grant-type G]... [--publisher P] [--homepage URL] [--privacy-url URL] [--json]")
	var (
		name         string
		uris, grants stringSlice
		trust        trustFlags
	)
	trust.bind(fs)
	fs.StringVar(&name, "name", "", "new display `name`")
	fs.Var(&uris, "redirect-uri", "redirect `URI` (repeatable; replaces them all)")
	fs.Var(&grants, "grant-type", "`grant type` (repeatable; replaces them all)")
	pos, api, err := h.parse(fs, args, "client ID")
	if err != nil {
		return err
	}
	if err := checkGrantTypes(grants); err != nil {
		return err
	}
	// A flag not given is a null field: the server leaves it as it is.
	req := adminapi.UpdateClientRequest{Name: given(name), RedirectURIs: givenAll(uris), GrantTypes: givenAll(grants),
		Publisher: given(trust.publisher), HomepageURL: given(trust.homepage), PrivacyURL: given(trust.privacy)}
	if req.Empty() {
		return usagef("nothing to change: give --name, --redirect-uri, --grant-type, --publisher, --homepage or --privacy-url")
	}
	return call(ctx, h, api, http.MethodPatch, "/admin/v1/clients/"+url.PathEscape(pos[0]), req, h.printClient)
}

func (h *adminCmd) clientsLower(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients lower ID --scope SCOPE... [--json]")
	var sc stringSlice
	fs.Var(&sc, "scope", "`scope` to remove from the approved maximum (repeatable)")
	pos, api, err := h.parse(fs, args, "client ID")
	if err != nil {
		return err
	}
	if len(sc) == 0 {
		return usagef("give at least one --scope")
	}
	if err := checkScopes("--scope", sc); err != nil {
		return err
	}
	return call(ctx, h, api, http.MethodPost, "/admin/v1/clients/"+url.PathEscape(pos[0])+"/lower", adminapi.ScopesRequest{Scopes: sc}, func(c adminapi.Client) {
		fmt.Fprintf(h.stdout, "client %s approved maximum: %s\n", c.ClientID, dash(c.Approved))
	})
}

// trustFlags are what the consent page shows about a plugin.
type trustFlags struct {
	publisher, homepage, privacy string
}

func (t *trustFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&t.publisher, "publisher", "", "who publishes the plugin, shown on the consent `page`")
	fs.StringVar(&t.homepage, "homepage", "", "the plugin's homepage `URL` (https; http only for loopback), linked from the consent page")
	fs.StringVar(&t.privacy, "privacy-url", "", "the plugin's privacy policy `URL` (https; http only for loopback), linked from the consent page")
}

// given is a string flag as an optional field: nil when not given.
func given(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// givenAll is a repeatable flag as an optional field: nil when not given.
func givenAll(ss []string) *[]string {
	if len(ss) == 0 {
		return nil
	}
	return &ss
}
