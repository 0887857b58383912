// Package integration holds black-box tests of the built scopegate binary:
// each test starts a real redis-server, runs `scopegate serve` against it on
// a free loopback port, provisions clients through the `scopegate` CLI, and
// drives the server as plugins and resource servers do, with
// golang.org/x/oauth2 and a real Chromium.
//
// Nothing here is imported by the product.
package integration
