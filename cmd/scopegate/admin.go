package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// The admin subcommands wrap the admin API (/admin/v1/) of a running
// server. Exit status: 0 on success; 1 when the server refused or failed
// the request, or could not be reached; 2 for a usage mistake (bad flags,
// no admin token). Errors are one line on stderr; with --json, stdout holds
// exactly one JSON object on success and nothing otherwise.

const adminUsage = `Usage:
  scopegate clients create --name N [--public] [--redirect-uri U]... [--grant-type G]...
                           [--approve SCOPE]... [--role plugin|resource-server] [--id ID]
                           [--publisher P] [--homepage URL] [--privacy-url URL] [--json]
  scopegate clients list [--json]
  scopegate clients show|suspend|resume|delete ID [--json]
  scopegate clients rotate-secret ID [--grace 1h] [--json]
  scopegate clients update ID [--name N] [--redirect-uri U]... [--grant-type G]...
                           [--publisher P] [--homepage URL] [--privacy-url URL] [--json]
  scopegate clients lower ID --scope SCOPE... [--json]
  scopegate operators create --email E --password-stdin --website ID... [--json]
  scopegate reviews list [--status pending|decided|all] [--client ID] [--json]
  scopegate reviews show ID [--json]
  scopegate reviews decide ID --line N (--approve|--reject) [--note T] [--json]
  scopegate revoke (--token T | --grant ID | --client ID | --website ID) [--json]
  scopegate audit [--client ID] [--website ID] [--kind K] [--since T] [--until T]
                  [--limit N] [--after NEXT] [--json]

Every admin command takes --server URL (env SCOPEGATE_SERVER, default
http://127.0.0.1:8080) and --admin-token T (env SCOPEGATE_ADMIN_TOKEN); no
other admin flag reads the environment. --json prints exactly one JSON
object. 'revoke --token -' reads the token from standard input, keeping it
out of shell history and ps. 'operators create' creates missing websites
first (named after their ID). Review lines are numbered from 0.

Exit status: 0 success; 1 the server refused or failed the request, or
could not be reached; 2 a usage mistake. Errors are one line on stderr.
Run a command with --help for its flags.
`

// runAdmin runs the admin subcommands against a running server's admin API.
func runAdmin(ctx context.Context, cmd string, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "scopegate " + cmd
	var sub string
	if cmd == "clients" || cmd == "operators" || cmd == "reviews" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
				fmt.Fprint(stdout, commandUsage(cmd))
				return 0
			}
			fmt.Fprintf(stderr, "%s: missing subcommand (run 'scopegate %s --help')\n", name, cmd)
			return 2
		}
		sub, args = args[0], args[1:]
		name += " " + sub
	}
	h := &adminCmd{name: name, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	run, ok := adminCommands[cmd+" "+sub]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown subcommand %q (run 'scopegate %s --help')\n", "scopegate "+cmd, sub, cmd)
		return 2
	}
	return h.exit(run(h, ctx, args))
}

// adminCommands maps "COMMAND SUBCOMMAND" (a trailing space for the
// commands without one) to its implementation.
var adminCommands = map[string]func(*adminCmd, context.Context, []string) error{
	"clients create":        (*adminCmd).clientsCreate,
	"clients list":          (*adminCmd).clientsList,
	"clients show":          clientsByID("show"),
	"clients suspend":       clientsByID("suspend"),
	"clients resume":        clientsByID("resume"),
	"clients delete":        clientsByID("delete"),
	"clients rotate-secret": (*adminCmd).clientsRotate,
	"clients update":        (*adminCmd).clientsUpdate,
	"clients lower":         (*adminCmd).clientsLower,
	"operators create":      (*adminCmd).operatorsCreate,
	"reviews list":          (*adminCmd).reviewsList,
	"reviews show":          (*adminCmd).reviewsShow,
	"reviews decide":        (*adminCmd).reviewsDecide,
	"revoke ":               (*adminCmd).revoke,
	"audit ":                (*adminCmd).audit,
}

func clientsByID(sub string) func(*adminCmd, context.Context, []string) error {
	return func(h *adminCmd, ctx context.Context, args []string) error { return h.clientsByID(ctx, sub, args) }
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
