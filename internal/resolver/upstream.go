package resolver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/rensa-dns/rensa/internal/transport"
)

// UpstreamOptions are the settings ParseUpstream applies to every
// upstream it makes.
type UpstreamOptions struct {
	// CAFile is a PEM file of CA certificates that tls://, https:// and
	// quic:// upstreams must chain to. Default: the system roots.
	CAFile string

	// Timeout bounds one exchange. Default: the resolver's per-attempt
	// timeout (1.5 s).
	Timeout time.Duration

	// Dial opens the TCP connections of Do53, DoT and DoH upstreams.
	// Default: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ParseUpstream makes an [Upstream] from its URL form, as the `forward`
// list of the configuration file and "rensa resolver --forward" write it:
//
//	127.0.0.1 or 127.0.0.1:53 or [::1]:53   plain DNS (UDP, TCP on TC)
//	tls://127.0.0.1[:853][#NAME]            DNS over TLS (RFC 7858)
//	https://dns.example[:443]/dns-query     DNS over HTTPS (RFC 8484)
//	quic://127.0.0.1[:853][#NAME]           DNS over QUIC (RFC 9250)
//
// NAME is the name the certificate must carry when it differs from the
// host (Unbound's forward-addr "IP#name"). A fragment "pin=BASE64",
// alone or after NAME and a comma ("#dns.example,pin=..."), accepts the
// server by the SHA-256 pin of its public key instead (RFC 7858 §4.2;
// transport.SPKIPin). Plain DNS needs an IP address, so that no name
// must be resolved to reach the resolver's own upstream.
func ParseUpstream(spec string, o UpstreamOptions) (Upstream, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = attemptTimeout
	}
	rest, frag, _ := strings.Cut(spec, "#")
	name, pin, err := parseFragment(frag)
	if err != nil {
		return Upstream{}, fmt.Errorf("resolver: upstream %q: %w", spec, err)
	}
	scheme, hostport, ok := strings.Cut(rest, "://")
	if !ok {
		scheme, hostport = "", rest
	}
	u := Upstream{Name: spec}
	switch scheme {
	case "", "udp":
		if name != "" || pin != "" {
			return Upstream{}, fmt.Errorf("resolver: upstream %q: #NAME and pin= apply to tls://, https:// and quic:// only", spec)
		}
		addr, err := withPort(hostport, "53", true)
		if err != nil {
			return Upstream{}, fmt.Errorf("resolver: upstream %q: %w", spec, err)
		}
		if u.Plain, err = netip.ParseAddrPort(addr); err != nil {
			return Upstream{}, fmt.Errorf("resolver: upstream %q: %w", spec, err)
		}
		u.Exchanger = &transport.Do53{Addr: addr, Timeout: timeout, Dial: o.Dial}
	case "tls":
		addr, err := withPort(hostport, "853", false)
		if err != nil {
			return Upstream{}, fmt.Errorf("resolver: upstream %q: %w", spec, err)
		}
		u.Exchanger = &transport.DoT{Addr: addr, ServerName: name, CAFile: o.CAFile, SPKIPin: pin, Timeout: timeout, Dial: o.Dial}
	case "quic":
		addr, err := withPort(hostport, "853", false)
		if err != nil {
			return Upstream{}, fmt.Errorf("resolver: upstream %q: %w", spec, err)
		}
		u.Exchanger = &transport.DoQ{Addr: addr, ServerName: name, CAFile: o.CAFile, SPKIPin: pin, Timeout: timeout}
	case "https":
		host, _, _ := strings.Cut(hostport, "/")
		if host == "" || name != "" {
			return Upstream{}, fmt.Errorf("resolver: upstream %q: want https://HOST[:PORT]/PATH (the certificate name is the host; #NAME does not apply)", spec)
		}
		if !strings.Contains(hostport, "/") {
			rest += "/dns-query"
		}
		u.Exchanger = &transport.DoH{URL: rest, CAFile: o.CAFile, SPKIPin: pin, Timeout: timeout, Dial: o.Dial}
	default:
		return Upstream{}, fmt.Errorf("resolver: upstream %q: unknown scheme %q (want tls://, https://, quic:// or none for plain DNS)", spec, scheme)
	}
	return u, nil
}

// parseFragment splits an upstream's "#NAME[,pin=BASE64]" fragment.
func parseFragment(frag string) (name, pin string, err error) {
	for part := range strings.SplitSeq(frag, ",") {
		switch {
		case part == "":
		case strings.HasPrefix(part, "pin="):
			pin = strings.TrimPrefix(part, "pin=")
		case name == "":
			name = part
		default:
			return "", "", fmt.Errorf("more than one name in %q", frag)
		}
	}
	return name, pin, nil
}

// withPort returns hostport with port def added when it has none; with
// needIP the host must be an IP address.
func withPort(hostport, def string, needIP bool) (string, error) {
	if hostport == "" || strings.Contains(hostport, "/") {
		return "", fmt.Errorf("want HOST[:PORT], not %q", hostport)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), def
	}
	if needIP {
		if _, err := netip.ParseAddr(host); err != nil {
			return "", fmt.Errorf("plain DNS upstream needs an IP address, not %q", host)
		}
	}
	return net.JoinHostPort(host, port), nil
}
