package testbed

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/transport"
)

// signedAt is the injected signing time of the signed testbed tests.
var signedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// askDO sends a non-recursive query with DO to server (an ip:53 address).
func askDO(t *testing.T, tb *Testbed, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	m.SetEdns0(4096, true)
	d := transport.Do53{Addr: server, Dial: tb.Dial}
	r, err := d.Exchange(context.Background(), m)
	if err != nil {
		t.Fatalf("%s %s to %s: %v", name, dns.TypeToString[qtype], server, err)
	}
	return r
}

// TestSignedChainOfTrust starts the default hierarchy signed (NSEC3 for
// example.test., other.test. left unsigned) and walks every link of the
// chain: the trust anchor matches the root's KSK; each zone's DNSKEY
// RRset is signed by a key whose DS its parent serves, signed; the
// unsigned zone's delegation comes with a proof that it has no DS.
func TestSignedChainOfTrust(t *testing.T) {
	t.Parallel()
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], 53)
	specs := Default()
	for i := range specs {
		switch specs[i].Origin {
		case "example.test.":
			specs[i].NSEC3 = true
		case "other.test.":
			specs[i].Unsigned = true
		}
	}
	tb, err := Start(context.Background(), Config{Zones: specs, Port: PortFree, Signed: true,
		Now: func() time.Time { return signedAt }, Rand: rand.NewChaCha8(seed)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })

	anchor := map[uint16]dns.RR{}
	for _, line := range strings.Split(tb.TrustAnchor(), "\n") {
		if rr, err := dns.NewRR(line); err == nil && rr != nil {
			anchor[rr.Header().Rrtype] = rr
		}
	}
	if anchor[dns.TypeDS] == nil || anchor[dns.TypeDNSKEY] == nil {
		t.Fatalf("trust anchor lacks DS or DNSKEY:\n%s", tb.TrustAnchor())
	}
	path := filepath.Join(t.TempDir(), "root.key")
	if err := tb.WriteTrustAnchor(path); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != tb.TrustAnchor() {
		t.Errorf("WriteTrustAnchor wrote %q", data)
	}

	links := []struct{ origin, server, parentServer string }{
		{".", "127.53.0.1:53", ""},
		{"test.", "127.53.1.1:53", "127.53.0.1:53"},
		{"example.", "127.53.1.3:53", "127.53.0.1:53"},
		{"example.test.", "127.53.2.1:53", "127.53.1.1:53"},
		{"sub.example.test.", "127.53.2.6:53", "127.53.2.1:53"},
		{"glueless.test.", "127.53.2.5:53", "127.53.1.2:53"},
		{"hosting.example.", "127.53.2.4:53", "127.53.1.3:53"},
	}
	for _, l := range links {
		keys := askDO(t, tb, l.server, l.origin, dns.TypeDNSKEY)
		var dnskeys []*dns.DNSKEY
		var set []dns.RR
		var sigs []*dns.RRSIG
		for _, rr := range keys.Answer {
			switch r := rr.(type) {
			case *dns.DNSKEY:
				dnskeys, set = append(dnskeys, r), append(set, r)
			case *dns.RRSIG:
				sigs = append(sigs, r)
			}
		}
		if err := dnssec.VerifyRRset(set, sigs, dnskeys, signedAt); err != nil {
			t.Errorf("%s DNSKEY: %v", l.origin, err)
		}
		var ds *dns.DS
		if l.parentServer == "" {
			ds = anchor[dns.TypeDS].(*dns.DS)
		} else {
			r := askDO(t, tb, l.parentServer, l.origin, dns.TypeDS)
			for _, rr := range r.Answer {
				if d, ok := rr.(*dns.DS); ok {
					ds = d
				}
			}
			if ds == nil || !hasType(r.Answer, dns.TypeRRSIG) {
				t.Errorf("%s: the parent serves no signed DS:\n%v", l.origin, r)
				continue
			}
		}
		matched := false
		for _, k := range dnskeys {
			if want := k.ToDS(dns.SHA256); want != nil && strings.EqualFold(want.Digest, ds.Digest) && k.Flags&dns.SEP != 0 {
				matched = true
			}
		}
		if !matched {
			t.Errorf("%s: DS %v matches no KSK", l.origin, ds)
		}
	}

	// other.test. is unsigned: the referral proves there is no DS.
	r := askDO(t, tb, "127.53.1.1:53", "www.other.test.", dns.TypeA)
	if !hasType(r.Ns, dns.TypeNSEC) || hasType(r.Ns, dns.TypeDS) {
		t.Errorf("referral to the unsigned other.test.: want an NSEC and no DS:\n%v", r)
	}
	// example.test. denies with NSEC3.
	r = askDO(t, tb, "127.53.2.1:53", "nothere.example.test.", dns.TypeA)
	if r.Rcode != dns.RcodeNameError || !hasType(r.Ns, dns.TypeNSEC3) {
		t.Errorf("NXDOMAIN in example.test.: want NSEC3 records:\n%v", r)
	}
}

// TestUnsignedTestbedHasNoAnchor checks the default: nothing signed.
func TestUnsignedTestbedHasNoAnchor(t *testing.T) {
	t.Parallel()
	tb := startFree(t, Default())
	if tb.TrustAnchor() != "" || tb.WriteTrustAnchor(filepath.Join(t.TempDir(), "x")) == nil {
		t.Error("an unsigned testbed has a trust anchor")
	}
	if r := askDO(t, tb, "127.53.0.1:53", ".", dns.TypeSOA); hasType(r.Answer, dns.TypeRRSIG) {
		t.Error("an unsigned testbed serves signatures")
	}
}

func hasType(rrs []dns.RR, t uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}
