package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// brokenZone is a signed zone whose parent carries a DS that matches none
// of its keys: a validator must answer SERVFAIL for anything in it.
const brokenZone = `$ORIGIN broken.test.
$TTL 3600
@    SOA ns1 hostmaster 1 7200 900 1209600 300
@    NS  ns1
ns1  A   127.53.2.7
www  A   192.0.2.77
`

// brokenDelegation goes into test.: the delegation with the wrong DS.
const brokenDelegation = `
broken            IN NS  ns1.broken
ns1.broken        IN A   127.53.2.7
broken            IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
`

// signedSpecs is the default hierarchy, signed by the testbed, with
// example.test. on NSEC3, other.test. unsigned (an insecure delegation)
// and broken.test. added with a bogus DS.
func signedSpecs() []testbed.ZoneSpec {
	specs := testbed.Default()
	for i := range specs {
		switch specs[i].Origin {
		case "example.test.":
			specs[i].NSEC3 = true
		case "other.test.":
			specs[i].Unsigned = true
		case "test.":
			specs[i].Text += brokenDelegation
		}
	}
	return append(specs, testbed.ZoneSpec{Origin: "broken.test.", Text: brokenZone, Server: "127.53.2.7"})
}

// TestUnboundValidatesSignedTestbed runs a validating Unbound over the
// signed testbed, with its trust anchor and root hints, and checks that
// Unbound proves rensa's answers: AD on positive answers, NXDOMAIN,
// NODATA and wildcard answers (NSEC and NSEC3 zones), no AD under the
// insecure delegation, and SERVFAIL for the zone broken on purpose. delv,
// asking through that Unbound with the same anchor, must report
// "fully validated". Not parallel: it holds port 53 of the testbed
// addresses while it runs.
func TestUnboundValidatesSignedTestbed(t *testing.T) {
	unbound := requirePeer(t, "unbound")
	if os.Geteuid() != 0 {
		t.Skip("needs root: Unbound asks name servers on port 53, so the testbed must bind port 53 on 127.53.0.0/16")
	}
	tb := startSignedOnPort53(t)
	addr := startUnbound(t, unbound, unboundOver(t, tb, true))

	tests := []struct {
		name  string
		qtype uint16
		rcode int
		ad    bool
		what  string
	}{
		{"www.example.test.", dns.TypeA, dns.RcodeSuccess, true, "positive, NSEC3 zone"},
		{"www.sub.example.test.", dns.TypeA, dns.RcodeSuccess, true, "positive, third level"},
		{"www.glueless.test.", dns.TypeA, dns.RcodeSuccess, true, "positive, glueless"},
		{"www.hosting.example.", dns.TypeAAAA, dns.RcodeSuccess, true, "positive, other TLD"},
		{"alias.example.test.", dns.TypeA, dns.RcodeSuccess, true, "CNAME chain"},
		{"nothere.example.test.", dns.TypeA, dns.RcodeNameError, true, "NXDOMAIN, NSEC3"},
		{"nothere.sub.example.test.", dns.TypeA, dns.RcodeNameError, true, "NXDOMAIN, NSEC"},
		{"nothere.test.", dns.TypeA, dns.RcodeNameError, true, "NXDOMAIN in a TLD"},
		{"www.example.test.", dns.TypeMX, dns.RcodeSuccess, true, "NODATA, NSEC3"},
		{"www.sub.example.test.", dns.TypeMX, dns.RcodeSuccess, true, "NODATA, NSEC"},
		{"b.ent.example.test.", dns.TypeA, dns.RcodeSuccess, true, "NODATA at an empty non-terminal"},
		{"anything.wild.example.test.", dns.TypeA, dns.RcodeSuccess, true, "wildcard answer"},
		{"anything.wild.example.test.", dns.TypeMX, dns.RcodeSuccess, true, "wildcard NODATA"},
		{"big.example.test.", dns.TypeTXT, dns.RcodeSuccess, true, "truncated over UDP, whole over TCP"},
		{"www.other.test.", dns.TypeA, dns.RcodeSuccess, false, "insecure delegation"},
		{"www.broken.test.", dns.TypeA, dns.RcodeServerFailure, false, "bogus: DS matches no key"},
	}
	for _, tt := range tests {
		m := new(dns.Msg)
		m.SetQuestion(tt.name, tt.qtype)
		m.SetEdns0(4096, true)
		cl := dns.Client{Net: "tcp", Timeout: resolveTimeout}
		r, _, err := cl.Exchange(m, addr)
		if err != nil {
			t.Errorf("%s %s (%s): %v", tt.name, dns.TypeToString[tt.qtype], tt.what, err)
			continue
		}
		if r.Rcode != tt.rcode || r.AuthenticatedData != tt.ad {
			t.Errorf("%s %s (%s): %s AD=%v, want %s AD=%v\n%v", tt.name, dns.TypeToString[tt.qtype], tt.what,
				dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[tt.rcode], tt.ad, r)
		}
	}

	delv := requirePeer(t, "delv")
	anchor := filepath.Join(t.TempDir(), "anchor.conf")
	if err := os.WriteFile(anchor, []byte(bindTrustAnchors(t, tb.TrustAnchor())), 0o644); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	for _, q := range []string{"www.example.test. A", "www.sub.example.test. A", "anything.wild.example.test. A"} {
		f := strings.Fields(q)
		out := runPeer(t, delv, "@"+host, "-p", port, "-a", anchor, "+root=.", f[0], f[1])
		if !strings.Contains(out, "; fully validated") {
			t.Errorf("delv %s: not fully validated:\n%s", q, out)
		}
	}
}

// bindTrustAnchors turns the testbed's trust anchor (DS lines) into the
// trust-anchors clause delv's -a reads.
func bindTrustAnchors(t *testing.T, text string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("trust-anchors {\n")
	for _, line := range strings.Split(text, "\n") {
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			continue
		}
		if ds, ok := rr.(*dns.DS); ok {
			fmt.Fprintf(&b, "\t%q static-ds %d %d %d %q;\n", ds.Hdr.Name, ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
		}
	}
	b.WriteString("};\n")
	return b.String()
}

// startSignedOnPort53 starts the signed testbed of signedSpecs on port
// 53, retrying while another test binary holds the addresses.
func startSignedOnPort53(t *testing.T) *testbed.Testbed {
	t.Helper()
	deadline := time.Now().Add(port53Wait)
	for {
		tb, err := testbed.Start(context.Background(), testbed.Config{Zones: signedSpecs(), Port: 53, Signed: true})
		if err == nil {
			t.Cleanup(func() { tb.Close() })
			return tb
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			t.Fatalf("signed testbed on port 53: %v", err)
		}
		<-time.After(100 * time.Millisecond)
	}
}
