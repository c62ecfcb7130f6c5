package config

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
)

// Encrypted listeners. A [[listen]] address may carry a scheme, the same forms as
// "--listen" on the command line:
//
//	[[listen]]
//	address = "127.0.0.1:53"             # UDP and TCP
//
//	[[listen]]
//	address = "tls://127.0.0.1:853"      # DNS over TLS (RFC 7858)
//	tls-cert = "/etc/rensa/server.pem"
//	tls-key = "/etc/rensa/server.key"
//
//	[[listen]]
//	address = "https://127.0.0.1:443/dns-query"  # DNS over HTTPS (RFC 8484)
//	tls-self-signed = "selfsigned"       # makes selfsigned/ca.pem for clients
//
//	[[listen]]
//	address = "quic://127.0.0.1:853"     # DNS over QUIC (RFC 9250)
//
// One certificate serves every encrypted listener: give the tls-* keys on one entry, or
// the same values on several.

// TLSFiles says where an encrypted listener's certificate comes from: a certificate and key
// file pair, or a self-signed directory. Its zero value means none.
type TLSFiles struct {
	Cert, Key  string
	SelfSigned string
}

// IsZero reports whether f names no certificate.
func (f TLSFiles) IsZero() bool { return f == TLSFiles{} }

// listenSchemes are the schemes a listen address may start with, and their default ports.
var listenSchemes = map[string]string{"tls": "853", "https": "443", "quic": "853"}

// SplitListen splits a listen address into its scheme ("" for plain UDP and TCP, "tls",
// "https" or "quic"), its IP:port (with the scheme's default port when it has none) and,
// for https, its path ("/dns-query" by default). It reports why addr is malformed.
func SplitListen(addr string) (scheme, hostPort, path string, err error) {
	scheme, rest, found := strings.Cut(addr, "://")
	if !found {
		if _, err := netip.ParseAddrPort(addr); err != nil {
			return "", "", "", fmt.Errorf("%q is not an IP address and port (like 127.0.0.1:53 or [::1]:53) nor tls://, https:// or quic:// one", addr)
		}
		return "", addr, "", nil
	}
	defPort, ok := listenSchemes[scheme]
	if !ok {
		return "", "", "", fmt.Errorf("%q has scheme %q; want tls://, https:// or quic://", addr, scheme)
	}
	if scheme == "https" {
		path = "/dns-query"
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest, path = rest[:i], rest[i:]
		}
	}
	if a, err := netip.ParseAddr(strings.Trim(rest, "[]")); err == nil { // no port
		rest = net.JoinHostPort(a.String(), defPort)
	}
	if _, err := netip.ParseAddrPort(rest); err != nil {
		return "", "", "", fmt.Errorf("%q: %q is not an IP address with an optional port", addr, rest)
	}
	return scheme, rest, path, nil
}

// checkListenAddress returns why addr is not a listen address, or "".
func checkListenAddress(addr string) string {
	if !strings.Contains(addr, "://") {
		return checkAddress(addr) // plain UDP and TCP
	}
	if _, _, _, err := SplitListen(addr); err != nil {
		return err.Error()
	}
	return ""
}

// validateListenTLS checks the tls-* keys of the [[listen]] entries: a certificate and key
// come together and exclude tls-self-signed, entries agree on one certificate, and an
// encrypted listener has one.
func (c *Config) validateListenTLS() []error {
	var errs []error
	var files TLSFiles
	encrypted := -1
	for i, l := range c.Listen {
		key := fmt.Sprintf("listen[%d]", i)
		f := TLSFiles{Cert: l.TLSCert, Key: l.TLSKey, SelfSigned: l.TLSSelfSigned}
		switch {
		case (f.Cert == "") != (f.Key == ""):
			errs = append(errs, c.errorf(key+".tls-cert", "tls-cert and tls-key go together"))
		case f.Cert != "" && f.SelfSigned != "":
			errs = append(errs, c.errorf(key+".tls-self-signed", "give tls-cert and tls-key, or tls-self-signed, not both"))
		case !f.IsZero() && !files.IsZero() && f != files:
			errs = append(errs, c.errorf(key+".tls-cert", "all encrypted listeners share one certificate; this entry names another"))
		case !f.IsZero():
			files = f
		}
		if scheme, _, _, err := SplitListen(l.Address); err == nil && scheme != "" && encrypted < 0 {
			encrypted = i
		}
	}
	if encrypted >= 0 && files.IsZero() {
		errs = append(errs, c.errorf(fmt.Sprintf("listen[%d].address", encrypted),
			"%s needs a certificate: tls-cert and tls-key, or tls-self-signed", c.Listen[encrypted].Address))
	}
	return errs
}

// ListenTLS returns the certificate of the encrypted listeners, with relative paths made
// relative to the configuration file's directory; the zero TLSFiles when none is set.
func (c *Config) ListenTLS() TLSFiles {
	var files TLSFiles
	for _, l := range c.Listen {
		if l.TLSCert != "" || l.TLSSelfSigned != "" {
			files = TLSFiles{Cert: l.TLSCert, Key: l.TLSKey, SelfSigned: l.TLSSelfSigned}
			break
		}
	}
	dir := filepath.Dir(c.File)
	for _, p := range []*string{&files.Cert, &files.Key, &files.SelfSigned} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return files
}
