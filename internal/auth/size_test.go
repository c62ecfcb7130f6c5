package auth

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/zone"
)

// bigZone holds big.test. with about 2200 octets of TXT records and
// mid.test. with about 600: too big for 512 octets, small enough for 1232.
func bigZone(t testing.TB) *zone.Zone {
	var b strings.Builder
	b.WriteString("@ SOA ns.test. admin.test. 1 7200 3600 1209600 300\n@ NS ns.test.\n")
	for i := range 30 {
		fmt.Fprintf(&b, "big TXT \"%02d %s\"\n", i, strings.Repeat("x", 57))
		if i < 8 {
			fmt.Fprintf(&b, "mid TXT \"%02d %s\"\n", i, strings.Repeat("y", 57))
		}
	}
	return dnstest.Zone(t, "test.", b.String())
}

func TestTruncation(t *testing.T) {
	t.Parallel()
	z := bigZone(t)
	def := newServer(t, Config{}, z)
	large := newServer(t, Config{MaxUDPSize: 4096}, z)
	for _, tt := range []struct {
		name  string
		s     *Server
		q     string
		edns  uint16 // 0: no EDNS
		tcp   bool
		limit int
		tc    bool
	}{
		{"mid without EDNS", def, "mid.test. TXT", 0, false, 512, true},
		{"mid with EDNS 1232", def, "mid.test. TXT", 1232, false, 1232, false},
		{"mid with EDNS below 512 is 512", def, "mid.test. TXT", 100, false, 512, true},
		{"big with EDNS 4096 capped at 1232", def, "big.test. TXT", 4096, false, 1232, true},
		{"big over TCP", def, "big.test. TXT", 0, true, maxTCPSize, false},
		{"big with MaxUDPSize 4096", large, "big.test. TXT", 4096, false, 4096, false},
		{"big with MaxUDPSize 4096, client 1400", large, "big.test. TXT", 1400, false, 1400, true},
		{"ANY over TCP", def, "big.test. ANY", 1232, true, maxTCPSize, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := ask(t, tt.q)
			if tt.edns != 0 {
				dnstest.EDNS(m, tt.edns, true)
			}
			network := "udp"
			if tt.tcp {
				network = "tcp"
			}
			rec := dnstest.NewRecorder(network)
			tt.s.ServeDNS(rec, m)
			got := rec.Msg
			if got == nil {
				t.Fatal("no reply")
			}
			if len(rec.Wire) > tt.limit {
				t.Errorf("reply is %d octets, limit %d", len(rec.Wire), tt.limit)
			}
			checkHeader(t, m, got, dns.RcodeSuccess, true, tt.tc)
			if tt.tc && len(got.Answer)+len(got.Ns) != 0 {
				t.Errorf("truncated reply carries %d answer and %d authority records", len(got.Answer), len(got.Ns))
			}
			if !tt.tc && len(got.Answer) == 0 {
				t.Errorf("full reply has no answer")
			}
			if (dnstest.OPT(got) != nil) != (tt.edns != 0) {
				t.Errorf("OPT %v in reply, query EDNS %d", dnstest.OPT(got), tt.edns)
			}
		})
	}
}

// referralZone delegates a. to two in-domain servers, with eight sibling
// servers below sib.; and b. to thirteen in-domain servers.
func referralZone(t testing.TB) *zone.Zone {
	var b strings.Builder
	b.WriteString("@ SOA ns.ref.test. admin.ref.test. 1 7200 3600 1209600 300\n@ NS ns.ref.test.\n")
	b.WriteString("a NS ns1.a\na NS ns2.a\nns1.a A 192.0.2.1\nns1.a AAAA 2001:db8::1\nns2.a A 192.0.2.2\nns2.a AAAA 2001:db8::2\n")
	b.WriteString("sib NS ns1.a\n")
	for i := range 8 {
		fmt.Fprintf(&b, "a NS s%d-%s.sib\ns%d-%s.sib A 192.0.2.%d\ns%[1]d-%[2]s.sib AAAA 2001:db8::%[5]d\n",
			i, strings.Repeat("s", 17), i, strings.Repeat("s", 17), 10+i)
	}
	for i := range 13 {
		name := fmt.Sprintf("n%02d-%s.b", i, strings.Repeat("n", 26))
		fmt.Fprintf(&b, "b NS %s\n%s A 192.0.2.%d\n%s AAAA 2001:db8::%d\n", name, name, 100+i, name, 100+i)
	}
	return dnstest.Zone(t, "ref.test.", b.String())
}

// TestReferralTruncation checks RFC 9471: glue for name servers outside
// the delegated zone is dropped to fit; glue for those inside it is
// required, and a referral that cannot carry it is truncated.
func TestReferralTruncation(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, referralZone(t))
	required := []string{
		"ns1.a.ref.test. 3600 IN A 192.0.2.1", "ns1.a.ref.test. 3600 IN AAAA 2001:db8::1",
		"ns2.a.ref.test. 3600 IN A 192.0.2.2", "ns2.a.ref.test. 3600 IN AAAA 2001:db8::2",
	}
	for _, tt := range []struct {
		name      string
		q         string
		edns      uint16
		tcp       bool
		tc        bool
		wantExtra int // additional records, OPT excluded; -1: more than the required, fewer than all
	}{
		{"sibling glue dropped, no TC", "host.a.ref.test. A", 0, false, false, -1},
		{"all glue over TCP", "host.a.ref.test. A", 0, true, false, 4 + 16},
		{"all glue with EDNS 1232", "host.a.ref.test. A", 1232, false, false, 4 + 16},
		{"required glue does not fit: TC", "host.b.ref.test. A", 0, false, true, 0},
		{"required glue fits with EDNS 1232", "host.b.ref.test. A", 1232, false, false, 26},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := ask(t, tt.q)
			if tt.edns != 0 {
				dnstest.EDNS(m, tt.edns, false)
			}
			network := "udp"
			if tt.tcp {
				network = "tcp"
			}
			got := dnstest.Exchange(t, s, m, network)
			checkHeader(t, m, got, dns.RcodeSuccess, false, tt.tc)
			var extra []string
			for _, rr := range got.Extra {
				if rr.Header().Rrtype != dns.TypeOPT {
					extra = append(extra, strings.ReplaceAll(rr.String(), "\t", " "))
				}
			}
			switch {
			case tt.wantExtra >= 0 && len(extra) != tt.wantExtra:
				t.Errorf("%d additional records, want %d:\n%s", len(extra), tt.wantExtra, strings.Join(extra, "\n"))
			case tt.wantExtra < 0 && (len(extra) <= len(required) || len(extra) >= len(required)+16):
				t.Errorf("%d additional records, want some but not all sibling glue", len(extra))
			}
			if tt.tc || !strings.HasPrefix(tt.q, "host.a.") {
				return
			}
			if len(got.Ns) != 10 {
				t.Errorf("%d NS records, want 10", len(got.Ns))
			}
			for i, want := range required {
				if i >= len(extra) || extra[i] != want {
					t.Errorf("additional[%d] is not required glue %q:\n%s", i, want, strings.Join(extra, "\n"))
					break
				}
			}
		})
	}
}
