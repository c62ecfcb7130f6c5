package ratelimit

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/dnstest"
)

// slipCases are responses of every shape SlipReply must handle: with and
// without EDNS, options, extended rcodes, records in every section and
// compressed names.
func slipCases(t testing.TB) map[string]*dns.Msg {
	positive := func(name string, qtype uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(dnstest.Query(name, qtype))
		m.Authoritative, m.RecursionAvailable = true, true
		m.Answer = []dns.RR{dnstest.RR(t, name+" 60 IN A 192.0.2.1"), dnstest.RR(t, name+" 60 IN A 192.0.2.2")}
		m.Ns = []dns.RR{dnstest.RR(t, "example.com. 60 IN NS ns.example.com.")}
		m.Extra = []dns.RR{dnstest.RR(t, "ns.example.com. 60 IN A 192.0.2.53")}
		return m
	}
	cases := map[string]*dns.Msg{
		"plain": positive("www.example.com.", dns.TypeA),
		"edns-do": func() *dns.Msg {
			m := positive("WwW.Example.com.", dns.TypeA)
			m.SetEdns0(1232, true)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "6e73"}}
			return m
		}(),
		"opt-first": func() *dns.Msg {
			m := positive("www.example.com.", dns.TypeA)
			m.SetEdns0(4096, false)
			m.Extra = append([]dns.RR{m.Extra[1]}, m.Extra[0])
			return m
		}(),
		"badcookie": func() *dns.Msg {
			m := new(dns.Msg)
			m.SetRcode(dnstest.Query("example.com.", dns.TypeTXT), dns.RcodeBadCookie)
			m.SetEdns0(1232, false)
			return m
		}(),
		"nxdomain-no-question-case": func() *dns.Msg {
			m := new(dns.Msg)
			m.SetRcode(dnstest.Query("nx.example.com.", dns.TypeA), dns.RcodeNameError)
			m.Ns = []dns.RR{dnstest.RR(t, "example.com. 300 IN SOA ns.example.com. admin.example.com. 1 2 3 4 5")}
			return m
		}(),
		"empty": func() *dns.Msg {
			m := new(dns.Msg)
			m.Response = true
			return m
		}(),
	}
	for _, m := range cases {
		m.Compress = true
	}
	return cases
}

// TestSlipReplyMatchesMiddleware: SlipReply of a packed response is the
// middleware's slip reply for it, octet for octet, and no longer than the
// response.
func TestSlipReplyMatchesMiddleware(t *testing.T) {
	t.Parallel()
	for name, m := range slipCases(t) {
		wire, err := m.Pack()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := slip(m).Pack()
		if err != nil {
			t.Fatalf("%s: slip: %v", name, err)
		}
		n := len(wire)
		got, ok := SlipReply(wire)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: SlipReply = %x, %v\nwant %x", name, got, ok, want)
		}
		if len(got) > n {
			t.Errorf("%s: slip reply of %d octets for a response of %d", name, len(got), n)
		}
	}
}

// TestSlipReplyMalformed: every prefix of a response, and junk, is refused
// or slipped without a panic.
func TestSlipReplyMalformed(t *testing.T) {
	t.Parallel()
	wire, err := slipCases(t)["edns-do"].Pack()
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(wire) {
		if _, ok := SlipReply(bytes.Clone(wire[:n])); ok {
			t.Errorf("prefix of %d octets slipped", n)
		}
	}
	loop := []byte{0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1}
	if got, ok := SlipReply(loop); !ok || len(got) != len(loop) {
		t.Errorf("a question name that is a pointer: %x, %v", got, ok)
	}
	long := append(make([]byte, headerLen), bytes.Repeat([]byte{1, 'a'}, 300)...)
	long[5] = 1
	if _, ok := SlipReply(long); ok {
		t.Error("a name of 300 labels slipped")
	}
}

// FuzzSlipReply: SlipReply never panics, never grows the message, and what
// it makes of a message that unpacks unpacks too, as a TC=1 reply without
// records.
//
//	go test -run=^$ -fuzz=FuzzSlipReply -fuzztime=10s ./internal/ratelimit/
func FuzzSlipReply(f *testing.F) {
	for _, m := range slipCases(f) {
		wire, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := new(dns.Msg)
		unpacks := in.Unpack(b) == nil
		n := len(b)
		got, ok := SlipReply(bytes.Clone(b))
		if !ok {
			return
		}
		if len(got) > n {
			t.Fatalf("grew %d -> %d octets", n, len(got))
		}
		out := new(dns.Msg)
		if unpacks && (out.Unpack(got) != nil || !out.Truncated || len(out.Answer)+len(out.Ns) != 0 || len(out.Extra) > 1) {
			t.Fatalf("slip of %x is %x: %v", b, got, out)
		}
	})
}

// TestDecideKeyMatchesMiddleware: DecideKey on precomputed keys decides
// what the middleware decides for the same responses at the same times,
// and counts the same; TCP is exempt and Disabled counts nothing.
func TestDecideKeyMatchesMiddleware(t *testing.T) {
	t.Parallel()
	h, viaMsg, c := newRRL(t, Config{}, &answerer{})
	byKey, err := newLimiter(Config{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	resp := new(dns.Msg)
	resp.SetQuestion("Example.com.", dns.TypeA)
	resp.Answer = []dns.RR{dnstest.RR(t, "example.com. 60 IN A 192.0.2.1")}
	key := Classify(resp)
	for step := range 120 {
		if step%7 == 0 {
			c.advance(300 * time.Millisecond)
		}
		client := []string{"192.0.2.1", "192.0.2.77", "198.51.100.1"}[step%3]
		want := outcome(ask(h, "udp", client, "example.com.", dns.TypeA))
		got := byKey.DecideKey(netip.MustParseAddr(client), key, "udp")
		if (want == "tc") != (got == Slip) || (want == "drop") != (got == Drop) {
			t.Fatalf("step %d, client %s: DecideKey %s, middleware %s", step, client, got, want)
		}
	}
	if a, b := viaMsg.Stats(), byKey.Stats(); a != b {
		t.Errorf("stats differ: middleware %+v, DecideKey %+v", a, b)
	}
	for range 20 {
		if got := byKey.DecideKey(netip.MustParseAddr("192.0.2.1"), key, "tcp"); got != Answer {
			t.Fatalf("tcp: %s", got)
		}
	}
	if st := byKey.Stats(); st.Exempt != 20 {
		t.Errorf("tcp exempt counted %d, want 20", st.Exempt)
	}
	off, _ := newLimiter(Config{Disabled: true})
	for range 20 {
		if got := off.DecideKey(netip.MustParseAddr("192.0.2.1"), key, "udp"); got != Answer {
			t.Fatalf("disabled: %s", got)
		}
	}
	if st := off.Stats(); st != (Stats{}) {
		t.Errorf("disabled counted %+v", st)
	}
	mapped := netip.AddrFrom16(netip.MustParseAddr("::ffff:192.0.2.9").As16())
	byKey.DecideKey(mapped, key, "udp")
	if st := byKey.Stats(); st.Entries != 2 {
		t.Errorf("an IPv4-mapped client made a new entry: %d entries, want 2", st.Entries)
	}
}
