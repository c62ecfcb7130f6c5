package auth

import (
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/zone"
)

// exampleZone is the zone most tests answer from. Each name is there for
// one behaviour; the comments say which.
const exampleZone = `
$ORIGIN example.
$TTL 3600
@            SOA   ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300
@            NS    ns1.example.
@            NS    ns.example.net.
ns1          A     192.0.2.53
www          A     192.0.2.1
www          AAAA  2001:db8::1
www          TXT   "www"
; CNAME chains inside the zone, to nowhere, out of the zone, in loops
alias        CNAME www
chain1       CNAME chain2
chain2       CNAME Chain3.Example.
chain3       CNAME www
dangling     CNAME nothere
to-ent       CNAME ent
outside      CNAME www.example.net.
loop1        CNAME loop2
loop2        CNAME loop1
self         CNAME self
to-cut       CNAME host.child
; ent.example. is an empty non-terminal
a.ent        A     192.0.2.7
; wildcards: plain, blocked below an empty non-terminal, CNAME at a wildcard
*.wild       TXT   "wild"
*.wild       MX    10 www.example.
deep.y.wild  A     192.0.2.8
*.cw         CNAME www
*.cwloop     CNAME x.cwloop
; DNAME out of the zone and into it
dn           DNAME example.net.
dz           DNAME target.example.
host.target  A     192.0.2.9
; delegations: in-domain, sibling and out-of-zone name servers
child        NS    ns.child
child        NS    ns.sib
child        NS    ns.example.net.
child        DS    12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.child     A     192.0.2.10
ns.child     AAAA  2001:db8::10
sib          NS    ns.sib
ns.sib       A     192.0.2.20
nods         NS    ns.example.net.
`

// soaLine is exampleZone's SOA as a negative answer carries it: TTL
// min(3600, MINIMUM 300) (RFC 2308 §3).
const soaLine = "example. 300 IN SOA ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300"

// newServer returns a server for cfg answering from zones.
func newServer(t testing.TB, cfg Config, zones ...*zone.Zone) *Server {
	t.Helper()
	cfg.Zones = zone.NewSet(zones...)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ask builds a query from "qname TYPE [CLASS]", names used as written.
func ask(t testing.TB, spec string) *dns.Msg {
	t.Helper()
	f := strings.Fields(spec)
	if len(f) < 2 || len(f) > 3 {
		t.Fatalf("query %q: want \"qname TYPE [CLASS]\"", spec)
	}
	qtype, ok := code(dns.StringToType, "TYPE", f[1])
	if !ok {
		t.Fatalf("query %q: unknown type %s", spec, f[1])
	}
	m := dnstest.Query(f[0], qtype)
	if len(f) == 3 {
		if m.Question[0].Qclass, ok = code(dns.StringToClass, "CLASS", f[2]); !ok {
			t.Fatalf("query %q: unknown class %s", spec, f[2])
		}
	}
	return m
}

// code looks up a type or class mnemonic, or reads the generic TYPEnnn or
// CLASSnnn form (RFC 3597 §5).
func code(names map[string]uint16, generic, s string) (uint16, bool) {
	if v, ok := names[s]; ok {
		return v, true
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, generic), 10, 16)
	return uint16(n), err == nil && strings.HasPrefix(s, generic)
}

// exchange is one query and the reply it must get.
type exchange struct {
	name  string
	q     string // "qname TYPE [CLASS]"
	tcp   bool
	rcode int
	aa    bool
	tc    bool
	want  dnstest.Sections
}

// run serves each exchange through a Recorder and checks rcode, flags,
// the question (exactly as asked) and the sections.
func run(t *testing.T, s *Server, tests []exchange) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := ask(t, tt.q)
			network := "udp"
			if tt.tcp {
				network = "tcp"
			}
			got := dnstest.Exchange(t, s, q, network)
			if got == nil {
				t.Fatal("no reply")
			}
			checkHeader(t, q, got, tt.rcode, tt.aa, tt.tc)
			tt.want.Check(t, got)
		})
	}
}

// checkHeader checks what every reply to q must carry.
func checkHeader(t *testing.T, q, got *dns.Msg, rcode int, aa, tc bool) {
	t.Helper()
	if got.Rcode != rcode {
		t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[rcode])
	}
	if got.Authoritative != aa {
		t.Errorf("AA = %v, want %v", got.Authoritative, aa)
	}
	if got.Truncated != tc {
		t.Errorf("TC = %v, want %v", got.Truncated, tc)
	}
	if got.Id != q.Id || !got.Response || got.RecursionAvailable || got.Zero || got.AuthenticatedData {
		t.Errorf("header: id %d (want %d) qr %v ra %v z %v ad %v", got.Id, q.Id, got.Response,
			got.RecursionAvailable, got.Zero, got.AuthenticatedData)
	}
	if len(q.Question) == 1 && (len(got.Question) != 1 || got.Question[0] != q.Question[0]) {
		t.Errorf("question %v, want %v exactly", got.Question, q.Question)
	}
}
