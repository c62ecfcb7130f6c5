//go:build !linux

package transport

import (
	"errors"
	"net/netip"
)

// connectedUDP is Linux's direct socket (udpsock_linux.go); elsewhere
// Do53 dials with net.Dialer.
func connectedUDP(netip.AddrPort) (datagramConn, error) {
	return nil, errors.ErrUnsupported
}
