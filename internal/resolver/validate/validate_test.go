package validate

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

// TestProofs validates every kind of answer in an NSEC zone, an NSEC3
// zone and an NSEC3 opt-out zone.
func TestProofs(t *testing.T) {
	cases := []struct {
		name  string
		qtype uint16
		rcode int
		want  Security
	}{
		{"www.test.", dns.TypeA, dns.RcodeSuccess, Secure},               // positive
		{"nope.test.", dns.TypeA, dns.RcodeNameError, Secure},            // NXDOMAIN
		{"deep.nope.test.", dns.TypeA, dns.RcodeNameError, Secure},       // NXDOMAIN, two labels
		{"www.test.", dns.TypeMX, dns.RcodeSuccess, Secure},              // NODATA
		{"b.ent.test.", dns.TypeA, dns.RcodeSuccess, Secure},             // empty non-terminal
		{"x.wild.test.", dns.TypeA, dns.RcodeSuccess, Secure},            // wildcard answer
		{"x.y.wild.test.", dns.TypeA, dns.RcodeSuccess, Secure},          // wildcard, deeper
		{"x.wild.test.", dns.TypeMX, dns.RcodeSuccess, Secure},           // wildcard NODATA
		{"alias.test.", dns.TypeA, dns.RcodeSuccess, Secure},             // CNAME
		{"far.test.", dns.TypeA, dns.RcodeSuccess, Secure},               // CNAME into a child zone
		{"www.legacy.test.", dns.TypeA, dns.RcodeSuccess, Secure},        // DNAME
		{"www.child.test.", dns.TypeA, dns.RcodeSuccess, Secure},         // secure delegation
		{"nope.child.test.", dns.TypeA, dns.RcodeNameError, Secure},      // NXDOMAIN below it
		{"www.unsigned.test.", dns.TypeA, dns.RcodeSuccess, Insecure},    // insecure delegation
		{"nope.unsigned.test.", dns.TypeA, dns.RcodeNameError, Insecure}, // unsigned NXDOMAIN
		{"www.test.", dns.TypeANY, dns.RcodeSuccess, Secure},             // ANY (RFC 8482 minimal)
		{"child.test.", dns.TypeDS, dns.RcodeSuccess, Secure},            // DS, from the parent
		{"unsigned.test.", dns.TypeDS, dns.RcodeSuccess, Secure},         // DS proven absent
		{"child.test.", dns.TypeDNSKEY, dns.RcodeSuccess, Secure},        // DNSKEY
	}
	for _, mode := range []struct {
		name string
		p    *dnssec.NSEC3Params
	}{
		{"nsec", nil},
		{"nsec3", &dnssec.NSEC3Params{}},
		{"nsec3-salt", &dnssec.NSEC3Params{Iterations: 5, Salt: "cafe"}},
		{"nsec3-optout", &dnssec.NSEC3Params{OptOut: true}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			w := standardWorld(t, mode.p)
			for _, c := range cases {
				vd := w.validate(c.name, c.qtype)
				want := c.want
				if mode.p != nil && mode.p.OptOut && c.rcode == dns.RcodeNameError && c.name != "nope.child.test." {
					want = Insecure // the next closer name lies in an opt-out span (RFC 5155 §9.2)
				}
				if mode.p != nil && mode.p.OptOut && strings.Contains(c.name, ".wild.") {
					// The next closer name of the wildcard answer or
					// wildcard NODATA lies in an opt-out span (§9.2).
					want = Insecure
				}
				if mode.p != nil && mode.p.OptOut && c.name == "unsigned.test." {
					want = Insecure // opted out of the chain: no proof it is a delegation
				}
				if vd.Security != want || vd.Security == Secure && vd.Rcode != c.rcode {
					t.Errorf("%s %s: %v rcode %s (EDE %v), want %v %s", c.name, dns.TypeToString[c.qtype],
						vd.Security, dns.RcodeToString[vd.Rcode], vd.EDE, want, dns.RcodeToString[c.rcode])
				}
				if vd.Work.Verifications > maxVerifyPerQuery || vd.Work.Hashes > maxHashesPerQuery {
					t.Errorf("%s: work %+v beyond the bounds", c.name, vd.Work)
				}
			}
		})
	}
}
