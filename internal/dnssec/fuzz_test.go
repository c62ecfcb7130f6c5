package dnssec

import (
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// fuzzZones are the example zone signed once with NSEC and once with
// NSEC3, with Ed25519 keys from a seeded source and a fixed clock, so
// that every run mutates the same bytes.
var fuzzZones = sync.OnceValues(func() (*zone.Zone, *zone.Zone) {
	z, err := parseZoneText("example.test.", exampleZone)
	if err != nil {
		panic(err)
	}
	keys, err := makeTestKeys(z.Origin, dns.ED25519, false)
	if err != nil {
		panic(err)
	}
	sign := func(p *NSEC3Params) *zone.Zone {
		s, err := Sign(z, SignConfig{Keys: keys, Now: fixedNow, Rand: seeded(7), NSEC3: p})
		if err != nil {
			panic(err)
		}
		return s
	}
	return sign(nil), sign(&NSEC3Params{OptOut: true})
})

// protected returns the records of a signed zone that DNSSEC covers:
// everything but delegation NS RRsets and glue, which are unsigned by
// design (RFC 4035 §2.2).
func protected(z *zone.Zone) []dns.RR {
	var out []dns.RR
	for _, rr := range CanonicalRecords(z) {
		name := rr.Header().Name
		switch classify(z, name) {
		case kindOccluded:
			continue
		case kindCut:
			t := rr.Header().Rrtype
			if sig, ok := rr.(*dns.RRSIG); ok {
				t = sig.TypeCovered
			}
			if t != dns.TypeDS && t != dns.TypeNSEC {
				continue
			}
		}
		out = append(out, rr)
	}
	return out
}

// mutate packs rr, XORs bytes of its owner, TTL or RDATA (patch is pairs
// of offset and mask; the offsets count only those bytes), and unpacks
// it. It returns nil when the result does not unpack.
func mutate(rr dns.RR, patch []byte) dns.RR {
	rr = dns.Copy(rr) // PackRR sets the header's RDATA length
	buf := make([]byte, dns.Len(rr)+64)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	buf = buf[:end]
	_, ownerEnd, err := dns.UnpackDomainName(buf, 0)
	if err != nil {
		return nil
	}
	var mutable []int
	for i := range end {
		switch {
		case i < ownerEnd, i >= ownerEnd+4 && i < ownerEnd+8, i >= ownerEnd+10:
			mutable = append(mutable, i)
		}
	}
	for i := 0; i+1 < len(patch) && i < 16; i += 2 {
		buf[mutable[int(patch[i])%len(mutable)]] ^= patch[i+1]
	}
	out, _, err := dns.UnpackRR(buf, 0)
	if err != nil || out == nil {
		return nil
	}
	return out
}

// FuzzVerifyMutated changes bytes of one signed record of a signed zone
// and checks that Verify reports a problem whenever the record really
// changed (STYLE rule 13: a mutated signed answer is never valid).
// Changes that only alter the case of names are not changes in DNS.
func FuzzVerifyMutated(f *testing.F) {
	f.Add(false, uint16(0), []byte{5, 1})
	f.Add(false, uint16(3), []byte{40, 0x80})
	f.Add(true, uint16(10), []byte{1, 0x20, 9, 3})
	f.Add(true, uint16(1), []byte{200, 1})
	f.Add(false, uint16(17), []byte{0, 0x40, 2, 2})
	f.Fuzz(func(t *testing.T, nsec3 bool, index uint16, patch []byte) {
		nsecZone, nsec3Zone := fuzzZones()
		z := nsecZone
		if nsec3 {
			z = nsec3Zone
		}
		targets := protected(z)
		orig := targets[int(index)%len(targets)]
		mut := mutate(orig, patch)
		if mut == nil || strings.EqualFold(mut.String(), orig.String()) {
			return
		}
		records := make([]zone.Record, 0, len(z.Records))
		for _, r := range z.Records {
			if r.RR == orig {
				r.RR = mut
			}
			records = append(records, r)
		}
		mutated := zone.New(z.Origin, records)
		if ps := Verify(mutated, testNow); len(ps) == 0 {
			t.Fatalf("Verify finds no problem after\n  %s\nbecame\n  %s", orig, mut)
		}
	})
}

// TestVerifyUnmutated pins the base of the fuzz target: both fuzz zones
// verify cleanly.
func TestVerifyUnmutated(t *testing.T) {
	t.Parallel()
	a, b := fuzzZones()
	for _, z := range []*zone.Zone{a, b} {
		if ps := Verify(z, testNow); len(ps) > 0 {
			t.Fatalf("Verify:%s", problemsText(ps))
		}
		if len(protected(z)) < 20 {
			t.Fatalf("only %d protected records", len(protected(z)))
		}
	}
}
