package main

import (
	"errors"
	"regexp"
	"strings"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/scopes"
)

// Local checks of admin flags: a value the server would refuse anyway is a
// usage mistake (exit 2, one line) found before any request is sent.

// grantTypes a client may be registered for: the service's own names.
var grantTypes = []string{adminsvc.GrantCode, adminsvc.GrantRefresh, adminsvc.GrantClientCredentials}

// checkChoice says, in one line, that value is not one of the choices.
func checkChoice(flagName, value string, choices ...string) error {
	for _, c := range choices {
		if value == c {
			return nil
		}
	}
	return usagef("%s %q is not one of: %s", flagName, value, strings.Join(choices, ", "))
}

func checkGrantTypes(gs []string) error {
	for _, g := range gs {
		if err := checkChoice("--grant-type", g, grantTypes...); err != nil {
			return err
		}
	}
	return nil
}

// parseOffset is the " at offset N" tail of a scopes parse error: one
// scope per flag, so the offset says nothing.
var parseOffset = regexp.MustCompile(` at offset [0-9]+$`)

// checkScopes parses each value as one scope, NAME:read or NAME:write.
func checkScopes(flagName string, ss []string) error {
	for _, s := range ss {
		if _, err := scopes.ParseScope(s); err != nil {
			var se *scopes.Error
			msg := err.Error()
			if errors.As(err, &se) {
				msg = se.Kind.String()
			}
			msg = parseOffset.ReplaceAllString(strings.TrimPrefix(msg, "scopes: "), "")
			return usagef("%s %q: %s (want NAME:read or NAME:write, such as website:people:data:write)", flagName, s, msg)
		}
	}
	return nil
}
