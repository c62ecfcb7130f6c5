package validate

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

// These tests pin validator behaviours that replaying Unbound's and
// Deckard's scenarios (package resolver, replay_test.go) showed wrong,
// each outside the replay.

// TestNSEC3NoDataInOptOutSpan: a NODATA whose name has no NSEC3 and no
// wildcard, only a closest encloser proof whose next closer name lies in
// an opt-out span, is Insecure (the span may hide an unsigned delegation
// holding the name: Unbound's nodata case 5, deckard val_nsec3_optout_ad
// and val_nsec3_b5_wcnodata_nowc); the same reply without opt-out is
// Bogus.
func TestNSEC3NoDataInOptOutSpan(t *testing.T) {
	asNoData := func(name string, _ uint16, m *dns.Msg) {
		if name == "nope.test." {
			m.Rcode = dns.RcodeSuccess // the NXDOMAIN's proof, as a NODATA
		}
	}
	for _, c := range []struct {
		p    *dnssec.NSEC3Params
		want Security
	}{
		{&dnssec.NSEC3Params{OptOut: true}, Insecure},
		{&dnssec.NSEC3Params{}, Bogus},
	} {
		w := standardWorld(t, c.p)
		w.mutate = asNoData
		if vd := w.validate("nope.test.", dns.TypeMX); vd.Security != c.want {
			t.Errorf("opt-out %v: %v (EDE %v), want %v", c.p.OptOut, vd.Security, vd.EDE, c.want)
		}
	}
}

// TestNXDomainAtEmptyNonTerminal: a server that answers NXDOMAIN for an
// empty non-terminal sends an NSEC whose next name lies below the name:
// the name exists, so the proof is a NODATA and the answer a Secure
// NOERROR (Unbound's val_nodata_entnx), never a Secure NXDOMAIN.
func TestNXDomainAtEmptyNonTerminal(t *testing.T) {
	w := standardWorld(t, nil)
	w.mutate = func(name string, _ uint16, m *dns.Msg) {
		if name == "b.ent.test." {
			m.Rcode = dns.RcodeNameError
		}
	}
	vd := w.validate("b.ent.test.", dns.TypeA)
	if vd.Security != Secure || vd.Rcode != dns.RcodeSuccess {
		t.Errorf("b.ent.test. A: %v %s (EDE %v), want secure NOERROR", vd.Security, dns.RcodeToString[vd.Rcode], vd.EDE)
	}
	// A name that does not exist is still proven NXDOMAIN.
	if vd := w.validate("nope.test.", dns.TypeA); vd.Security != Secure || vd.Rcode != dns.RcodeNameError {
		t.Errorf("nope.test. A: %v %s, want secure NXDOMAIN", vd.Security, dns.RcodeToString[vd.Rcode])
	}
}

// TestInsecureVerdictKeepsRecords: an Insecure answer (a wildcard
// expansion whose next closer name lies in an opt-out span) comes with
// its records and their RRSIGs, which a resolver owes a DO client
// (deckard val_nsec3_b4_wild); a Bogus one comes with nothing.
func TestInsecureVerdictKeepsRecords(t *testing.T) {
	w := standardWorld(t, &dnssec.NSEC3Params{OptOut: true})
	vd := w.validate("x.wild.test.", dns.TypeA)
	if vd.Security != Insecure {
		t.Fatalf("x.wild.test. A: %v, want insecure", vd.Security)
	}
	var a, sig int
	for _, rr := range vd.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			a++
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeA {
				sig++
			}
		}
	}
	if a != 1 || sig != 1 || vd.Rcode != dns.RcodeSuccess {
		t.Errorf("insecure answer %v (rcode %d), want the A record and its RRSIG", vd.Answer, vd.Rcode)
	}
	w.mutate = func(name string, _ uint16, m *dns.Msg) {
		if name == "www.test." {
			m.Answer = withoutType(m.Answer, dns.TypeRRSIG)
		}
	}
	if vd := w.validate("www.test.", dns.TypeA); vd.Security != Bogus || vd.Answer != nil {
		t.Errorf("bogus answer: %v %v, want bogus without records", vd.Security, vd.Answer)
	}
}

// TestDSAtAnchorApex: the DS RRset of a trust anchor's apex lives in the
// parent zone, above the anchor: the validator cannot judge it, even
// unsigned, and says Indeterminate, not Bogus (Unbound's
// val_ds_afterprime: the parent's unsigned NODATA is served, without AD).
func TestDSAtAnchorApex(t *testing.T) {
	w := standardWorld(t, nil)
	ds, err := w.keys["test."][0].DS(dns.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	w.anchors = &Anchors{DS: map[string][]*dns.DS{"test.": {ds}}}
	w.mutate = func(name string, qtype uint16, m *dns.Msg) {
		if name == "test." && qtype == dns.TypeDS {
			m.Answer = withoutType(m.Answer, dns.TypeRRSIG) // as from an unsigned parent
		}
	}
	if vd := w.validate("test.", dns.TypeDS); vd.Security != Indeterminate {
		t.Errorf("test. DS: %v (EDE %v), want indeterminate", vd.Security, vd.EDE)
	}
	if vd := w.validate("www.test.", dns.TypeA); vd.Security != Secure {
		t.Errorf("www.test. A under the anchor: %v (EDE %v), want secure", vd.Security, vd.EDE)
	}
}

// TestSignatureFromAnotherSection: an RRSIG sent in the additional
// section for an answer RRset is taken for it, as Unbound's parser does
// (its val_unalgo_anchor, val_positive); it must still verify: with the
// data changed the answer stays Bogus.
func TestSignatureFromAnotherSection(t *testing.T) {
	move := func(tamper bool) func(string, uint16, *dns.Msg) {
		return func(name string, _ uint16, m *dns.Msg) {
			if name != "www.test." {
				return
			}
			var keep []dns.RR
			for _, rr := range m.Answer {
				switch rr := rr.(type) {
				case *dns.RRSIG:
					m.Extra = append(m.Extra, rr)
					continue
				case *dns.A:
					if tamper {
						rr.A[3]++
					}
				}
				keep = append(keep, rr)
			}
			m.Answer = keep
		}
	}
	w := standardWorld(t, nil)
	w.mutate = move(false)
	if vd := w.validate("www.test.", dns.TypeA); vd.Security != Secure || !hasRRSIG(vd.Answer) {
		t.Errorf("RRSIG in the additional section: %v (EDE %v) answer %v, want secure with the RRSIG", vd.Security, vd.EDE, vd.Answer)
	}
	w.mutate = move(true)
	if vd := w.validate("www.test.", dns.TypeA); vd.Security != Bogus {
		t.Errorf("changed data, RRSIG in the additional section: %v, want bogus", vd.Security)
	}
}

func hasRRSIG(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeRRSIG {
			return true
		}
	}
	return false
}
