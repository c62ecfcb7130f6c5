package resolver

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/testbed"
)

// signedZones is the default hierarchy signed, with other.test. denying
// by NSEC3, sub.example.test. unsigned (an insecure delegation), and the
// DS of hosting.example. replaced by one matching no key (a broken
// chain, EDE 9).
func signedZones() []testbed.ZoneSpec {
	specs := testbed.Default()
	for i := range specs {
		switch specs[i].Origin {
		case "other.test.":
			specs[i].NSEC3 = true
		case "sub.example.test.":
			specs[i].Unsigned = true
		case "example.":
			specs[i].Text += "\nhosting IN DS 4711 13 2 " + strings.Repeat("ab", 32) + "\n"
		}
	}
	return specs
}

// TestTestbedValidation resolves through the signed testbed with its
// trust anchor: AD for positive, NXDOMAIN, NODATA, wildcard and chained
// answers in NSEC and NSEC3 zones; no AD for the insecure delegation;
// SERVFAIL with the EDE naming the fault for the broken DS; the CD bit
// gets the unvalidated data.
func TestTestbedValidation(t *testing.T) {
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: signedZones(), Signed: true, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	v := testbedValidator(t, tb)
	r := newTestbedResolver(t, tb, Config{Validator: v})
	const servfail = dns.RcodeServerFailure
	for _, c := range []struct {
		name  string
		qtype uint16
		cd    bool
		rcode int
		ad    bool
		ede   int // -1: none expected
	}{
		{"www.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
		{"nonexistent.example.test.", dns.TypeA, false, dns.RcodeNameError, true, -1},
		{"www.example.test.", dns.TypeMX, false, dns.RcodeSuccess, true, -1},
		{"b.ent.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
		{"foo.wild.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
		{"foo.wild.example.test.", dns.TypeAAAA, false, dns.RcodeSuccess, true, -1},
		{"chain.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
		{"ext.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
		{"www.legacy.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
		{"www.other.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
		{"nothere.other.test.", dns.TypeA, false, dns.RcodeNameError, true, -1},
		{"www.other.test.", dns.TypeMX, false, dns.RcodeSuccess, true, -1},
		{"foo.apps.other.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
		{"dangling.example.test.", dns.TypeA, false, dns.RcodeNameError, true, -1},
		{"www.sub.example.test.", dns.TypeA, false, dns.RcodeSuccess, false, -1},
		{"www.hosting.example.", dns.TypeA, false, servfail, false, int(dns.ExtendedErrorCodeDNSKEYMissing)},
		{"cross.example.test.", dns.TypeA, false, servfail, false, int(dns.ExtendedErrorCodeDNSKEYMissing)},
		{"www.hosting.example.", dns.TypeA, true, dns.RcodeSuccess, false, -1},
	} {
		q := new(dns.Msg)
		q.SetQuestion(c.name, c.qtype)
		q.SetEdns0(4096, true)
		q.CheckingDisabled = c.cd
		w := &recorder{network: "tcp"}
		r.ServeDNS(w, q)
		m := w.msg
		ede := -1
		if opt := m.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if e, ok := o.(*dns.EDNS0_EDE); ok {
					ede = int(e.InfoCode)
				}
			}
		}
		if m.Rcode != c.rcode || m.AuthenticatedData != c.ad || ede != c.ede {
			t.Errorf("%s %s cd=%v: rcode %s AD %v EDE %d, want %s AD %v EDE %d\n%v", c.name, dns.TypeToString[c.qtype], c.cd,
				dns.RcodeToString[m.Rcode], m.AuthenticatedData, ede, dns.RcodeToString[c.rcode], c.ad, c.ede, m)
		}
	}
	// Without DO or AD in the query, no AD in the reply.
	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)
	w := &recorder{network: "tcp"}
	r.ServeDNS(w, q)
	if w.msg.AuthenticatedData || len(w.msg.Answer) == 0 {
		t.Errorf("plain query: AD %v, answer %v", w.msg.AuthenticatedData, w.msg.Answer)
	}
}

// testbedValidator returns a validator whose trust anchor is the signed
// testbed's root key.
func testbedValidator(t testing.TB, tb *testbed.Testbed) *validate.Validator {
	t.Helper()
	anchors, err := validate.ParseAnchors(strings.NewReader(tb.TrustAnchor()), "testbed anchor")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(validate.Config{Anchors: anchors})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
