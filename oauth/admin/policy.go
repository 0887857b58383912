package admin

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/scopegate/scopegate/storage"
)

// Grant types a client may be registered for.
const (
	GrantCode              = "authorization_code"
	GrantRefresh           = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// CheckRedirectURI is the redirect-URI policy: an absolute URL without
// fragment or user info, https, or http for a loopback host only (RFC 8252
// §7.3, RFC 9700 §2.1). URIs are later compared as exact strings. The
// error says what is wrong in words fit for an API answer.
func CheckRedirectURI(s string) error {
	if len(s) > 2000 {
		return errors.New("must be at most 2000 characters")
	}
	for _, r := range s {
		if r <= 0x20 || r >= 0x7f {
			return errors.New("must not contain a space, control or non-ASCII character")
		}
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return errors.New("must not have a fragment")
	}
	if u.User != nil {
		return errors.New("must not carry user info")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("must be https (http only for loopback hosts)")
	}
	return errors.New("must be https")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// shapeProblems checks that a client's fields fit together; keys are the
// JSON fields to blame.
func shapeProblems(c storage.Client) map[string]string {
	f := map[string]string{}
	has := func(g string) bool { return slices.Contains(c.GrantTypes, g) }
	if c.Role == storage.RoleResourceServer {
		if len(c.GrantTypes) > 0 {
			f["grant_types"] = "must be empty for a resource-server client (it obtains no tokens)"
		}
		if len(c.RedirectURIs) > 0 {
			f["redirect_uris"] = "must be empty for a resource-server client"
		}
		if c.Type != storage.Confidential {
			f["type"] = "must be confidential for a resource-server client (it authenticates to introspect)"
		}
		return f
	}
	switch {
	case len(c.GrantTypes) == 0 && c.Type == storage.Public:
		f["redirect_uris"] = "are required for a public client (it can only use authorization_code)"
	case len(c.GrantTypes) == 0:
		f["grant_types"] = "a plugin needs at least one grant type"
	case has(GrantClientCredentials) && c.Type == storage.Public:
		f["grant_types"] = "client_credentials needs a confidential client"
	case has(GrantRefresh) && !has(GrantCode):
		f["grant_types"] = "refresh_token needs authorization_code"
	}
	if has(GrantCode) && len(c.RedirectURIs) == 0 {
		f["redirect_uris"] = "at least one is required for authorization_code"
	}
	return f
}

// addMissing adds each of more's complaints for a field not yet blamed.
func addMissing(f, more map[string]string) map[string]string {
	if f == nil {
		f = map[string]string{}
	}
	for k, v := range more {
		if _, seen := f[k]; !seen {
			f[k] = v
		}
	}
	return f
}
