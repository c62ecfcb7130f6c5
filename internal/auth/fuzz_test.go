package auth

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
)

// FuzzAnswer feeds arbitrary messages to Answer over UDP and TCP. For
// every message that unpacks: no panic; a response (QR=1) gets no reply;
// any other gets one that packs and unpacks again with the query's ID and
// question, fits 512 octets over UDP without EDNS and MaxUDPSize with it;
// and the query is not changed.
//
//	go test -run=^$ -fuzz=FuzzAnswer -fuzztime=10s ./internal/auth/
func FuzzAnswer(f *testing.F) {
	s := newServer(f, Config{NSID: "fuzz", Version: "rensa", ID: "ns1"},
		dnstest.Zone(f, "example.", exampleZone), bigZone(f), referralZone(f))
	for _, m := range fuzzSeeds(f) {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if req.Unpack(b) != nil {
			return
		}
		before, err := req.Pack()
		if err != nil {
			return // some unpacked messages do not pack again; not ours to answer
		}
		for _, network := range []string{"udp", "tcp"} {
			checkFuzzReply(t, req, s.Answer(req, network), network)
		}
		if after, err := req.Pack(); err != nil || !bytes.Equal(before, after) {
			t.Fatalf("Answer changed the query (%v)", err)
		}
	})
}

func checkFuzzReply(t *testing.T, req, got *dns.Msg, network string) {
	t.Helper()
	if req.Response {
		if got != nil {
			t.Fatalf("%s: reply to a response", network)
		}
		return
	}
	if got == nil {
		t.Fatalf("%s: no reply", network)
	}
	wire, err := got.Pack()
	if err != nil {
		t.Fatalf("%s: reply does not pack: %v\n%v", network, err, got)
	}
	back := new(dns.Msg)
	if err := back.Unpack(wire); err != nil {
		t.Fatalf("%s: reply does not unpack: %v\n%v", network, err, got)
	}
	if back.Id != req.Id || !back.Response {
		t.Fatalf("%s: reply id %d qr %v, query id %d", network, back.Id, back.Response, req.Id)
	}
	if len(req.Question) == 1 && (len(back.Question) != 1 || back.Question[0] != req.Question[0]) {
		t.Fatalf("%s: question %v, want %v", network, back.Question, req.Question)
	}
	limit := defaultMaxUDPSize
	if req.IsEdns0() == nil {
		limit = minUDPSize
	}
	if network == "udp" && len(wire) > limit {
		t.Fatalf("udp: reply of %d octets, limit %d\n%v", len(wire), limit, got)
	}
}

// fuzzSeeds are queries that reach each part of the engine.
func fuzzSeeds(t testing.TB) []*dns.Msg {
	var seeds []*dns.Msg
	for _, spec := range []string{
		"www.example. A", "WWW.Example. ANY", "alias.example. A", "chain1.example. A", "loop1.example. A",
		"dangling.example. A", "host.dz.example. A", "a.b.dn.example. A", "host3.wild.example. MX",
		"a.cwloop.example. A", "host.child.example. A", "child.example. DS", "nx.example. A",
		"big.test. TXT", "big.test. ANY", "host.a.ref.test. A", "host.b.ref.test. A",
		"version.bind. TXT CH", "example. AXFR", "www.example. A ANY", "example.org. A",
	} {
		m := ask(t, spec)
		seeds = append(seeds, m, dnstest.EDNS(ask(t, spec), 4096, true, &dns.EDNS0_NSID{Code: dns.EDNS0NSID}))
	}
	badvers := dnstest.EDNS(ask(t, "www.example. A"), 1232, false)
	badvers.Extra[0].(*dns.OPT).SetVersion(1)
	signed := ask(t, "www.example. A")
	signed.Extra = append(signed.Extra, tsig(signed.Id))
	twoOPT := dnstest.EDNS(dnstest.EDNS(ask(t, "www.example. A"), 512, false), 512, false)
	notify := ask(t, "example. SOA")
	notify.Opcode = dns.OpcodeNotify
	return append(seeds, badvers, signed, twoOPT, notify, new(dns.Msg))
}
