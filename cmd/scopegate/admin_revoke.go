package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/scopegate/scopegate/web/adminapi"
)

// revoke: a token's grant, a grant, a client's or a website's grants.

func (h *adminCmd) revoke(ctx context.Context, args []string) error {
	fs := h.flags("scopegate revoke (--token T | --grant ID | --client ID | --website ID) [--json]")
	tok := fs.String("token", "", "a leaked access or refresh `token`: its whole grant is revoked; '-' reads it from standard input (keeps it out of shell history and ps)")
	grant := fs.String("grant", "", "a grant `ID`")
	client := fs.String("client", "", "a client `ID`: every grant of the plugin")
	website := fs.String("website", "", "a website `ID`: every grant on the website")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	n := 0
	for _, v := range []string{*tok, *grant, *client, *website} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return usagef("give exactly one of --token, --grant, --client, --website")
	}
	req := adminapi.RevokeRequest{Token: *tok, GrantID: *grant, ClientID: *client, WebsiteID: *website}
	if *tok == "-" {
		t, err := readLine(h.stdin)
		if err != nil {
			return usagef("--token -: %v", err)
		}
		req.Token = strings.TrimSpace(t)
	}
	// The warning goes to stderr whatever the output mode.
	var rev adminapi.Revocation
	err = call(ctx, h, api, http.MethodPost, "/admin/v1/revoke", req, func(v adminapi.Revocation) {
		fmt.Fprintf(h.stdout, "revoked %s, %s\n", plural(v.Grants, "grant"), plural(v.Tokens, "token"))
	}, &rev)
	if err == nil && !rev.Durable && rev.Warning != "" {
		fmt.Fprintf(h.stderr, "warning: %s\n", rev.Warning)
	}
	return err
}
