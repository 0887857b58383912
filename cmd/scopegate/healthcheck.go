package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck is `scopegate healthcheck`: GET /healthz on the address
// the server listens on (--addr, SCOPEGATE_ADDR), exit 0 when it answers
// 200 and 1 otherwise. The container image has no curl or shell; Docker's
// HEALTHCHECK and docker-compose run this instead.
func runHealthcheck(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) int {
	var help bytes.Buffer
	fs := newFlagSet("healthcheck", "scopegate healthcheck [--addr 127.0.0.1:8080] [--timeout 3s]", &help)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` the server listens on (a wildcard host such as 0.0.0.0 is asked on loopback)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this `long`")
	if errs := parseFlags(fs, args, getenv); len(errs) > 0 {
		if errors.Is(errs[0], flag.ErrHelp) {
			_, _ = stdout.Write(help.Bytes())
			return 0
		}
		return fail(stderr, errs...)
	}
	url, err := healthURL(*addr)
	if err != nil {
		return fail(stderr, fmt.Errorf("--addr (%s): %v", envName("addr"), err))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(stderr, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "scopegate healthcheck: %s: not reachable: %v\n", url, errors.Unwrap(err))
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "scopegate healthcheck: %s answered HTTP %d\n", url, resp.StatusCode)
		return 1
	}
	fmt.Fprintf(stdout, "ok %s\n", url)
	return 0
}

// healthURL is the /healthz URL for a listen address; an empty or wildcard
// host is asked on loopback.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "", fmt.Errorf("%q is not host:port with a fixed port", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
