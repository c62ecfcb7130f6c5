package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// CertSource serves a certificate and key loaded from PEM files, and loads them again on
// demand: a renewed certificate (ACME, a rotated internal CA) takes effect without a restart.
// Commands call Reload on SIGHUP.
//
//	certs, err := server.LoadCertSource("server.pem", "server.key")
//	...
//	srv.ListenTLS("[::]:853", certs.TLSConfig())
//	...
//	err = certs.Reload() // on SIGHUP; on error the old certificate stays in use
//
// A CertSource is safe for concurrent use: handshakes read the current certificate from an
// atomic pointer that Reload swaps.
type CertSource struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// LoadCertSource reads the certificate chain in certFile and the private key in keyFile
// (both PEM) and returns a CertSource serving them.
func LoadCertSource(certFile, keyFile string) (*CertSource, error) {
	c := &CertSource{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. If they do not load (a half-written renewal, a key that
// does not match), the certificate in use stays and the error says why.
func (c *CertSource) Reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("server: load certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert.Store(&cert)
	return nil
}

// GetCertificate returns the current certificate; it has the signature of
// tls.Config.GetCertificate.
func (c *CertSource) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cert.Load(), nil
}

// TLSConfig returns a server tls.Config that takes its certificate from c and accepts
// TLS 1.2 and later. The Listen methods add the ALPN protocol of their transport.
func (c *CertSource) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: c.GetCertificate, MinVersion: tls.VersionTLS12}
}

// Names of the files SelfSigned writes in its directory.
const (
	SelfSignedCAFile   = "ca.pem"     // the CA certificate, for clients to trust
	SelfSignedCertFile = "server.pem" // the server certificate, then the CA certificate
	SelfSignedKeyFile  = "server.key" // the server's private key (mode 0600)
)

// selfSignedValidity is how long SelfSigned's certificates are valid.
const selfSignedValidity = 365 * 24 * time.Hour

// SelfSigned makes a private CA and a server certificate for 127.0.0.1, ::1 and localhost
// signed by it (ECDSA P-256 keys from crypto/rand), writes them into dir and returns the
// three paths: give certFile and keyFile to LoadCertSource, and caFile to clients
// (rensa query --ca, kdig +tls-ca, curl --cacert, Unbound's tls-cert-bundle).
//
// If dir already holds the three files and they load, they are reused, so that clients
// keep trusting the same CA across restarts. The CA's key is not kept: nothing else can
// be signed with it. Key files are written with mode 0600.
func SelfSigned(dir string) (certFile, keyFile, caFile string, err error) {
	certFile = filepath.Join(dir, SelfSignedCertFile)
	keyFile = filepath.Join(dir, SelfSignedKeyFile)
	caFile = filepath.Join(dir, SelfSignedCAFile)
	if _, err := os.Stat(caFile); err == nil {
		if _, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
			return certFile, keyFile, caFile, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", "", fmt.Errorf("server: self-signed: %w", err)
	}
	caPEM, certPEM, keyPEM, err := makeSelfSigned(time.Now())
	if err != nil {
		return "", "", "", err
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{keyFile, keyPEM, 0o600}, {certFile, append(certPEM, caPEM...), 0o644}, {caFile, caPEM, 0o644}} {
		if err := writeFileAtomic(f.path, f.data, f.mode); err != nil {
			return "", "", "", fmt.Errorf("server: self-signed: %w", err)
		}
	}
	return certFile, keyFile, caFile, nil
}

// makeSelfSigned returns a fresh CA certificate and a server certificate with its key, PEM
// encoded, valid from an hour before now.
func makeSelfSigned(now time.Time) (caPEM, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server: self-signed: %w", err)
	}
	ca := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "rensa self-signed CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	if ca.SerialNumber, err = serialNumber(); err != nil {
		return nil, nil, nil, err
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server: self-signed: %w", err)
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return nil, nil, nil, fmt.Errorf("server: self-signed: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server: self-signed: %w", err)
	}
	leaf := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(selfSignedValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if leaf.SerialNumber, err = serialNumber(); err != nil {
		return nil, nil, nil, err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server: self-signed: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server: self-signed: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// serialNumber returns a random 128-bit certificate serial number.
func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("server: self-signed: %w", err)
	}
	return n, nil
}

// writeFileAtomic writes data to a temporary file in path's directory with mode and renames
// it over path, so that a reader never sees half a file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
