package auth

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
)

// rfc4592Zone is the example zone of RFC 4592 §2.2.1, with the SOA and
// SRV RDATA the RFC leaves out filled in.
const rfc4592Zone = `
$ORIGIN example.
example.                 3600 IN  SOA   ns.example.com. hostmaster.example. 1 7200 3600 1209600 3600
example.                 3600     NS    ns.example.com.
example.                 3600     NS    ns.example.net.
*.example.               3600     TXT   "this is a wildcard"
*.example.               3600     MX    10 host1.example.
sub.*.example.           3600     TXT   "this is not a wildcard"
host1.example.           3600     A     192.0.2.1
_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.
_ssh._tcp.host2.example. 3600     SRV   0 0 22 host2.example.
subdel.example.          3600     NS    ns.example.com.
subdel.example.          3600     NS    ns.example.net.
`

// TestRFC4592Examples checks every example answer of RFC 4592 §2.2.1: the
// three queries answered from a wildcard and the five that must not be.
func TestRFC4592Examples(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, dnstest.Zone(t, "example.", rfc4592Zone))
	soa := "example. 3600 IN SOA ns.example.com. hostmaster.example. 1 7200 3600 1209600 3600"
	run(t, s, []exchange{
		// Synthesised from a wildcard.
		{name: "host3.example. MX: synthesised", q: "host3.example. MX", aa: true,
			want: sections{Answer: []string{"host3.example. 3600 IN MX 10 host1.example."}}},
		{name: "host3.example. A: no error, no data (no A at *.example.)", q: "host3.example. A", aa: true,
			want: sections{Ns: []string{soa}}},
		{name: "foo.bar.example. TXT: synthesised, bar.example. does not exist", q: "foo.bar.example. TXT", aa: true,
			want: sections{Answer: []string{`foo.bar.example. 3600 IN TXT "this is a wildcard"`}}},
		// Not synthesised.
		{name: "host1.example. MX: host1.example. exists", q: "host1.example. MX", aa: true,
			want: sections{Ns: []string{soa}}},
		{name: "sub.*.example. MX: sub.*.example. exists", q: "sub.*.example. MX", aa: true,
			want: sections{Ns: []string{soa}}},
		{name: "_telnet._tcp.host1.example. SRV: _tcp.host1.example. exists without data",
			q: "_telnet._tcp.host1.example. SRV", aa: true, rcode: dns.RcodeNameError,
			want: sections{Ns: []string{soa}}},
		{name: "host.subdel.example. A: subdel.example. is a zone cut", q: "host.subdel.example. A",
			want: sections{Ns: []string{"subdel.example. 3600 IN NS ns.example.com.", "subdel.example. 3600 IN NS ns.example.net."}}},
		{name: "ghost.*.example. MX: *.example. exists", q: "ghost.*.example. MX", aa: true, rcode: dns.RcodeNameError,
			want: sections{Ns: []string{soa}}},
	})
}
