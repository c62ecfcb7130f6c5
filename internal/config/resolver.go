package config

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Resolver is the [resolver] section: the recursive resolver. It runs
// only when Listen lists at least one address, which must differ from the
// [[listen]] addresses of the authoritative server.
//
//	[resolver]
//	listen = ["127.0.0.1:5300"]
//	root-hints = "root.hints"        # default: the IANA root servers
//	allow = ["127.0.0.0/8", "10.0.0.0/8"]
//	cache-bytes = 67108864
//	serve-stale = "24h"              # RFC 8767; default off
//	trust-anchor = "/usr/share/dns/root.key"  # default: the IANA root KSKs
//	validate = true                  # DNSSEC validation; default on
//	forward = ["tls://192.0.2.53#dns.example", "https://dns.example/dns-query"]
//	forward-ca = "ca.pem"            # default: the system roots
//	open-resolver = false            # see OpenResolver
//
// Addresses and prefixes are checked as the file is decoded, so an error
// names the line.
type Resolver struct {
	// Listen lists the addresses (IP:port) to answer recursive queries
	// on, over UDP and TCP. Default: none, the resolver does not run.
	Listen []AddrPort `toml:"listen"`

	// RootHints is a root hints file in the format of IANA's named.root,
	// relative to the configuration file's directory (see
	// RootHintsPath). Default: empty, the built-in IANA root servers.
	RootHints string `toml:"root-hints"`

	// Allow lists the client prefixes that get answers; everyone else
	// gets REFUSED. Default: loopback and the private ranges (RFC 1918,
	// RFC 4193, link-local): never an open resolver by accident.
	Allow []Prefix `toml:"allow"`

	// CacheBytes bounds the cache in bytes. Default: 0, the resolver's
	// default (64 MiB).
	CacheBytes int `toml:"cache-bytes"`

	// ServeStale, such as "24h", keeps expired answers that long and
	// serves them when no server answers (RFC 8767). Default: 0, off.
	ServeStale time.Duration `toml:"serve-stale"`

	// TrustAnchor is a file of DS or DNSKEY records, one a line, that
	// replaces the built-in IANA root KSKs (Unbound's trust-anchor-file,
	// Debian's /usr/share/dns/root.key), relative to the configuration
	// file's directory (see TrustAnchorPath). Default: empty, the IANA
	// root anchors, or no validation when RootHints is set (a private
	// root needs its own anchor).
	TrustAnchor string `toml:"trust-anchor"`

	// Validate turns DNSSEC validation on or off. Default: nil, on
	// (answers proven Secure get AD, Bogus ones SERVFAIL).
	Validate *bool `toml:"validate"`

	// Forward lists upstream resolvers to forward every query to, tried
	// fastest first, instead of resolving from the root; validation
	// stays on, the upstreams asked with CD. Each is an IP[:PORT] (plain
	// DNS), tls://HOST[:PORT][#NAME], https://HOST[:PORT][/PATH] or
	// quic://HOST[:PORT][#NAME], with an optional "pin=BASE64" SPKI pin
	// in the fragment (resolver.ParseUpstream). Default: none, full
	// recursion.
	Forward []Upstream `toml:"forward"`

	// ForwardCA is a PEM file of CA certificates the tls://, https://
	// and quic:// upstreams must chain to, relative to the configuration
	// file's directory (see ForwardCAPath). Default: the system roots.
	ForwardCA string `toml:"forward-ca"`

	// OpenResolver acknowledges that the resolver answers clients on the
	// public Internet. Without it, a resolver that listens on an address
	// other than loopback and allows any range beyond loopback and the
	// private ones (0.0.0.0/0, a public /24, ...) refuses to start (see
	// CheckOpenResolver). Default: false.
	OpenResolver bool `toml:"open-resolver"`
}

// ErrOpenResolver is wrapped by the error CheckOpenResolver returns.
var ErrOpenResolver = errors.New("config: open resolver")

// trustedRanges are the client ranges a resolver may answer without
// OpenResolver: loopback, RFC 1918, IPv6 unique-local (RFC 4193) and
// link-local, the resolver's default allow list.
var trustedRanges = [...]netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"), netip.MustParsePrefix("fe80::/10"),
}

// trusted reports whether every address of p is in a trusted range. An
// IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) is judged as the IPv4
// prefix it maps.
func trusted(p netip.Prefix) bool {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	for _, t := range trustedRanges {
		if t.Bits() <= p.Bits() && t.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// CheckOpenResolver returns an error wrapping ErrOpenResolver when a
// resolver listening on listen and answering the clients in allow would
// be open to the Internet: some listen address is not loopback (0.0.0.0
// counts: it is every address) and some allowed range reaches beyond
// loopback and the private ranges. Such a resolver is what reflection
// attacks are made of: anyone can send it small queries with a victim's
// address forged as the source, and it sends the victim answers many times
// larger. An empty allow list is the resolver's default, loopback and
// the private ranges, and is never open. The caller skips the check when
// the operator said the resolver is meant to be open.
func CheckOpenResolver(listen []netip.Addr, allow []netip.Prefix) error {
	var exposed netip.Addr
	for _, a := range listen {
		if !a.Unmap().IsLoopback() {
			exposed = a
			break
		}
	}
	if !exposed.IsValid() {
		return nil
	}
	for _, p := range allow {
		if !trusted(p) {
			return fmt.Errorf("%w: listening on %s, which is not loopback, and allowing %s, which is not loopback or a private range, "+
				"makes an open resolver: anyone can forge a victim's address in small queries and have the answers, many times larger, "+
				"sent to the victim (DNS amplification)", ErrOpenResolver, exposed, p)
		}
	}
	return nil
}

// validate checks the [resolver] section: forward and root-hints
// exclude each other, and an open resolver needs open-resolver = true.
func (r *Resolver) validate(c *Config) []error {
	var errs []error
	if len(r.Forward) > 0 && r.RootHints != "" {
		errs = append(errs, c.errorf("resolver.forward", "forward and root-hints exclude each other: a forwarder asks its upstreams and never resolves from the root"))
	}
	if r.ForwardCA != "" && len(r.Forward) == 0 {
		errs = append(errs, c.errorf("resolver.forward-ca", "needs forward: the CA file is for tls://, https:// and quic:// upstreams"))
	}
	return append(errs, r.validateOpen(c)...)
}

// validateOpen checks that a resolver open to the Internet says so with
// open-resolver = true.
func (r *Resolver) validateOpen(c *Config) []error {
	if r.OpenResolver {
		return nil
	}
	listen := make([]netip.Addr, len(r.Listen))
	for i, a := range r.Listen {
		listen[i] = a.Addr()
	}
	allow := make([]netip.Prefix, len(r.Allow))
	for i, p := range r.Allow {
		allow[i] = p.Prefix
	}
	if err := CheckOpenResolver(listen, allow); err != nil {
		msg := strings.TrimPrefix(err.Error(), ErrOpenResolver.Error()+": ")
		return []error{&Error{File: c.File, Key: "resolver.allow", Msg: msg + "; if that is what you want, set open-resolver = true in [resolver] (and keep rate limiting in front of it)", Err: err}}
	}
	return nil
}

// ForwardCAPath returns ForwardCA resolved against the directory of the
// configuration file cfgFile, or "" when no file is set.
func (r Resolver) ForwardCAPath(cfgFile string) string {
	if r.ForwardCA == "" || filepath.IsAbs(r.ForwardCA) {
		return r.ForwardCA
	}
	return filepath.Join(filepath.Dir(cfgFile), r.ForwardCA)
}

// Upstream is an upstream resolver of the forward list, checked for its
// form ([SCHEME://]HOST...) as it is decoded; the resolver parses it
// fully when it starts.
type Upstream struct{ URL string }

// UnmarshalText checks the scheme and that a host follows it.
func (u *Upstream) UnmarshalText(b []byte) error {
	s := string(b)
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	}
	switch {
	case scheme != "" && scheme != "udp" && scheme != "tls" && scheme != "https" && scheme != "quic":
		return fmt.Errorf("%q: unknown scheme %q (want tls://, https://, quic:// or none for plain DNS)", s, scheme)
	case rest == "" || strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "#"):
		return fmt.Errorf("%q has no host", s)
	}
	u.URL = s
	return nil
}

// TrustAnchorPath returns TrustAnchor resolved against the directory of
// the configuration file cfgFile, or "" when no file is set.
func (r Resolver) TrustAnchorPath(cfgFile string) string {
	if r.TrustAnchor == "" || filepath.IsAbs(r.TrustAnchor) {
		return r.TrustAnchor
	}
	return filepath.Join(filepath.Dir(cfgFile), r.TrustAnchor)
}

// RootHintsPath returns RootHints resolved against the directory of the
// configuration file cfgFile, or "" when no hints file is set.
func (r Resolver) RootHintsPath(cfgFile string) string {
	if r.RootHints == "" || filepath.IsAbs(r.RootHints) {
		return r.RootHints
	}
	return filepath.Join(filepath.Dir(cfgFile), r.RootHints)
}

// AddrPort is an IP address and port written as text ("127.0.0.1:53",
// "[::1]:53"), checked when decoded.
type AddrPort struct{ netip.AddrPort }

// UnmarshalText parses an IP:port.
func (a *AddrPort) UnmarshalText(b []byte) error {
	ap, err := netip.ParseAddrPort(string(b))
	if err != nil {
		return fmt.Errorf("%q is not an IP address and port (like 127.0.0.1:53 or [::1]:53)", b)
	}
	a.AddrPort = ap
	return nil
}

// Prefix is an IP prefix written in CIDR notation ("10.0.0.0/8"); a bare
// address means that one address. It is checked when decoded.
type Prefix struct{ netip.Prefix }

// UnmarshalText parses a CIDR prefix or a single address.
func (p *Prefix) UnmarshalText(b []byte) error {
	if pf, err := netip.ParsePrefix(string(b)); err == nil {
		p.Prefix = pf.Masked()
		return nil
	}
	if a, err := netip.ParseAddr(string(b)); err == nil {
		p.Prefix = netip.PrefixFrom(a, a.BitLen())
		return nil
	}
	return fmt.Errorf("%q is not an IP prefix (like 10.0.0.0/8 or fd00::/8)", b)
}
