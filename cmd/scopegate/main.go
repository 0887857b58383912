// Command scopegate is the scopegate OAuth 2.0 authorization server and its
// admin CLI.
//
//	scopegate serve     [--addr 127.0.0.1:8080] [--issuer URL] [--redis URL] [--demo]
//	scopegate clients   create|list|show|suspend|resume|rotate-secret|delete ...
//	scopegate operators create --email E --password-stdin --website ID...
//	scopegate reviews   list|show|decide ...
//	scopegate revoke    (--token T | --grant ID | --client ID | --website ID)
//	scopegate audit     [--client ID] [--website ID] [--kind K]
//	scopegate demo-api  --introspection-url URL --api-client-id ID [--api-addr 127.0.0.1:8081]
//
// Every flag also reads SCOPEGATE_<NAME>; run a subcommand with --help.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `scopegate: an OAuth 2.0 authorization server for marketplace plugins

Usage:
  scopegate serve      start the server
  scopegate clients    manage OAuth clients (plugins and resource servers)
  scopegate operators  manage website operators
  scopegate reviews    list and decide scope requests
  scopegate revoke     revoke by token, grant, client or website
  scopegate audit      read the audit trail
  scopegate demo-api   a demo REST API protected by scopegate tokens
  scopegate version    print the version
  scopegate healthcheck  exit 0 if the server at --addr answers /healthz (for Docker)

Run 'scopegate COMMAND --help' for a command's settings. Every setting also
reads SCOPEGATE_<NAME> from the environment.
`

// env is how the program reads its environment (os.Getenv in main).
type env = func(string) string

// run is the whole program; it returns the exit status. Errors are one line
// on stderr.
func run(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "demo-api":
		return runDemoAPI(ctx, args[1:], getenv, stdout, stderr)
	case "clients", "operators", "reviews", "revoke", "audit":
		return runAdmin(ctx, args[0], args[1:], getenv, stdin, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "scopegate", versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "scopegate: unknown command %q (run 'scopegate help')\n", args[0])
	return 2
}

// version is set at build time with -ldflags "-X main.version=..."; the
// Makefile and the Dockerfile set it from `git describe --always --dirty`.
var version = "dev"
