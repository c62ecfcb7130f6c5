package interop

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/server"
)

// TestRensaForwardsThroughUnboundDoT runs rensa's resolver forwarding
// over DoT to Unbound, itself a validating resolver over the signed
// testbed, with rensa validating on its own with the testbed's anchor:
// AD for signed answers and denials, none under the insecure delegation,
// and SERVFAIL with an Extended DNS Error for the zone with the broken
// DS, although Unbound, asked with CD, hands its records over. Not
// parallel: it holds port 53 of the testbed addresses while it runs.
func TestRensaForwardsThroughUnboundDoT(t *testing.T) {
	unbound := requirePeer(t, "unbound")
	if os.Geteuid() != 0 {
		t.Skip("needs root: Unbound asks name servers on port 53, so the testbed must bind port 53 on 127.53.0.0/16")
	}
	tb := startSignedOnPort53(t)
	// Unbound validates over the signed testbed and serves plain DNS and
	// DNS over TLS.
	ub := unboundOver(t, tb, true)
	certFile, keyFile, caFile, err := server.SelfSigned(filepath.Join(ub.dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	dot := freePort(t, "127.0.0.1")
	ub.tlsPort, ub.tlsKey, ub.tlsCert = dot, keyFile, certFile
	startUnbound(t, unbound, ub)

	up, err := resolver.ParseUpstream(fmt.Sprintf("tls://127.0.0.1:%d#localhost", dot), resolver.UpstreamOptions{CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Exchanger.(io.Closer).Close()
	anchors, err := validate.ParseAnchors(strings.NewReader(tb.TrustAnchor()), "testbed anchor")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(validate.Config{Anchors: anchors})
	if err != nil {
		t.Fatal(err)
	}
	r, err := resolver.New(resolver.Config{Forward: []resolver.Upstream{up}, Validator: v,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		qtype uint16
		rcode int
		ad    bool
		what  string
	}{
		{"www.example.test.", dns.TypeA, dns.RcodeSuccess, true, "positive, NSEC3 zone"},
		{"www.sub.example.test.", dns.TypeA, dns.RcodeSuccess, true, "positive, third level"},
		{"alias.example.test.", dns.TypeA, dns.RcodeSuccess, true, "CNAME chain"},
		{"nothere.example.test.", dns.TypeA, dns.RcodeNameError, true, "NXDOMAIN, NSEC3"},
		{"www.sub.example.test.", dns.TypeMX, dns.RcodeSuccess, true, "NODATA, NSEC"},
		{"anything.wild.example.test.", dns.TypeA, dns.RcodeSuccess, true, "wildcard answer"},
		{"www.other.test.", dns.TypeA, dns.RcodeSuccess, false, "insecure delegation"},
		{"www.broken.test.", dns.TypeA, dns.RcodeServerFailure, false, "bogus: DS matches no key"},
		{"www.example.test.", dns.TypeA, dns.RcodeSuccess, true, "positive, from the cache"},
	} {
		m := new(dns.Msg)
		m.SetQuestion(tt.name, tt.qtype)
		m.SetEdns0(4096, true)
		w := &dnstest.Recorder{Net: "tcp", Remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53000}}
		r.ServeDNS(w, m)
		reply := w.Msg
		if reply == nil {
			t.Fatalf("%s %s: no reply", tt.name, dns.TypeToString[tt.qtype])
		}
		if reply.Rcode != tt.rcode || reply.AuthenticatedData != tt.ad {
			t.Errorf("%s %s (%s): %s AD=%v, want %s AD=%v\n%v", tt.name, dns.TypeToString[tt.qtype], tt.what,
				dns.RcodeToString[reply.Rcode], reply.AuthenticatedData, dns.RcodeToString[tt.rcode], tt.ad, reply)
		}
		// rensa's validator, not Unbound's, must have said no: EDE 9
		// (DNSKEY Missing), not 22 (No Reachable Authority), which an
		// upstream SERVFAIL would give.
		if tt.rcode == dns.RcodeServerFailure && edeCode(reply) != dns.ExtendedErrorCodeDNSKEYMissing {
			t.Errorf("%s %s (%s): SERVFAIL with EDE %d, want %d\n%v", tt.name, dns.TypeToString[tt.qtype], tt.what,
				edeCode(reply), dns.ExtendedErrorCodeDNSKEYMissing, reply)
		}
	}
}

// edeCode returns the INFO-CODE of m's Extended DNS Error (RFC 8914),
// 0xffff when it has none.
func edeCode(m *dns.Msg) uint16 {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				return e.InfoCode
			}
		}
	}
	return 0xffff
}
