//go:build !linux

package resolver

import (
	"context"
	"net"
	"net/netip"
)

// defaultExchange is transport.Do53 where the resolver has no UDP
// exchange of its own (udpexchange_linux.go).
func defaultExchange(dial func(ctx context.Context, network, addr string) (net.Conn, error),
	local netip.AddrPort, ignoreMisses bool) ExchangeFunc {
	return do53Exchange(dial, local, ignoreMisses)
}
