package resolver

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// ianaRootHints are the root servers as IANA publishes them in
// named.root (https://www.internic.net/domain/named.root): every
// resolution starts here unless Config.RootHints says otherwise.
const ianaRootHints = `
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
.                        3600000      NS    B.ROOT-SERVERS.NET.
B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b
.                        3600000      NS    C.ROOT-SERVERS.NET.
C.ROOT-SERVERS.NET.      3600000      A     192.33.4.12
C.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2::c
.                        3600000      NS    D.ROOT-SERVERS.NET.
D.ROOT-SERVERS.NET.      3600000      A     199.7.91.13
D.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2d::d
.                        3600000      NS    E.ROOT-SERVERS.NET.
E.ROOT-SERVERS.NET.      3600000      A     192.203.230.10
E.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:a8::e
.                        3600000      NS    F.ROOT-SERVERS.NET.
F.ROOT-SERVERS.NET.      3600000      A     192.5.5.241
F.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2f::f
.                        3600000      NS    G.ROOT-SERVERS.NET.
G.ROOT-SERVERS.NET.      3600000      A     192.112.36.4
G.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:12::d0d
.                        3600000      NS    H.ROOT-SERVERS.NET.
H.ROOT-SERVERS.NET.      3600000      A     198.97.190.53
H.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:1::53
.                        3600000      NS    I.ROOT-SERVERS.NET.
I.ROOT-SERVERS.NET.      3600000      A     192.36.148.17
I.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fe::53
.                        3600000      NS    J.ROOT-SERVERS.NET.
J.ROOT-SERVERS.NET.      3600000      A     192.58.128.30
J.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:c27::2:30
.                        3600000      NS    K.ROOT-SERVERS.NET.
K.ROOT-SERVERS.NET.      3600000      A     193.0.14.129
K.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fd::1
.                        3600000      NS    L.ROOT-SERVERS.NET.
L.ROOT-SERVERS.NET.      3600000      A     199.7.83.42
L.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:9f::42
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
M.ROOT-SERVERS.NET.      3600000      AAAA  2001:dc3::35
`

// Hints is the starting point of every resolution: the root's name
// servers and their addresses.
type Hints struct {
	NS    []string                // server names, canonical
	Addrs map[string][]netip.Addr // addresses of each name
}

// ParseHints reads root hints in the format of IANA's named.root (master
// file lines: ". NS name" and "name A/AAAA address"). Every NS must be
// owned by the root and have at least one address.
func ParseHints(r io.Reader, file string) (Hints, error) {
	h := Hints{Addrs: map[string][]netip.Addr{}}
	zp := dns.NewZoneParser(r, ".", file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		hdr := rr.Header()
		name := dns.CanonicalName(hdr.Name)
		switch rr := rr.(type) {
		case *dns.NS:
			if name != "." {
				return Hints{}, fmt.Errorf("resolver: %s: NS record owned by %s, not the root", file, hdr.Name)
			}
			h.NS = append(h.NS, dns.CanonicalName(rr.Ns))
		case *dns.A:
			a, _ := netip.AddrFromSlice(rr.A.To4())
			h.Addrs[name] = append(h.Addrs[name], a)
		case *dns.AAAA:
			a, _ := netip.AddrFromSlice(rr.AAAA)
			h.Addrs[name] = append(h.Addrs[name], a)
		}
	}
	if err := zp.Err(); err != nil {
		return Hints{}, fmt.Errorf("resolver: root hints: %w", err)
	}
	if len(h.NS) == 0 {
		return Hints{}, fmt.Errorf("resolver: %s: no root NS records", file)
	}
	for _, ns := range h.NS {
		if len(h.Addrs[ns]) == 0 {
			return Hints{}, fmt.Errorf("resolver: %s: root server %s has no address", file, ns)
		}
	}
	return h, nil
}

// IANARootHints returns the built-in hints: the 13 IANA root servers.
func IANARootHints() Hints {
	h, err := ParseHints(strings.NewReader(ianaRootHints), "built-in root hints")
	if err != nil {
		panic(err) // the constant above is wrong: a bug caught by the tests
	}
	return h
}
