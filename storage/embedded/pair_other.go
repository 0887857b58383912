//go:build !unix

package embedded

import "net"

// connPair falls back to net.Pipe where Unix socket pairs do not exist.
// net.Pipe is unbuffered: a large pipeline can stall until the client's
// write timeout.
func connPair() (client, server net.Conn, err error) {
	c, s := net.Pipe()
	return c, s, nil
}
