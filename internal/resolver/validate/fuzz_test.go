package validate

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzValidateMutated mutates the wire form of signed replies (answers,
// denials, wildcards, DNSKEY and DS RRsets) and checks that a mutation is
// never Secure with other data than the original: any change the
// signatures cover makes the answer Bogus (or, at most, Insecure or
// Indeterminate); changes to what they do not cover (TTLs below the
// original, the header, glue) may stay Secure with the same data.
func FuzzValidateMutated(f *testing.F) {
	w := standardWorld(f, nil)
	questions := []dns.Question{
		{Name: "www.test.", Qtype: dns.TypeA},
		{Name: "nope.test.", Qtype: dns.TypeA},
		{Name: "www.test.", Qtype: dns.TypeMX},
		{Name: "x.wild.test.", Qtype: dns.TypeA},
		{Name: "www.child.test.", Qtype: dns.TypeA},
		{Name: "far.test.", Qtype: dns.TypeA},
	}
	want := make([]string, len(questions))
	for i, q := range questions {
		vd := w.validate(q.Name, q.Qtype)
		if vd.Security != Secure {
			f.Fatalf("%s: %v before mutation", q.Name, vd.Security)
		}
		want[i] = summary(vd)
	}
	f.Add(uint8(0), uint8(0), uint16(40), uint8(1))
	f.Add(uint8(1), uint8(2), uint16(100), uint8(0x80))
	f.Add(uint8(3), uint8(1), uint16(60), uint8(4))
	f.Add(uint8(4), uint8(3), uint16(30), uint8(0xff))
	f.Fuzz(func(t *testing.T, qi, target uint8, off uint16, flip uint8) {
		if flip == 0 {
			return
		}
		q := questions[int(qi)%len(questions)]
		w.t = t
		// Mutate the reply to one of the fetches the validation makes:
		// the answer, or a DS or DNSKEY on the way.
		n, pickN := 0, int(target)%6
		w.mutate = func(name string, qtype uint16, m *dns.Msg) {
			if n++; n-1 != pickN {
				return
			}
			wire, err := m.Pack()
			if err != nil {
				return
			}
			wire[int(off)%len(wire)] ^= flip
			var mm dns.Msg
			if mm.Unpack(wire) == nil {
				*m = mm
			}
		}
		defer func() { w.mutate = nil }()
		vd := w.validate(q.Name, q.Qtype)
		if vd.Security == Secure && summary(vd) != want[int(qi)%len(questions)] {
			t.Fatalf("%s %s: mutated reply validated Secure with other data:\n%s\nwant\n%s",
				q.Name, dns.TypeToString[q.Qtype], summary(vd), want[int(qi)%len(questions)])
		}
	})
}

// summary is a verdict's rcode and records, TTLs left out, names in lower
// case, sorted.
func summary(vd Verdict) string {
	var lines []string
	for _, rr := range append(append([]dns.RR(nil), vd.Answer...), vd.Authority...) {
		rr = dns.Copy(rr)
		rr.Header().Ttl = 0
		lines = append(lines, strings.ToLower(rr.String()))
	}
	slices.Sort(lines)
	return dns.RcodeToString[vd.Rcode] + "\n" + strings.Join(lines, "\n")
}
