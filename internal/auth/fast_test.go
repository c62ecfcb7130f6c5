package auth

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/wire"
	"github.com/rensa-dns/rensa/internal/zone"
)

// fastZones are the zones the fast path tests answer from: every kind of
// answer the engine gives, mixed-case zone data, and replies too large for
// some clients.
func fastZones(t testing.TB) []*zone.Zone {
	return []*zone.Zone{
		dnstest.Zone(t, "example.", exampleZone+"mixed A 192.0.2.30\nmixed MX 10 Host.Example.\nup CNAME MIXED.example.\n"),
		bigZone(t), referralZone(t),
	}
}

// slowWire is what the server sends for wire when the fast path declines:
// the query unpacked, Answer, the reply packed. ok is false when the query
// does not unpack or gets no reply.
func slowWire(t testing.TB, s *Server, wire []byte, network string) (reply []byte, ok bool) {
	t.Helper()
	req := new(dns.Msg)
	if req.Unpack(wire) != nil {
		return nil, false
	}
	m := s.Answer(req, network)
	if m == nil {
		return nil, false
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("slow path reply does not pack: %v", err)
	}
	return b, true
}

// fastWire asks f three times, so that the doorkeeper admits the key and
// it is compiled; it returns the last answer.
func fastWire(f *FastPath, wire []byte, network string) ([]byte, bool) {
	var reply []byte
	var ok bool
	for range 3 {
		reply, ok = f.AnswerRaw(wire, network, make([]byte, 0, 512))
	}
	return reply, ok
}

// checkFast checks the fast path's reply to wire against the engine's: the
// same octets, or a refusal. It reports whether the fast path answered.
func checkFast(t testing.TB, f *FastPath, wire []byte, network string) bool {
	t.Helper()
	got, ok := fastWire(f, wire, network)
	if !ok {
		return false
	}
	want, wantOK := slowWire(t, f.s, wire, network)
	if !wantOK {
		t.Fatalf("fast path answered a query the engine does not: %x", wire)
	}
	if !bytes.Equal(got, want) {
		g, w := new(dns.Msg), new(dns.Msg)
		gErr, wErr := g.Unpack(got), w.Unpack(want)
		t.Fatalf("fast reply differs from Answer's\nquery %x\nfast (%v):\n%v\nengine (%v):\n%v", wire, gErr, g, wErr, w)
	}
	return true
}

// mixedCase returns name with every other letter in uppercase.
func mixedCase(name string) string {
	b := []byte(name)
	for i := 0; i < len(b); i += 2 {
		if 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAnswerRawMatchesAnswer asks every name of the test zones, and names
// below them (NXDOMAIN, wildcards, DNAME, referrals), for many types, in
// three cases, with and without EDNS and DO, over UDP and TCP, of plain
// zones and of zones signed with NSEC and NSEC3. Each reply the fast path
// gives must be the engine's, octet for octet; the fast path must take
// the common shapes.
func TestAnswerRawMatchesAnswer(t *testing.T) {
	t.Parallel()
	t.Run("plain", func(t *testing.T) {
		t.Parallel()
		matchAll(t, newServer(t, Config{}, fastZones(t)...))
	})
	for _, nsec3 := range []bool{false, true} {
		t.Run(fmt.Sprint("signed/nsec3=", nsec3), func(t *testing.T) {
			t.Parallel()
			s, _ := signedServer(t, nsec3)
			matchAll(t, s)
		})
	}
}

// matchAll runs the queries of TestAnswerRawMatchesAnswer against s.
func matchAll(t *testing.T, s *Server) {
	f := NewFastPath(s)
	var names []string
	for _, origin := range s.Zones().Origins() {
		for _, n := range s.Zones().Zone(origin).Names() {
			names = append(names, n, "nx."+n, "a.b."+n)
		}
	}
	names = append(names, "example.org.", ".", "host3.wild.example.", "x.cw.example.")
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX, dns.TypeNS, dns.TypeSOA,
		dns.TypeDS, dns.TypeCNAME, dns.TypeDNAME, dns.TypeDNSKEY, dns.TypeNSEC, 666}
	edns := []func(m *dns.Msg){
		func(*dns.Msg) {},
		func(m *dns.Msg) { dnstest.EDNS(m, 1232, false) },
		func(m *dns.Msg) { dnstest.EDNS(m, 4096, true) },
		func(m *dns.Msg) { dnstest.EDNS(m, 512, true) },
	}
	served := map[string]int{} // by case and whether the fast path answered
	for _, name := range names {
		for c, qname := range map[string]string{"mixed": mixedCase(name), "lower": name, "upper": strings.ToUpper(name)} {
			for _, qtype := range types {
				for i, addOPT := range edns {
					m := dnstest.Query(qname, qtype)
					m.RecursionDesired, m.CheckingDisabled = i%2 == 0, i == 2
					addOPT(m)
					for _, network := range []string{"udp", "tcp"} {
						served[fmt.Sprint(c, " ", checkFast(t, f, pack(t, m), network))]++
					}
				}
			}
		}
	}
	t.Logf("fast path answered (true) or declined (false), by case: %v", served)
	if yes, no := served["lower true"], served["lower false"]; yes < 4*no {
		t.Errorf("fast path answered only %d of %d lowercase queries", yes, yes+no)
	}
}

// TestAnswerRawAnyCase asks the names of the test zones in random cases,
// after the lowercase query compiled each reply: every case must get the
// engine's octets (or be declined), whichever case was asked first.
func TestAnswerRawAnyCase(t *testing.T) {
	t.Parallel()
	zones := fastZones(t)
	s := newServer(t, Config{}, zones...)
	f := NewFastPath(s)
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, z := range zones {
		for _, n := range z.Names() {
			for _, qtype := range []uint16{dns.TypeA, dns.TypeMX, dns.TypeTXT, dns.TypeCNAME} {
				for range 8 {
					b := []byte("x." + n)
					for i, c := range b {
						if 'a' <= c && c <= 'z' && rnd.IntN(2) == 0 {
							b[i] = c - ('a' - 'A')
						}
					}
					for _, name := range []string{string(b), string(b[2:])} {
						checkFast(t, f, pack(t, dnstest.Query(name, qtype)), "udp")
					}
				}
			}
		}
	}
}

// TestAnswerRawTakes checks which common queries the fast path answers,
// and that each answer is the engine's.
func TestAnswerRawTakes(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, fastZones(t)...)
	for _, tt := range []struct {
		q    string
		edns uint16 // 0: none
		tcp  bool
		want bool
	}{
		{q: "www.example. A", want: true},
		{q: "www.example. A", edns: 1232, want: true},
		{q: "www.example. A", tcp: true, want: true},
		{q: "WwW.eXaMpLe. A", want: true}, // the owner is a pointer to the question
		{q: "www.example. MX", want: true},
		{q: "WWW.example. MX", want: false}, // the SOA's names would compress into the question
		{q: "nx.example. A", want: true},
		{q: "alias.example. A", want: true},
		{q: "host3.wild.example. TXT", want: true},
		{q: "host.child.example. A", want: true},
		{q: "a.b.dn.example. A", want: true},
		{q: "A.b.dn.example. A", want: false}, // DNAME: the synthesised CNAME carries the case
		{q: "example.org. A", want: true},     // REFUSED is as fixed as any answer
		{q: "big.test. TXT", want: false},     // does not fit 512 octets: truncated
		{q: "big.test. TXT", edns: 4096, want: false},
		{q: "big.test. TXT", tcp: true, want: true},
		{q: "mid.test. TXT", edns: 1232, want: true},
		{q: "mid.test. TXT", want: false},
		{q: "host.b.ref.test. A", want: false}, // optional glue dropped
		{q: "host.b.ref.test. A", edns: 1232, want: true},
		{q: "host.b.ref.test. A", tcp: true, want: true},
		{q: "www.example. ANY", want: false},
		{q: "www.example. RRSIG", want: false},
		{q: "example. AXFR", tcp: true, want: false},
		{q: "version.bind. TXT CH", want: false},
		{q: "www.example. A ANY", want: false},
	} {
		name := fmt.Sprintf("%s/edns=%d/tcp=%v", tt.q, tt.edns, tt.tcp)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := NewFastPath(s)
			m := ask(t, tt.q)
			if tt.edns > 0 {
				dnstest.EDNS(m, tt.edns, false)
			}
			network := "udp"
			if tt.tcp {
				network = "tcp"
			}
			if got := checkFast(t, f, pack(t, m), network); got != tt.want {
				t.Errorf("fast path answered: %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAnswerRawDeclines checks that queries of any other shape go to the
// engine, however often they are asked.
func TestAnswerRawDeclines(t *testing.T) {
	t.Parallel()
	s := exampleServer(t)
	www := func(edit func(m *dns.Msg)) []byte {
		m := ask(t, "www.example. A")
		edit(m)
		return pack(t, m)
	}
	withOPT := func(edit func(o *dns.OPT)) []byte {
		return www(func(m *dns.Msg) {
			dnstest.EDNS(m, 1232, false)
			edit(m.Extra[0].(*dns.OPT))
		})
	}
	plain := pack(t, ask(t, "www.example. A"))
	for name, wire := range map[string][]byte{
		"response":        www(func(m *dns.Msg) { m.Response = true }),
		"NOTIFY":          www(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }),
		"two questions":   www(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }),
		"no question":     www(func(m *dns.Msg) { m.Question = nil }),
		"answer record":   www(func(m *dns.Msg) { m.Answer = []dns.RR{dnstest.RR(t, "www.example. 1 A 192.0.2.1")} }),
		"authority":       www(func(m *dns.Msg) { m.Ns = []dns.RR{dnstest.RR(t, "www.example. 1 A 192.0.2.1")} }),
		"TSIG":            www(func(m *dns.Msg) { m.Extra = append(m.Extra, tsig(m.Id)) }),
		"two OPT":         www(func(m *dns.Msg) { dnstest.EDNS(dnstest.EDNS(m, 512, false), 512, false) }),
		"OPT and another": www(func(m *dns.Msg) { dnstest.EDNS(m, 512, false); m.Extra = append(m.Extra, m.Extra[0]) }),
		"EDNS version 1":  withOPT(func(o *dns.OPT) { o.SetVersion(1) }),
		"NSID option":     withOPT(func(o *dns.OPT) { o.Option = []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID}} }),
		"cookie option": withOPT(func(o *dns.OPT) {
			o.Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}}
		}),
		"OPT not at root": withOPT(func(o *dns.OPT) { o.Hdr.Name = "example." }),
		"class CH":        pack(t, ask(t, "www.example. A CH")),
		"class ANY":       pack(t, ask(t, "www.example. A ANY")),
		"ANY":             pack(t, ask(t, "www.example. ANY")),
		"AXFR":            pack(t, ask(t, "example. AXFR")),
		"IXFR":            pack(t, ask(t, "example. IXFR")),
		"RRSIG":           pack(t, ask(t, "www.example. RRSIG")),
		"type 0":          pack(t, ask(t, "www.example. TYPE0")),
		"trailing octets": append(bytes.Clone(plain), 0),
		"cut short":       plain[:len(plain)-1],
		"header only":     plain[:wire.HeaderLen],
		"too short":       plain[:5],
		"pointer in qname": append(append(bytes.Clone(plain[:wire.HeaderLen]), 0xC0, 0x0C),
			plain[len(plain)-4:]...),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := NewFastPath(s)
			for network := range strings.FieldsSeq("udp tcp") {
				if reply, ok := fastWire(f, wire, network); ok {
					t.Fatalf("%s: fast path answered:\n%x", network, reply)
				}
			}
		})
	}
}

// TestAnswerRawPatches checks what a cached reply takes from each query:
// ID, RD, CD and the question's case; and that EDNS and DO are part of the
// key.
func TestAnswerRawPatches(t *testing.T) {
	t.Parallel()
	s := exampleServer(t)
	f := NewFastPath(s)
	for i, spec := range []struct {
		name   string
		rd, cd bool
		opt    func(m *dns.Msg)
	}{
		{"www.example.", true, false, func(*dns.Msg) {}},
		{"WWW.example.", false, true, func(*dns.Msg) {}},
		{"www.EXAMPLE.", true, true, func(m *dns.Msg) { dnstest.EDNS(m, 4096, true) }},
		{"www.example.", false, false, func(m *dns.Msg) { dnstest.EDNS(m, 1232, false) }},
		{"wWw.example.", false, false, func(m *dns.Msg) { dnstest.EDNS(m, 1232, true) }},
		{"www.example.", true, false, func(*dns.Msg) {}},
	} {
		m := dnstest.Query(spec.name, dns.TypeA)
		m.Id = uint16(1000 + i)
		m.RecursionDesired, m.CheckingDisabled = spec.rd, spec.cd
		spec.opt(m)
		if !checkFast(t, f, pack(t, m), "udp") {
			t.Fatalf("%s: fast path declined", spec.name)
		}
		reply, _ := f.AnswerRaw(pack(t, m), "udp", nil)
		got := new(dns.Msg)
		if err := got.Unpack(reply); err != nil {
			t.Fatal(err)
		}
		checkHeader(t, m, got, dns.RcodeSuccess, true, false)
		if got.RecursionDesired != spec.rd || got.CheckingDisabled != spec.cd {
			t.Errorf("%s: RD %v CD %v, want %v %v", spec.name, got.RecursionDesired, got.CheckingDisabled, spec.rd, spec.cd)
		}
		if len(got.Answer) != 1 || got.Answer[0].Header().Name != spec.name {
			t.Errorf("%s: answer %v, want the owner as asked", spec.name, got.Answer)
		}
		if (got.IsEdns0() != nil) != (m.IsEdns0() != nil) {
			t.Errorf("%s: OPT in reply %v, in query %v", spec.name, got.IsEdns0(), m.IsEdns0())
		}
	}
}

// TestAnswerRawSetZones checks that replies compiled from old zones are
// never sent once SetZones has swapped them.
func TestAnswerRawSetZones(t *testing.T) {
	t.Parallel()
	zoneWith := func(addr string) *zone.Set {
		return zone.NewSet(dnstest.Zone(t, "example.", "@ SOA ns admin 1 2 3 4 5\n@ NS ns\nwww A "+addr+"\n"))
	}
	s, err := New(Config{Zones: zoneWith("192.0.2.1")})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFastPath(s)
	q := pack(t, ask(t, "www.example. A"))
	for i, addr := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		if i > 0 {
			s.SetZones(zoneWith(addr))
		}
		// The first query after the swap is answered at once, from the
		// new zones, or declined; never from the old cache.
		if reply, ok := f.AnswerRaw(q, "udp", nil); ok {
			checkAddr(t, reply, addr)
		}
		reply, ok := fastWire(f, q, "udp")
		if !ok {
			t.Fatalf("%s: fast path declined", addr)
		}
		checkAddr(t, reply, addr)
	}
	s.SetZones(nil)
	if !checkFast(t, f, q, "udp") {
		t.Fatal("REFUSED, with no zones, was not answered from the cache")
	}
	reply, _ := f.AnswerRaw(q, "udp", nil)
	if m := new(dns.Msg); m.Unpack(reply) != nil || m.Rcode != dns.RcodeRefused {
		t.Errorf("with no zones: %v, want REFUSED", m)
	}
}

func checkAddr(t *testing.T, reply []byte, addr string) {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil {
		t.Fatal(err)
	}
	if len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != addr {
		t.Fatalf("answer %v, want %s", m.Answer, addr)
	}
}

// TestAnswerRawDoorkeeper checks that a name asked once is not cached:
// random-subdomain queries must not fill the cache.
func TestAnswerRawDoorkeeper(t *testing.T) {
	t.Parallel()
	f := NewFastPath(exampleServer(t))
	for i := range 1000 {
		if _, ok := f.AnswerRaw(pack(t, ask(t, fmt.Sprintf("r%d.example. A", i))), "udp", nil); ok {
			t.Fatal("a name asked once was answered from the cache")
		}
	}
	if n, _ := f.cache.Load().entries.Size(); n != 0 {
		t.Errorf("%d names asked once were cached", n)
	}
	q := pack(t, ask(t, "twice.example. A"))
	if _, ok := f.AnswerRaw(q, "udp", nil); ok {
		t.Error("a name asked once was answered from the cache")
	}
	if _, ok := f.AnswerRaw(q, "udp", nil); !ok {
		t.Error("a name asked twice was not answered from the cache")
	}
}

// TestAnswerRawConcurrent serves from many goroutines while the zones are
// swapped; every reply must come from one of the two zone sets.
func TestAnswerRawConcurrent(t *testing.T) {
	t.Parallel()
	sets := [2]*zone.Set{
		zone.NewSet(dnstest.Zone(t, "example.", "@ SOA ns admin 1 2 3 4 5\n@ NS ns\nwww A 192.0.2.1\n")),
		zone.NewSet(dnstest.Zone(t, "example.", "@ SOA ns admin 1 2 3 4 5\n@ NS ns\nwww A 192.0.2.2\n")),
	}
	s, err := New(Config{Zones: sets[0]})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFastPath(s)
	queries := [][]byte{pack(t, ask(t, "www.example. A")), pack(t, ask(t, "WWW.example. A")), pack(t, ask(t, "nx.example. A"))}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			out := make([]byte, 0, 512)
			for i := range 2000 {
				reply, ok := f.AnswerRaw(queries[(g+i)%len(queries)], "udp", out)
				if !ok {
					continue
				}
				m := new(dns.Msg)
				if err := m.Unpack(reply); err != nil || m.Id != dnstest.QueryID {
					t.Errorf("reply does not unpack (%v) or has ID %d", err, m.Id)
					return
				}
			}
		})
	}
	for i := range 200 {
		s.SetZones(sets[i%2])
	}
	wg.Wait()
}

// TestAnswerRawAllocs checks that a cache hit allocates nothing, through
// RawHandler with a Limiter that allows the reply too, and that neither
// does a zone lookup of an existing name.
func TestAnswerRawAllocs(t *testing.T) {
	s := exampleServer(t)
	f := NewFastPath(s)
	limited := NewFastPathWith(s, FastPathConfig{Limiter: mustLimiter(t, ratelimit.Config{ResponsesPerSecond: 1000})})
	client := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5300}
	out := make([]byte, 0, 4096)
	for _, q := range []*dns.Msg{
		ask(t, "www.example. A"), ask(t, "WwW.example. A"), dnstest.EDNS(ask(t, "www.example. AAAA"), 1232, true),
		ask(t, "www.example. MX"), ask(t, "nx.example. A"), ask(t, "host.child.example. A"),
	} {
		wire := pack(t, q)
		if _, ok := fastWire(f, wire, "udp"); !ok {
			t.Fatalf("%v: fast path declined", q.Question[0])
		}
		if n := testing.AllocsPerRun(100, func() { f.AnswerRaw(wire, "udp", out) }); n != 0 {
			t.Errorf("%v: %.0f allocations per hit", q.Question[0], n)
		}
		if _, ok := fastWire(limited, wire, "udp"); !ok {
			t.Fatalf("%v: limited fast path declined", q.Question[0])
		}
		if n := testing.AllocsPerRun(100, func() {
			if reply, _ := limited.RawHandler(wire, "udp", client, out); len(reply) == 0 {
				t.Fatal("the limiter did not allow the reply")
			}
		}); n != 0 {
			t.Errorf("%v: %.0f allocations per rate-limited hit", q.Question[0], n)
		}
	}
	z := s.Zones().Zone("example.")
	for _, name := range []string{"www.example.", "a.ent.example.", "nx.example.", "x.wild.example."} {
		if n := testing.AllocsPerRun(100, func() { z.Lookup(name, dns.TypeA) }); n != 0 {
			t.Errorf("Lookup(%s): %.0f allocations", name, n)
		}
	}
}

// FuzzAnswerRaw feeds arbitrary octets to AnswerRaw over UDP and TCP. It
// must not panic; when it answers, the query must unpack and the reply
// must be exactly what the engine sends for it, ID included.
//
//	go test -run=^$ -fuzz=FuzzAnswerRaw -fuzztime=10s ./internal/auth/
func FuzzAnswerRaw(f *testing.F) {
	s := newServer(f, Config{NSID: "fuzz"}, fastZones(f)...)
	fast := NewFastPath(s)
	for _, m := range fuzzSeeds(f) {
		f.Add(pack(f, m))
	}
	for _, spec := range []string{"WWW.example. A", "mixed.example. MX", "up.example. A", "x.cw.example. A"} {
		f.Add(pack(f, ask(f, spec)))
		f.Add(pack(f, dnstest.EDNS(ask(f, spec), 1232, true)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for network := range strings.FieldsSeq("udp tcp") {
			reply, ok := fastWire(fast, b, network)
			if !ok {
				continue
			}
			got := new(dns.Msg)
			if err := got.Unpack(reply); err != nil {
				t.Fatalf("%s: reply does not unpack: %v", network, err)
			}
			if len(b) < 2 || got.Id != uint16(b[0])<<8|uint16(b[1]) {
				t.Fatalf("%s: reply ID %d, query %x", network, got.Id, b)
			}
			checkFast(t, fast, b, network)
		}
	})
}

// BenchmarkAnswerRaw measures cache hits of the fast path on the zone of
// BenchmarkAnswer, one query shape per sub-benchmark.
func BenchmarkAnswerRaw(b *testing.B) {
	s := benchServer(b)
	f := NewFastPath(s)
	for _, bc := range benchShapes {
		qs := make([][]byte, 1024)
		for i := range qs {
			m := ask(b, bc.q(i*9%benchNames))
			if bc.edns {
				dnstest.EDNS(m, 1232, true)
			}
			qs[i] = pack(b, m)
			if _, ok := fastWire(f, qs[i], "udp"); !ok {
				b.Fatalf("%s: fast path declined", bc.q(i))
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			out := make([]byte, 0, 4096)
			i := 0
			for b.Loop() {
				if _, ok := f.AnswerRaw(qs[i%len(qs)], "udp", out); !ok {
					b.Fatal("declined")
				}
				i++
			}
		})
	}
}

// BenchmarkAnswerRawMix measures cache hits the way scripts/bench.sh loads the
// fast path: a zone of 10,000 names and, in turn, every name of a query mix
// of 60 % existing names (A), 20 % NODATA (TXT) and 20 % NXDOMAIN, so that
// the cache's working set is the benchmark's, not a few lines kept hot.
func BenchmarkAnswerRawMix(b *testing.B) {
	const names = 10000
	var zb strings.Builder
	zb.WriteString("@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 127.0.0.1\n")
	for i := 1; i <= names; i++ {
		fmt.Fprintf(&zb, "h%d A 192.0.2.%d\n", i, i%250+1)
	}
	s := newServer(b, Config{}, dnstest.Zone(b, "bench.test.", zb.String()))
	f := NewFastPath(s)
	qs := make([][]byte, names)
	for i := range qs {
		spec := fmt.Sprintf("h%d.bench.test. A", i+1)
		switch (i + 1) % 5 {
		case 0:
			spec = fmt.Sprintf("nx%d.bench.test. A", i+1)
		case 1:
			spec = fmt.Sprintf("h%d.bench.test. TXT", i+1)
		}
		qs[i] = pack(b, ask(b, spec))
		if _, ok := fastWire(f, qs[i], "udp"); !ok {
			b.Fatalf("%s: fast path declined", spec)
		}
	}
	b.ReportAllocs()
	out := make([]byte, 0, 4096)
	i := 0
	for b.Loop() {
		if _, ok := f.AnswerRaw(qs[i], "udp", out); !ok {
			b.Fatal("declined")
		}
		if i++; i == len(qs) {
			i = 0
		}
	}
}
