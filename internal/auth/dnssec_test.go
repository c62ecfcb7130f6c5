package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/dnstest"
)

// bigTXT makes an RRset too big for 1232 octets once signed.
var bigTXT = func() string {
	var b strings.Builder
	for i := range 8 {
		fmt.Fprintf(&b, "big TXT \"%d %s\"\n", i, strings.Repeat("x", 200))
	}
	return b.String()
}()

// signedServer serves exampleZone (plus bigTXT) signed with NSEC, or with
// NSEC3 opt-out when nsec3 is set.
func signedServer(t *testing.T, nsec3 bool) (*Server, []*dns.DNSKEY) {
	t.Helper()
	cfg := dnssec.SignConfig{Keys: testKeys(t, "example.", 11), Now: func() time.Time { return signingStart }, Rand: seeded(1)}
	if nsec3 {
		cfg.NSEC3 = &dnssec.NSEC3Params{OptOut: true}
	}
	z, err := dnssec.Sign(dnstest.Zone(t, "example.", exampleZone+bigTXT), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var keys []*dns.DNSKEY
	for _, rr := range z.Apex().RRsets[dns.TypeDNSKEY] {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	return newServer(t, Config{}, z), keys
}

// TestDNSSECRecords checks which DNSSEC records go with each kind of
// answer, with and without DO, for NSEC and NSEC3 zones, and that every
// RRset of the answer and authority sections carries a valid signature
// (unless listed, the authority RRSIGs are counted by that check only).
func TestDNSSECRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q    string
		do   bool
		want map[string]int // "section TYPE" -> count; NSECx is NSEC or NSEC3
	}{
		{"www.example. A", false, map[string]int{"an A": 1}},
		{"www.example. A", true, map[string]int{"an A": 1, "an RRSIG": 1}},
		{"nothere.example. A", false, map[string]int{"ns SOA": 1}},
		{"nothere.example. A", true, map[string]int{"ns SOA": 1, "ns RRSIG": -1, "ns NSECx": -1}},
		{"www.example. MX", true, map[string]int{"ns SOA": 1, "ns NSECx": 1}},
		{"a.ent.example. MX", true, map[string]int{"ns SOA": 1, "ns NSECx": 1}},
		{"ent.example. A", true, map[string]int{"ns SOA": 1, "ns NSECx": 1}},
		{"x.wild.example. TXT", true, map[string]int{"an TXT": 1, "an RRSIG": 1, "ns NSECx": 1}},
		{"x.wild.example. A", true, map[string]int{"ns SOA": 1, "ns NSECx": -1}},
		{"chain1.example. A", true, map[string]int{"an CNAME": 3, "an A": 1, "an RRSIG": 4}},
		{"x.cw.example. A", true, map[string]int{"an CNAME": 1, "an A": 1, "an RRSIG": 2, "ns NSECx": 1}},
		{"host.child.example. A", true, map[string]int{"ns NS": 3, "ns DS": 1, "ns RRSIG": 1}},
		{"host.child.example. A", false, map[string]int{"ns NS": 3}},
		{"host.nods.example. A", true, map[string]int{"ns NS": 1, "ns NSECx": -1}},
		{"child.example. DS", true, map[string]int{"an DS": 1, "an RRSIG": 1}},
		{"nods.example. DS", true, map[string]int{"ns SOA": 1, "ns NSECx": -1}},
		{"example. DNSKEY", true, map[string]int{"an DNSKEY": 2, "an RRSIG": 1}},
	}
	for _, nsec3 := range []bool{false, true} {
		s, keys := signedServer(t, nsec3)
		for _, tt := range tests {
			name := tt.q
			if tt.do {
				name += " DO"
			}
			if nsec3 {
				name = "NSEC3/" + name
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				q := dnstest.EDNS(ask(t, tt.q), 4096, tt.do)
				got := s.Answer(q, "tcp")
				counts := map[string]int{}
				for _, sec := range []struct {
					name string
					rrs  []dns.RR
				}{{"an", got.Answer}, {"ns", got.Ns}, {"ad", got.Extra}} {
					for _, rr := range sec.rrs {
						typ := dns.TypeToString[rr.Header().Rrtype]
						if typ == "NSEC" || typ == "NSEC3" {
							typ = "NSECx"
						}
						counts[sec.name+" "+typ]++
					}
				}
				delete(counts, "ad OPT")
				delete(counts, "ad A")
				delete(counts, "ad AAAA")
				if _, listed := tt.want["ns RRSIG"]; tt.do && !listed {
					delete(counts, "ns RRSIG") // checked by verifySections
				}
				for k, n := range tt.want {
					if n == -1 && counts[k] > 0 || n >= 0 && counts[k] == n {
						delete(counts, k)
						continue
					}
					t.Errorf("%d × %s, want %d", counts[k], k, n)
					delete(counts, k)
				}
				for k, n := range counts {
					t.Errorf("unexpected %d × %s", n, k)
				}
				if tt.do {
					verifySections(t, got, keys)
				}
			})
		}
	}
}

// verifySections checks that each RRset of the answer and authority
// sections but delegation NS RRsets has a signature valid under keys.
func verifySections(t *testing.T, m *dns.Msg, keys []*dns.DNSKEY) {
	t.Helper()
	for _, sec := range [][]dns.RR{m.Answer, m.Ns} {
		sets := map[[2]string][]dns.RR{}
		sigs := map[[2]string][]*dns.RRSIG{}
		for _, rr := range sec {
			if sig, ok := rr.(*dns.RRSIG); ok {
				k := [2]string{strings.ToLower(sig.Hdr.Name), dns.TypeToString[sig.TypeCovered]}
				sigs[k] = append(sigs[k], sig)
				continue
			}
			k := [2]string{strings.ToLower(rr.Header().Name), dns.TypeToString[rr.Header().Rrtype]}
			sets[k] = append(sets[k], rr)
		}
		for k, rrs := range sets {
			if k[1] == "NS" && !m.Authoritative {
				continue // delegation NS records are not signed
			}
			if err := dnssec.VerifyRRset(rrs, sigs[k], keys, signingStart); err != nil {
				t.Errorf("%s %s: %v", k[0], k[1], err)
			}
		}
	}
}

// TestDNSSECTruncation checks that a signed answer too big for UDP is
// truncated there and whole over TCP.
func TestDNSSECTruncation(t *testing.T) {
	t.Parallel()
	s, keys := signedServer(t, false)
	q := dnstest.EDNS(ask(t, "big.example. TXT"), 1232, true)
	udp := s.Answer(q, "udp")
	if !udp.Truncated || len(udp.Answer) != 0 {
		t.Errorf("UDP: TC=%v with %d answers, want TC=1 and none", udp.Truncated, len(udp.Answer))
	}
	tcp := s.Answer(q, "tcp")
	if tcp.Truncated || len(tcp.Answer) != 9 {
		t.Errorf("TCP: TC=%v with %d answers, want TC=0 and 8 TXT + 1 RRSIG", tcp.Truncated, len(tcp.Answer))
	}
	verifySections(t, tcp, keys)
	// Without DO, no signature.
	plain := s.Answer(dnstest.EDNS(ask(t, "big.example. TXT"), 4096, false), "tcp")
	if plain.Truncated || hasType(plain.Answer, dns.TypeRRSIG) {
		t.Errorf("no DO: TC=%v, RRSIG present %v", plain.Truncated, hasType(plain.Answer, dns.TypeRRSIG))
	}
}
