//go:build !linux

package server

import (
	"errors"
	"syscall"
)

// reusePortSupported reports whether UDP sockets can share a port with SO_REUSEPORT: only
// Linux is wired up, so elsewhere each address gets one UDP socket.
const reusePortSupported = false

// setReusePort is never called where SO_REUSEPORT is unsupported.
func setReusePort(syscall.RawConn) error {
	return errors.New("server: SO_REUSEPORT is not supported on this platform")
}
