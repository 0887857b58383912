package main

import (
	"errors"
	"flag"
	"regexp"
	"strings"

	"github.com/scopegate/scopegate/scopes"
)

// Local checks of admin flags: a value the server would refuse anyway is a
// usage mistake (exit 2, one line) found before any request is sent.

// grantTypes a client may be registered for.
var grantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}

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

// trustFlags are what the consent page shows about a plugin.
type trustFlags struct {
	publisher, homepage, privacy string
}

func (t *trustFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&t.publisher, "publisher", "", "who publishes the plugin, shown on the consent `page`")
	fs.StringVar(&t.homepage, "homepage", "", "the plugin's homepage `URL` (https; http only for loopback), linked from the consent page")
	fs.StringVar(&t.privacy, "privacy-url", "", "the plugin's privacy policy `URL` (https; http only for loopback), linked from the consent page")
}

// fill adds the fields given to a request body.
func (t *trustFlags) fill(body map[string]any) {
	for _, f := range []struct{ key, v string }{{"publisher", t.publisher}, {"homepage_url", t.homepage}, {"privacy_url", t.privacy}} {
		if f.v != "" {
			body[f.key] = f.v
		}
	}
}

// commandUsage is the part of the admin usage about one command (clients,
// operators, reviews), for `scopegate COMMAND --help`.
func commandUsage(cmd string) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	in := false
	for _, line := range strings.Split(adminUsage, "\n") {
		switch {
		case strings.HasPrefix(line, "  scopegate "+cmd+" "):
			in = true
		case strings.HasPrefix(line, "  scopegate "), line == "" || !strings.HasPrefix(line, "   "):
			in = false
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\nEvery command takes --server URL (env SCOPEGATE_SERVER, default\n" +
		"http://127.0.0.1:8080), --admin-token T (env SCOPEGATE_ADMIN_TOKEN) and --json.\n" +
		"Run 'scopegate " + cmd + " SUBCOMMAND --help' for a subcommand's flags.\n")
	return b.String()
}
