package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortSupported reports whether UDP sockets can share a port with SO_REUSEPORT.
const reusePortSupported = true

// setReusePort sets SO_REUSEPORT on the socket behind c.
func setReusePort(c syscall.RawConn) error {
	var sockErr error
	err := c.Control(func(fd uintptr) {
		sockErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return sockErr
}
