//go:build unix

package embedded

import (
	"net"
	"os"
	"syscall"
)

// connPair returns the two ends of a connected Unix socket pair: no path,
// no port, no listener; only this process holds either end. Unlike
// net.Pipe the kernel buffers each direction, so a pipelined write never
// waits for the server to read while the server waits to write its reply.
func connPair() (client, server net.Conn, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, err
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), "embedded-store")
		conns[i], err = net.FileConn(f) // dups fd
		f.Close()
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			if i == 0 {
				syscall.Close(fds[1])
			}
			return nil, nil, err
		}
	}
	return conns[0], conns[1], nil
}
