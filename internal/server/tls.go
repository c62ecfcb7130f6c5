package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"
)

// ALPN protocol identifiers of the encrypted transports.
const (
	// ALPNDoT is DNS over TLS, the identifier IANA registered for RFC 7858 (and that
	// RFC 9461 service bindings advertise).
	ALPNDoT = "dot"
	// ALPNDoQ is DNS over QUIC (RFC 9250 §4.1.1); without it the handshake fails.
	ALPNDoQ = "doq"
)

// errNoTLSConfig is returned by the encrypted Listen methods given no certificate.
var errNoTLSConfig = errors.New("server: tls config has no certificate (set Certificates or GetCertificate)")

// ListenTLS binds a TCP listener to addr ("127.0.0.1:853"; port 0 picks a free port) and
// serves DNS over TLS (RFC 7858) on it until Shutdown. It returns the bound address.
//
// cfg supplies the certificate (Certificates or GetCertificate, see CertSource); it is
// cloned, its MinVersion raised to TLS 1.2 and, when it names no protocols, NextProtos set
// to "dot". A client offering ALPN without "dot" fails the handshake; one offering no ALPN
// at all is served.
//
// Connections are handled exactly as plain TCP ones (tcp.go): the TLS handshake and then the
// first query must arrive within Config.TCPFirstMessageTimeout, each next query within
// Config.TCPIdleTimeout, Config.MaxPipelined queries at most in flight, and Config.MaxTCPConns
// counts DoT and TCP connections together. Replies to queries with EDNS carry the idle
// timeout in an edns-tcp-keepalive option (RFC 7828). Handlers see Network() "tcp".
func (s *Server) ListenTLS(addr string, cfg *tls.Config) (net.Addr, error) {
	tc, err := serverTLSConfig(cfg, ALPNDoT)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if err := s.startTCP(tls.NewListener(ln, tc)); err != nil {
		ln.Close()
		return nil, err
	}
	return ln.Addr(), nil
}

// serverTLSConfig returns a clone of cfg fit to serve: TLS 1.2 at least (LIMITS.md) and
// alpn offered when cfg offers nothing.
func serverTLSConfig(cfg *tls.Config, alpn ...string) (*tls.Config, error) {
	if cfg == nil || (len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil) {
		return nil, errNoTLSConfig
	}
	tc := cfg.Clone()
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	if len(tc.NextProtos) == 0 {
		tc.NextProtos = slices.Clone(alpn)
	}
	return tc, nil
}

// handshake runs the TLS handshake of a DoT connection, which must finish within timeout;
// over plain TCP it does nothing. A handshake that fails (a plaintext client, a bad
// certificate on the client's side, no common ALPN protocol) ends the connection.
func (c *tcpConn) handshake(timeout time.Duration) error {
	tc, ok := c.conn.(*tls.Conn)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("server: tls handshake: %w", err)
	}
	return nil
}

// keepaliveUnits converts an idle timeout to the 100 ms units of the RFC 7828
// edns-tcp-keepalive option, at least 1 and at most 65535.
func keepaliveUnits(d time.Duration) uint16 {
	return uint16(min(max(d/(100*time.Millisecond), 1), 65535))
}

// isTLS reports whether nc is a DoT connection.
func isTLS(nc net.Conn) bool {
	_, ok := nc.(*tls.Conn)
	return ok
}
