package transport

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
)

// ErrPinMismatch is wrapped by the handshake error of a DoT, DoH or DoQ exchange whose
// server presented no certificate with the pinned public key.
var ErrPinMismatch = errors.New("transport: no certificate matches the SPKI pin")

// tlsOptions are the certificate checks the encrypted transports share (DoT, DoH, DoQ).
type tlsOptions struct {
	base       *tls.Config // the caller's config, cloned; may be nil
	serverName string      // the name (or IP) checked in the certificate
	caFile     string      // PEM file of CA certificates to trust instead of the system's
	spkiPin    string      // base64 SHA-256 of a SubjectPublicKeyInfo (RFC 7858 §4.2)
	alpn       []string
}

// config builds the client tls.Config:
//
//   - By default the server's certificate must chain to the system roots and name
//     serverName (a host name, or an IP address in an IP SAN).
//   - With a CA file, it must chain to the certificates in that file instead.
//   - With an SPKI pin and no CA file (RFC 7858 §4.2, the out-of-band key-pinned profile),
//     the chain is not checked; one certificate in it must carry the pinned public key.
//   - With both, both checks apply.
//
// TLS 1.2 is the minimum (LIMITS.md); alpn is offered unless the base config sets protocols.
func (o tlsOptions) config() (*tls.Config, error) {
	cfg := &tls.Config{}
	if o.base != nil {
		cfg = o.base.Clone()
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = slices.Clone(o.alpn)
	}
	if cfg.ServerName == "" {
		cfg.ServerName = o.serverName
	}
	if cfg.ClientSessionCache == nil { // resume sessions on reconnect: one round trip less
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(tlsSessionCacheSize)
	}
	if o.caFile != "" {
		pool, err := loadCAFile(o.caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if o.spkiPin == "" {
		return cfg, nil
	}
	pin, err := base64.StdEncoding.DecodeString(o.spkiPin)
	if err != nil || len(pin) != sha256.Size {
		return nil, fmt.Errorf("transport: SPKI pin %q is not a base64 SHA-256 digest", o.spkiPin)
	}
	if o.caFile == "" && (o.base == nil || o.base.RootCAs == nil) {
		cfg.InsecureSkipVerify = true // the pin replaces the chain check
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		for _, cert := range cs.PeerCertificates {
			sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
			if subtle.ConstantTimeCompare(sum[:], pin) == 1 {
				return nil
			}
		}
		return ErrPinMismatch
	}
	return cfg, nil
}

// tlsSessionCacheSize is how many TLS sessions a DoT, DoH or DoQ client keeps for
// resumption: one per server it talks to, with room to spare.
const tlsSessionCacheSize = 8

// loadCAFile reads a PEM file of CA certificates into a pool.
func loadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("transport: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("transport: CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// SPKIPin returns the RFC 7858 §4.2 pin of cert: the base64 SHA-256 digest of its
// SubjectPublicKeyInfo, as DoT.SPKIPin and "rensa query --pin" take it (and as
// "openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
// base64" prints it).
func SPKIPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// hostOf returns the host part of a host:port address, or addr itself.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return strings.TrimSuffix(h, ".")
	}
	return addr
}
