//go:build !linux

package server

// openUDPSocket binds a UDP socket to addr: a net.UDPConn, served one datagram per call,
// where recvmmsg and sendmmsg are not wired up.
func openUDPSocket(addr string, reusePort bool) (udpConn, error) { return openNetUDP(addr, reusePort) }
