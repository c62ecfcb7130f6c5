package auth

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
)

func exampleServer(t testing.TB) *Server {
	t.Helper()
	return newServer(t, Config{}, dnstest.Zone(t, "example.", exampleZone))
}

type sections = dnstest.Sections

func TestPositive(t *testing.T) {
	t.Parallel()
	run(t, exampleServer(t), []exchange{
		{name: "A", q: "www.example. A", aa: true,
			want: sections{Answer: []string{"www.example. 3600 IN A 192.0.2.1"}}},
		{name: "case of the question is kept in the answer", q: "WwW.ExAmPlE. A", aa: true,
			want: sections{Answer: []string{"WwW.ExAmPlE. 3600 IN A 192.0.2.1"}}},
		{name: "apex NS without additional data", q: "example. NS", aa: true,
			want: sections{Answer: []string{"example. 3600 IN NS ns1.example.", "example. 3600 IN NS ns.example.net."}}},
		{name: "apex SOA with its own TTL", q: "example. SOA", aa: true,
			want: sections{Answer: []string{"example. 3600 IN SOA ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300"}}},
		{name: "name below an empty non-terminal", q: "a.ent.example. A", aa: true,
			want: sections{Answer: []string{"a.ent.example. 3600 IN A 192.0.2.7"}}},
		{name: "unknown type is NODATA", q: "www.example. TYPE666", aa: true,
			want: sections{Ns: []string{soaLine}}},
	})
}

func TestANY(t *testing.T) {
	t.Parallel()
	run(t, exampleServer(t), []exchange{
		{name: "UDP gets one RRset (RFC 8482)", q: "www.example. ANY", aa: true,
			want: sections{Answer: []string{"www.example. 3600 IN A 192.0.2.1"}}},
		{name: "TCP gets everything", q: "www.example. ANY", tcp: true, aa: true,
			want: sections{Answer: []string{
				"www.example. 3600 IN A 192.0.2.1",
				"www.example. 3600 IN AAAA 2001:db8::1",
				`www.example. 3600 IN TXT "www"`,
			}}},
		{name: "wildcard over UDP", q: "host3.wild.example. ANY", aa: true,
			want: sections{Answer: []string{"host3.wild.example. 3600 IN MX 10 www.example."}}},
		{name: "wildcard over TCP", q: "host3.wild.example. ANY", tcp: true, aa: true,
			want: sections{Answer: []string{"host3.wild.example. 3600 IN MX 10 www.example.", `host3.wild.example. 3600 IN TXT "wild"`}}},
		{name: "CNAME is not followed", q: "alias.example. ANY", aa: true,
			want: sections{Answer: []string{"alias.example. 3600 IN CNAME www.example."}}},
		{name: "empty non-terminal", q: "ent.example. ANY", aa: true,
			want: sections{Ns: []string{soaLine}}},
		{name: "no such name", q: "nx.example. ANY", aa: true, rcode: dns.RcodeNameError,
			want: sections{Ns: []string{soaLine}}},
		{name: "delegation", q: "child.example. ANY", want: childReferral("child.example.")},
	})
}

func TestCNAME(t *testing.T) {
	t.Parallel()
	wwwA := "www.example. 3600 IN A 192.0.2.1"
	run(t, exampleServer(t), []exchange{
		{name: "followed in the zone", q: "alias.example. A", aa: true,
			want: sections{Answer: []string{"alias.example. 3600 IN CNAME www.example.", wwwA}}},
		{name: "owner in the case asked", q: "ALIAS.example. A", aa: true,
			want: sections{Answer: []string{"ALIAS.example. 3600 IN CNAME www.example.", wwwA}}},
		{name: "chain, each owner in the case its CNAME wrote", q: "chain1.example. A", aa: true,
			want: sections{Answer: []string{
				"chain1.example. 3600 IN CNAME chain2.example.",
				"chain2.example. 3600 IN CNAME Chain3.Example.",
				"Chain3.Example. 3600 IN CNAME www.example.",
				wwwA,
			}}},
		{name: "CNAME asked for", q: "alias.example. CNAME", aa: true,
			want: sections{Answer: []string{"alias.example. 3600 IN CNAME www.example."}}},
		{name: "target does not exist: NXDOMAIN (RFC 6604)", q: "dangling.example. A", aa: true, rcode: dns.RcodeNameError,
			want: sections{Answer: []string{"dangling.example. 3600 IN CNAME nothere.example."}, Ns: []string{soaLine}}},
		{name: "target has no data: NODATA", q: "to-ent.example. A", aa: true,
			want: sections{Answer: []string{"to-ent.example. 3600 IN CNAME ent.example."}, Ns: []string{soaLine}}},
		{name: "target outside the zone is left to the client", q: "outside.example. A", aa: true,
			want: sections{Answer: []string{"outside.example. 3600 IN CNAME www.example.net."}}},
		{name: "loop of two", q: "loop1.example. A", aa: true,
			want: sections{Answer: []string{"loop1.example. 3600 IN CNAME loop2.example.", "loop2.example. 3600 IN CNAME loop1.example."}}},
		{name: "loop of one", q: "self.example. A", aa: true,
			want: sections{Answer: []string{"self.example. 3600 IN CNAME self.example."}}},
		{name: "into a delegation: referral after the CNAME, authoritative", q: "to-cut.example. A", aa: true,
			want: sections{
				Answer: []string{"to-cut.example. 3600 IN CNAME host.child.example."},
				Ns:     childReferral("child.example.").Ns,
				Extra:  childReferral("child.example.").Extra,
			}},
	})
}

func TestDNAME(t *testing.T) {
	t.Parallel()
	run(t, exampleServer(t), []exchange{
		{name: "synthesis into the zone", q: "host.dz.example. A", aa: true,
			want: sections{Answer: []string{
				"dz.example. 3600 IN DNAME target.example.",
				"host.dz.example. 3600 IN CNAME host.target.example.",
				"host.target.example. 3600 IN A 192.0.2.9",
			}}},
		{name: "case as asked", q: "HOST.DZ.example. A", aa: true,
			want: sections{Answer: []string{
				"DZ.example. 3600 IN DNAME target.example.",
				"HOST.DZ.example. 3600 IN CNAME HOST.target.example.",
				"HOST.target.example. 3600 IN A 192.0.2.9",
			}}},
		{name: "synthesis out of the zone", q: "a.b.dn.example. A", aa: true,
			want: sections{Answer: []string{
				"dn.example. 3600 IN DNAME example.net.",
				"a.b.dn.example. 3600 IN CNAME a.b.example.net.",
			}}},
		{name: "synthesised target does not exist", q: "none.dz.example. A", aa: true, rcode: dns.RcodeNameError,
			want: sections{
				Answer: []string{"dz.example. 3600 IN DNAME target.example.", "none.dz.example. 3600 IN CNAME none.target.example."},
				Ns:     []string{soaLine},
			}},
		{name: "DNAME asked for at its owner", q: "dz.example. DNAME", aa: true,
			want: sections{Answer: []string{"dz.example. 3600 IN DNAME target.example."}}},
		{name: "owner itself is not redirected", q: "dz.example. A", aa: true,
			want: sections{Ns: []string{soaLine}}},
	})
}

func TestDNAMEYXDOMAIN(t *testing.T) {
	t.Parallel()
	l63 := "a123456789b123456789c123456789d123456789e123456789f123456789abc"
	target := l63 + "." + l63 + "." + l63 + ".example." // 201 octets in wire form
	z := dnstest.Zone(t, "example.", `
@    SOA ns.example. admin.example. 1 7200 3600 1209600 300
@    NS  ns.example.
long DNAME `+target)
	dnameLine := "long.example. 3600 IN DNAME " + target
	run(t, newServer(t, Config{}, z), []exchange{
		{name: "fits", q: "x.long.example. A", aa: true, rcode: dns.RcodeNameError,
			want: sections{
				Answer: []string{dnameLine, "x.long.example. 3600 IN CNAME x." + target},
				Ns:     []string{"example. 300 IN SOA ns.example. admin.example. 1 7200 3600 1209600 300"},
			}},
		{name: "too long: YXDOMAIN (RFC 6672 §2.2)", q: l63 + ".long.example. A", aa: true, rcode: dns.RcodeYXDomain,
			want: sections{Answer: []string{dnameLine}}},
	})
}

func TestWildcard(t *testing.T) {
	t.Parallel()
	run(t, exampleServer(t), []exchange{
		{name: "synthesised with the query name as owner", q: "host3.wild.example. MX", aa: true,
			want: sections{Answer: []string{"host3.wild.example. 3600 IN MX 10 www.example."}}},
		{name: "owner in the case asked", q: "Host3.WILD.example. TXT", aa: true,
			want: sections{Answer: []string{`Host3.WILD.example. 3600 IN TXT "wild"`}}},
		{name: "NODATA at the wildcard", q: "host3.wild.example. A", aa: true,
			want: sections{Ns: []string{soaLine}}},
		{name: "several labels below", q: "a.b.wild.example. TXT", aa: true,
			want: sections{Answer: []string{`a.b.wild.example. 3600 IN TXT "wild"`}}},
		{name: "the wildcard name itself", q: "*.wild.example. TXT", aa: true,
			want: sections{Answer: []string{`*.wild.example. 3600 IN TXT "wild"`}}},
		{name: "empty non-terminal matches no wildcard", q: "y.wild.example. TXT", aa: true,
			want: sections{Ns: []string{soaLine}}},
		{name: "empty non-terminal blocks the wildcard", q: "z.y.wild.example. TXT", aa: true, rcode: dns.RcodeNameError,
			want: sections{Ns: []string{soaLine}}},
		{name: "CNAME at a wildcard", q: "a.cw.example. A", aa: true,
			want: sections{Answer: []string{"a.cw.example. 3600 IN CNAME www.example.", "www.example. 3600 IN A 192.0.2.1"}}},
		{name: "CNAME loop through a wildcard", q: "a.cwloop.example. A", aa: true,
			want: sections{Answer: []string{
				"a.cwloop.example. 3600 IN CNAME x.cwloop.example.",
				"x.cwloop.example. 3600 IN CNAME x.cwloop.example.",
			}}},
	})
}

// childReferral is the referral to child.example. with the cut's owner
// written as owner: in-domain glue for ns.child, sibling glue for ns.sib,
// none for ns.example.net.
func childReferral(owner string) sections {
	return sections{
		Ns: []string{
			owner + " 3600 IN NS ns.child.example.",
			owner + " 3600 IN NS ns.sib.example.",
			owner + " 3600 IN NS ns.example.net.",
		},
		Extra: []string{
			"ns.child.example. 3600 IN A 192.0.2.10",
			"ns.child.example. 3600 IN AAAA 2001:db8::10",
			"ns.sib.example. 3600 IN A 192.0.2.20",
		},
	}
}

func TestReferral(t *testing.T) {
	t.Parallel()
	run(t, exampleServer(t), []exchange{
		{name: "below the cut", q: "host.child.example. A", want: childReferral("child.example.")},
		{name: "at the cut", q: "child.example. NS", want: childReferral("child.example.")},
		{name: "glue name itself", q: "ns.child.example. A", want: childReferral("child.example.")},
		{name: "cut owner in the case asked", q: "HOST.Child.example. A", want: childReferral("Child.example.")},
		{name: "DS from the parent side", q: "child.example. DS", aa: true,
			want: sections{Answer: []string{"child.example. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"}}},
		{name: "no DS at the cut: NODATA from the parent", q: "nods.example. DS", aa: true,
			want: sections{Ns: []string{soaLine}}},
		{name: "DS below the cut is referred", q: "x.nods.example. DS",
			want: sections{Ns: []string{"nods.example. 3600 IN NS ns.example.net."}}},
	})
}

// TestDSAtParent hosts a parent and its child: DS at the child's apex
// comes from the parent, everything else from the child.
func TestDSAtParent(t *testing.T) {
	t.Parallel()
	child := dnstest.Zone(t, "child.example.", `
@    SOA ns.child.example. admin.child.example. 7 7200 3600 1209600 60
@    NS  ns.child.example.
ns   A   192.0.2.10
www  A   192.0.2.11`)
	s := newServer(t, Config{}, dnstest.Zone(t, "example.", exampleZone), child)
	run(t, s, []exchange{
		{name: "DS at the child apex", q: "child.example. DS", aa: true,
			want: sections{Answer: []string{"child.example. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"}}},
		{name: "SOA at the child apex", q: "child.example. SOA", aa: true,
			want: sections{Answer: []string{"child.example. 3600 IN SOA ns.child.example. admin.child.example. 7 7200 3600 1209600 60"}}},
		{name: "data in the child", q: "www.child.example. A", aa: true,
			want: sections{Answer: []string{"www.child.example. 3600 IN A 192.0.2.11"}}},
		{name: "DS below the child apex is the child's", q: "www.child.example. DS", aa: true,
			want: sections{Ns: []string{"child.example. 60 IN SOA ns.child.example. admin.child.example. 7 7200 3600 1209600 60"}}},
	})
	// Without the parent, the child answers NODATA for its own DS.
	run(t, newServer(t, Config{}, child), []exchange{
		{name: "child alone", q: "child.example. DS", aa: true,
			want: sections{Ns: []string{"child.example. 60 IN SOA ns.child.example. admin.child.example. 7 7200 3600 1209600 60"}}},
	})
}

func TestNegative(t *testing.T) {
	t.Parallel()
	run(t, exampleServer(t), []exchange{
		{name: "NXDOMAIN", q: "nx.example. A", aa: true, rcode: dns.RcodeNameError,
			want: sections{Ns: []string{soaLine}}},
		{name: "NODATA", q: "www.example. MX", aa: true,
			want: sections{Ns: []string{soaLine}}},
		{name: "NODATA at an empty non-terminal", q: "ent.example. A", aa: true,
			want: sections{Ns: []string{soaLine}}},
		{name: "SOA owner in the case asked", q: "Nx.EXAMPLE. A", aa: true, rcode: dns.RcodeNameError,
			want: sections{Ns: []string{"EXAMPLE. 300 IN SOA ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300"}}},
	})
	// The SOA's own TTL wins when it is below MINIMUM.
	low := dnstest.Zone(t, "low.test.", `
@ 60 SOA ns.low.test. admin.low.test. 1 7200 3600 1209600 86400
@ 60 NS  ns.low.test.`)
	run(t, newServer(t, Config{}, low), []exchange{
		{name: "TTL below MINIMUM", q: "nx.low.test. A", aa: true, rcode: dns.RcodeNameError,
			want: sections{Ns: []string{"low.test. 60 IN SOA ns.low.test. admin.low.test. 1 7200 3600 1209600 86400"}}},
	})
}

func TestRefusedAndClasses(t *testing.T) {
	t.Parallel()
	run(t, exampleServer(t), []exchange{
		{name: "outside every zone", q: "www.example.org. A", rcode: dns.RcodeRefused},
		{name: "parent of the zone", q: ". NS", rcode: dns.RcodeRefused},
		{name: "class ANY answers, not authoritatively", q: "www.example. A ANY",
			want: sections{Answer: []string{"www.example. 3600 IN A 192.0.2.1"}}},
		{name: "class NONE", q: "www.example. A NONE", rcode: dns.RcodeRefused},
		{name: "class HS", q: "www.example. A HS", rcode: dns.RcodeRefused},
		{name: "AXFR", q: "example. AXFR", tcp: true, rcode: dns.RcodeRefused},
		{name: "IXFR", q: "example. IXFR", rcode: dns.RcodeRefused},
		{name: "MAILB", q: "example. MAILB", rcode: dns.RcodeNotImplemented},
		{name: "OPT as a question", q: "example. OPT", rcode: dns.RcodeFormatError},
		{name: "TSIG as a question", q: "example. TSIG", rcode: dns.RcodeFormatError},
	})
	run(t, newServer(t, Config{}), []exchange{
		{name: "no zones", q: "www.example. A", rcode: dns.RcodeRefused},
	})
}

func TestChaos(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Version: `rensa 0.1 "dev" \o/`, ID: "ns1.test"})
	run(t, s, []exchange{
		{name: "version.bind", q: "version.bind. TXT CH", aa: true,
			want: sections{Answer: []string{`version.bind. 0 CH TXT "rensa 0.1 \"dev\" \\o/"`}}},
		{name: "version.server", q: "version.server. TXT CH", aa: true,
			want: sections{Answer: []string{`version.server. 0 CH TXT "rensa 0.1 \"dev\" \\o/"`}}},
		{name: "id.server", q: "id.server. TXT CH", aa: true,
			want: sections{Answer: []string{`id.server. 0 CH TXT "ns1.test"`}}},
		{name: "hostname.bind in the case asked", q: "HOSTNAME.Bind. TXT CH", aa: true,
			want: sections{Answer: []string{`HOSTNAME.Bind. 0 CH TXT "ns1.test"`}}},
		{name: "ANY", q: "id.server. ANY CH", aa: true,
			want: sections{Answer: []string{`id.server. 0 CH TXT "ns1.test"`}}},
		{name: "other type", q: "id.server. A CH", aa: true},
		{name: "other name", q: "authors.bind. TXT CH", rcode: dns.RcodeRefused},
	})
	run(t, newServer(t, Config{}), []exchange{
		{name: "not configured", q: "version.bind. TXT CH", rcode: dns.RcodeRefused},
		{name: "ID not configured", q: "id.server. TXT CH", rcode: dns.RcodeRefused},
	})
}

// TestZoneNotModified: answering, with owners rewritten to the case asked,
// wildcards expanded, TTLs capped and replies packed, leaves the zone's
// records as they were.
func TestZoneNotModified(t *testing.T) {
	t.Parallel()
	z := dnstest.Zone(t, "example.", exampleZone)
	before := make([]string, len(z.Records))
	for i, r := range z.Records {
		before[i] = r.RR.String()
	}
	s := newServer(t, Config{}, z)
	for _, spec := range []string{
		"WWW.example. ANY", "Nx.Example. A", "HOST.DZ.example. A", "Host3.WILD.example. MX", "A.CW.example. A",
		"chain1.EXAMPLE. A", "HOST.Child.example. A", "www.example. MX", "CHILD.example. DS",
	} {
		for _, network := range []string{"udp", "tcp"} {
			dnstest.Exchange(t, s, dnstest.EDNS(ask(t, spec), 1232, true), network)
		}
	}
	for i, r := range z.Records {
		if got := r.RR.String(); got != before[i] {
			t.Errorf("record changed:\n was %s\n now %s", before[i], got)
		}
	}
}
