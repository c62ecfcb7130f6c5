package resolver

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// TestBuildQueryAsSetQuestion checks that buildQuery's one-allocation
// message packs to the bytes of the message dns.Msg's SetQuestion and
// SetEdns0 make, RD clear, with the server's cookie (ID aside, which
// the exchange draws): with EDNS, with DO when validating, and without
// EDNS for a server that mishandles it.
func TestBuildQueryAsSetQuestion(t *testing.T) {
	t.Parallel()
	server := netip.MustParseAddr("127.53.2.1")
	for _, tc := range []struct {
		name             string
		validate, noEDNS bool
	}{{"EDNS", false, false}, {"DO", true, false}, {"no EDNS", false, true}} {
		r := newFakeResolver(t, newFakeWorld(t, ""), Config{No0x20: true})
		if tc.validate {
			v, err := validate.New(validate.Config{}) // the IANA root anchors: never asked here
			if err != nil {
				t.Fatal(err)
			}
			r.cfg.Validator = v
		}
		if tc.noEDNS {
			r.infra.SetNoEDNS(server)
		}
		q := r.newQuery(&budget{active: map[qkey]bool{}}, "www.example.test.", dns.TypeAAAA, dns.ClassINET, 0)
		q.server, q.noMin = server, true
		got, _, _ := q.buildQuery()

		want := new(dns.Msg)
		want.SetQuestion("www.example.test.", dns.TypeAAAA)
		want.RecursionDesired = false
		if !tc.noEDNS {
			want.SetEdns0(udpSize, tc.validate)
			r.cookies.Prepare(want, server)
		}
		got.Id, want.Id = 0, 0
		gw, err1 := got.Pack()
		ww, err2 := want.Pack()
		if err1 != nil || err2 != nil || !bytes.Equal(gw, ww) {
			t.Errorf("%s: buildQuery packs to %x (%v), SetQuestion and SetEdns0 to %x (%v)", tc.name, gw, err1, ww, err2)
		}
	}
}
