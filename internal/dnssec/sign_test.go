package dnssec

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// TestSignVerify signs the example zone with every algorithm rensa signs
// with, with NSEC and NSEC3, and checks that Verify finds nothing wrong.
func TestSignVerify(t *testing.T) {
	t.Parallel()
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.RSASHA256} {
		for _, mode := range []string{"nsec", "nsec3", "nsec3-optout"} {
			t.Run(dns.AlgorithmToString[alg]+"/"+mode, func(t *testing.T) {
				t.Parallel()
				z := parseZone(t, "example.test.", exampleZone)
				var p *NSEC3Params
				switch mode {
				case "nsec3":
					p = &NSEC3Params{}
				case "nsec3-optout":
					p = &NSEC3Params{OptOut: true, Salt: "aabbccdd", Iterations: 1}
				}
				signed := signTest(t, z, testKeys(t, z.Origin, alg, false), p)
				if ps := Verify(signed, testNow); len(ps) > 0 {
					t.Fatalf("Verify found problems:%s\nzone:\n%s", problemsText(ps), zoneText(signed))
				}
			})
		}
	}
}

// recordsOf returns the records of type t in z, as text without TTL and
// class: "owner rdata".
func recordsOf(z *zone.Zone, t uint16) []string {
	var out []string
	for _, rr := range CanonicalRecords(z) {
		if rr.Header().Rrtype == t {
			h := rr.Header()
			out = append(out, h.Name+" "+strings.TrimPrefix(rr.String(), h.String()))
		}
	}
	return out
}

// TestSignNSECChain pins the NSEC chain of the example zone: delegations
// are in it with NS (and DS) only, glue and empty non-terminals are not,
// the wildcard is, and the chain closes at the apex (RFC 4034 §4.1.2,
// RFC 4035 §2.3).
func TestSignNSECChain(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	signed := signTest(t, z, testKeys(t, z.Origin, dns.ED25519, false), nil)
	want := []string{
		"example.test. cname.example.test. NS SOA MX RRSIG NSEC DNSKEY",
		"cname.example.test. a.b.c.ent.example.test. CNAME RRSIG NSEC",
		"a.b.c.ent.example.test. mail.example.test. A RRSIG NSEC",
		"mail.example.test. ns1.example.test. A RRSIG NSEC",
		"ns1.example.test. ns2.example.test. A RRSIG NSEC",
		"ns2.example.test. secure.example.test. AAAA RRSIG NSEC",
		"secure.example.test. sub.example.test. NS DS RRSIG NSEC",
		"sub.example.test. deep.unsigned.example.test. NS RRSIG NSEC",
		"deep.unsigned.example.test. *.wild.example.test. NS RRSIG NSEC",
		"*.wild.example.test. www.example.test. TXT RRSIG NSEC",
		"www.example.test. example.test. A TXT AAAA RRSIG NSEC",
	}
	if got := recordsOf(signed, dns.TypeNSEC); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("NSEC chain:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, rr := range CanonicalRecords(signed) {
		h := rr.Header()
		switch {
		case h.Rrtype == dns.TypeNSEC && h.Ttl != 300:
			t.Errorf("NSEC TTL %d, want 300 = min(SOA TTL, MINIMUM) (RFC 9077)", h.Ttl)
		case h.Rrtype == dns.TypeDNSKEY && h.Ttl != 3600:
			t.Errorf("DNSKEY TTL %d, want the SOA's 3600", h.Ttl)
		case h.Rrtype == dns.TypeRRSIG:
			sig := rr.(*dns.RRSIG)
			if sig.Hdr.Name == "ns.sub.example.test." || sig.Hdr.Name == "ns.secure.example.test." {
				t.Errorf("glue is signed: %s", sig)
			}
			if (sig.Hdr.Name == "sub.example.test." || sig.Hdr.Name == "secure.example.test.") && sig.TypeCovered == dns.TypeNS {
				t.Errorf("delegation NS is signed: %s", sig)
			}
			if sig.Hdr.Name == "*.wild.example.test." && sig.Labels != 3 {
				t.Errorf("wildcard RRSIG labels %d, want 3 (RFC 4034 §3.1.3)", sig.Labels)
			}
		}
	}
}

// TestSignNSEC3Chain checks which names get NSEC3 records (empty
// non-terminals included; with opt-out, unsigned delegations and what
// leads only to them left out) and their type bitmaps (RFC 5155 §7.1).
func TestSignNSEC3Chain(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	keys := testKeys(t, z.Origin, dns.ED25519, false)
	bitmaps := map[string]string{
		"example.test.":               "NS SOA MX RRSIG DNSKEY NSEC3PARAM",
		"cname.example.test.":         "CNAME RRSIG",
		"ent.example.test.":           "",
		"c.ent.example.test.":         "",
		"b.c.ent.example.test.":       "",
		"a.b.c.ent.example.test.":     "A RRSIG",
		"mail.example.test.":          "A RRSIG",
		"ns1.example.test.":           "A RRSIG",
		"ns2.example.test.":           "AAAA RRSIG",
		"secure.example.test.":        "NS DS RRSIG",
		"sub.example.test.":           "NS",
		"unsigned.example.test.":      "",
		"deep.unsigned.example.test.": "NS",
		"wild.example.test.":          "",
		"*.wild.example.test.":        "TXT RRSIG",
		"www.example.test.":           "A TXT AAAA RRSIG",
	}
	optedOut := map[string]bool{"sub.example.test.": true, "unsigned.example.test.": true, "deep.unsigned.example.test.": true}
	for _, optOut := range []bool{false, true} {
		p := &NSEC3Params{OptOut: optOut}
		signed := signTest(t, z, keys, p)
		byHash := map[string]*dns.NSEC3{}
		for _, rr := range CanonicalRecords(signed) {
			if n, ok := rr.(*dns.NSEC3); ok {
				label, _, _ := strings.Cut(n.Hdr.Name, ".")
				byHash[label] = n
				if n.Iterations != 0 || n.Salt != "" || (n.Flags == 1) != optOut || n.Hdr.Ttl != 300 {
					t.Errorf("NSEC3 parameters: %s", n)
				}
			}
		}
		want := 0
		for name, types := range bitmaps {
			h, _ := NSEC3Hash(name, 0, "")
			n := byHash[h]
			if optOut && optedOut[name] {
				if n != nil {
					t.Errorf("opt-out: %s has an NSEC3 record: %s", name, n)
				}
				continue
			}
			want++
			if n == nil {
				t.Errorf("opt-out %v: no NSEC3 for %s", optOut, name)
				continue
			}
			if got := strings.TrimSuffix(typesString(n.TypeBitMap), "(none)"); got != types {
				t.Errorf("NSEC3 bitmap of %s = %q, want %q", name, got, types)
			}
		}
		if len(byHash) != want {
			t.Errorf("opt-out %v: %d NSEC3 records, want %d", optOut, len(byHash), want)
		}
		if got := recordsOf(signed, dns.TypeNSEC3PARAM); len(got) != 1 || got[0] != "example.test. 1 0 0 -" {
			t.Errorf("NSEC3PARAM %q, want flags 0, no iterations, no salt", got)
		}
	}
}

// TestSignTimes checks inception, expiration and jitter.
func TestSignTimes(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	keys := testKeys(t, z.Origin, dns.ED25519, false)
	signed, err := Sign(z, SignConfig{Keys: keys, Now: fixedNow, Rand: seeded(3), Validity: 10 * 24 * time.Hour, Jitter: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	exps := map[uint32]bool{}
	for _, rr := range CanonicalRecords(signed) {
		sig, ok := rr.(*dns.RRSIG)
		if !ok {
			continue
		}
		if want := uint32(testNow.Add(-time.Hour).Unix()); sig.Inception != want {
			t.Errorf("inception %d, want one hour before now (%d)", sig.Inception, want)
		}
		latest := testNow.Add(10 * 24 * time.Hour)
		if exp := time.Unix(int64(sig.Expiration), 0); exp.After(latest) || exp.Before(latest.Add(-2*time.Hour)) {
			t.Errorf("expiration %v outside [%v, %v]", exp, latest.Add(-2*time.Hour), latest)
		}
		exps[sig.Expiration] = true
	}
	if len(exps) < 10 {
		t.Errorf("only %d distinct expirations: no jitter", len(exps))
	}
	if ps := Verify(signed, testNow.Add(9*24*time.Hour)); len(ps) > 0 {
		t.Errorf("not valid 9 days later:%s", problemsText(ps))
	}
	if ps := Verify(signed, testNow.Add(-2*time.Hour)); len(ps) == 0 {
		t.Error("valid before the inception")
	}
	if ps := Verify(signed, testNow.Add(11*24*time.Hour)); len(ps) == 0 {
		t.Error("valid after the expiration")
	}
}

// TestSignDeterministic checks that Ed25519 signing with a fixed clock
// and a seeded source gives the same zone every time, on one worker or
// many, and that Sign leaves its input alone.
func TestSignDeterministic(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	before := zoneText(z)
	keys := testKeys(t, z.Origin, dns.ED25519, false)
	var texts []string
	for _, workers := range []int{1, 2, 7} {
		signed, err := Sign(z, SignConfig{Keys: keys, Now: fixedNow, Rand: seeded(11), Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, zoneText(signed))
	}
	if texts[0] != texts[1] || texts[1] != texts[2] {
		t.Error("the signed zone depends on the number of workers")
	}
	if zoneText(z) != before {
		t.Error("Sign changed its input zone")
	}
}

// TestSignResign re-signs a signed zone with other keys and NSEC3: the
// old DNSSEC records are gone, the new ones verify.
func TestSignResign(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	first := signTest(t, z, testKeys(t, z.Origin, dns.ED25519, false), nil)
	newKeys := testKeys(t, z.Origin, dns.ECDSAP256SHA256, true)
	second := signTest(t, first, newKeys, &NSEC3Params{})
	if ps := Verify(second, testNow); len(ps) > 0 {
		t.Fatalf("Verify:%s", problemsText(ps))
	}
	if n := len(recordsOf(second, dns.TypeDNSKEY)); n != 1 {
		t.Errorf("%d DNSKEYs after re-signing with one key, want 1", n)
	}
	if n := len(recordsOf(second, dns.TypeNSEC)); n != 0 {
		t.Errorf("%d NSEC records left after re-signing with NSEC3", n)
	}
	for _, rr := range recordsOf(second, dns.TypeRRSIG) {
		if !strings.Contains(rr, " 13 ") {
			t.Errorf("old signature left: %s", rr)
		}
	}
}

// TestSignCDS checks the CDS and CDNSKEY records of the KSK (RFC 7344),
// signed by the KSK.
func TestSignCDS(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	keys := testKeys(t, z.Origin, dns.ED25519, false)
	signed, err := Sign(z, SignConfig{Keys: keys, Now: fixedNow, AddCDS: true})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := keys[0].DS(dns.SHA256)
	cds := recordsOf(signed, dns.TypeCDS)
	if len(cds) != 1 || !strings.HasSuffix(cds[0], strings.TrimPrefix(ds.String(), ds.Hdr.String())) {
		t.Errorf("CDS %q, want the KSK's DS %s", cds, ds)
	}
	if n := len(recordsOf(signed, dns.TypeCDNSKEY)); n != 1 {
		t.Errorf("%d CDNSKEY records, want 1", n)
	}
	for _, s := range signed.Apex().Sigs[dns.TypeCDS] {
		if s.(*dns.RRSIG).KeyTag != keys[0].Tag() {
			t.Errorf("CDS signed by key %d, want the KSK %d", s.(*dns.RRSIG).KeyTag, keys[0].Tag())
		}
	}
	if ps := Verify(signed, testNow); len(ps) > 0 {
		t.Fatalf("Verify:%s", problemsText(ps))
	}
}

// TestSignOddZones covers a DNAME (names below it are occluded), an RRset
// with unequal TTLs (made equal to the lowest, RFC 2181 §5.2) and records
// outside the zone (dropped).
func TestSignOddZones(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", `$ORIGIN example.test.
@ 3600 SOA ns hostmaster 1 7200 3600 1209600 600
@ 3600 NS ns
ns 3600 A 192.0.2.1
ttl 100 TXT "one"
ttl 200 TXT "two"
dn 3600 DNAME elsewhere.test.
x.dn 3600 A 192.0.2.2
outside.test. 3600 A 192.0.2.3
`)
	signed := signTest(t, z, testKeys(t, z.Origin, dns.ED25519, true), nil)
	if ps := Verify(signed, testNow); len(ps) > 0 {
		t.Fatalf("Verify:%s", problemsText(ps))
	}
	for _, rr := range signed.Node("ttl.example.test.").RRsets[dns.TypeTXT] {
		if rr.Header().Ttl != 100 {
			t.Errorf("TTL %d, want the RRset's lowest, 100", rr.Header().Ttl)
		}
	}
	if n := signed.Node("x.dn.example.test."); n == nil || len(n.Sigs) > 0 || n.Has(dns.TypeNSEC) {
		t.Errorf("the name below the DNAME is signed or in the chain")
	}
	if signed.Node("outside.test.") != nil {
		t.Error("a record outside the zone was kept")
	}
	for _, r := range signed.Records {
		if r.RR.Header().Name == "outside.test." {
			t.Error("a record outside the zone was kept")
		}
	}
	// The NSEC TTL follows a SOA MINIMUM larger than the SOA TTL.
	if got := signed.Apex().RRsets[dns.TypeNSEC][0].Header().Ttl; got != 600 {
		t.Errorf("NSEC TTL %d, want min(3600, 600)", got)
	}
}

// TestSignConfigErrors checks that Sign refuses bad configurations.
func TestSignConfigErrors(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	keys := testKeys(t, z.Origin, dns.ED25519, false)
	for _, c := range []struct {
		name string
		cfg  SignConfig
		want string
	}{
		{"short validity", SignConfig{Validity: time.Minute}, "validity"},
		{"long validity", SignConfig{Validity: 400 * 24 * time.Hour}, "validity"},
		{"big jitter", SignConfig{Validity: 4 * 24 * time.Hour, Jitter: 2 * 24 * time.Hour}, "jitter"},
		{"many iterations", SignConfig{NSEC3: &NSEC3Params{Iterations: 51}}, "iterations"},
		{"bad salt", SignConfig{NSEC3: &NSEC3Params{Salt: "xyz"}}, "salt"},
	} {
		c.cfg.Keys = keys
		if _, err := Sign(z, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one about %s", c.name, err, c.want)
		}
	}
	noSOA := parseZone(t, "example.test.", "www.example.test. 300 A 192.0.2.1\n")
	if _, err := Sign(noSOA, SignConfig{Keys: keys}); err == nil || !strings.Contains(err.Error(), "SOA") {
		t.Errorf("zone without SOA: error %v", err)
	}
}
