package auth

import (
	"encoding/hex"
	"net"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
)

// protocolTest is a request built as raw as needed and checks on its reply.
type protocolTest struct {
	name    string
	msg     func() *dns.Msg
	tcp     bool
	noReply bool
	rcode   int // full rcode, extended bits included
	check   func(t *testing.T, got *dns.Msg)
}

func runProtocol(t *testing.T, s *Server, tests []protocolTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			network := "udp"
			if tt.tcp {
				network = "tcp"
			}
			q := tt.msg()
			got := dnstest.Exchange(t, s, q, network)
			if tt.noReply {
				if got != nil {
					t.Fatalf("got a reply, want none:\n%v", got)
				}
				return
			}
			if got == nil {
				t.Fatal("no reply")
			}
			if got.Rcode != tt.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tt.rcode])
			}
			if got.Id != q.Id || !got.Response || got.Opcode != q.Opcode {
				t.Errorf("header id %d opcode %d qr %v, want id %d opcode %d qr", got.Id, got.Opcode, got.Response, q.Id, q.Opcode)
			}
			if got.RecursionAvailable || got.Zero || got.AuthenticatedData {
				t.Errorf("ra %v z %v ad %v set in a reply", got.RecursionAvailable, got.Zero, got.AuthenticatedData)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// wwwQuery returns a builder of a query for www.example. A changed by edit.
func wwwQuery(edit func(m *dns.Msg)) func() *dns.Msg {
	return func() *dns.Msg {
		m := dnstest.Query("www.example.", dns.TypeA)
		if edit != nil {
			edit(m)
		}
		return m
	}
}

func opt(version uint8, do bool, z uint16, options ...dns.EDNS0) *dns.OPT {
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 1232}, Option: options}
	o.SetVersion(version)
	o.SetDo(do)
	o.SetZ(z)
	return o
}

func withOPT(o *dns.OPT) func() *dns.Msg {
	return wwwQuery(func(m *dns.Msg) { m.Extra = append(m.Extra, o) })
}

func hasAnswer(t *testing.T, got *dns.Msg) {
	t.Helper()
	sections{Answer: []string{"www.example. 3600 IN A 192.0.2.1"}}.Check(t, got)
}

func noOPT(t *testing.T, got *dns.Msg) {
	t.Helper()
	if o := dnstest.OPT(got); o != nil {
		t.Errorf("reply has an OPT record: %v", o)
	}
}

// wantOPT checks the reply's OPT record: version 0, our size, DO as
// given, no other flag, and exactly the options listed by code.
func wantOPT(t *testing.T, got *dns.Msg, do bool, codes ...uint16) *dns.OPT {
	t.Helper()
	o := dnstest.OPT(got)
	if o == nil {
		t.Fatal("reply has no OPT record")
	}
	if o.Version() != 0 || o.UDPSize() != 1232 || o.Do() != do || o.Z() != 0 || o.Co() {
		t.Errorf("OPT version %d size %d do %v z %#x co %v, want 0 1232 %v 0 false",
			o.Version(), o.UDPSize(), o.Do(), o.Z(), o.Co(), do)
	}
	var have []uint16
	for _, e := range o.Option {
		have = append(have, e.Option())
	}
	if len(have) != len(codes) || (len(codes) > 0 && have[0] != codes[0]) {
		t.Errorf("OPT options %v, want %v", have, codes)
	}
	return o
}

func TestHeader(t *testing.T) {
	t.Parallel()
	runProtocol(t, exampleServer(t), []protocolTest{
		{name: "response is not answered", msg: wwwQuery(func(m *dns.Msg) { m.Response = true }), noReply: true},
		{name: "unknown opcode", rcode: dns.RcodeNotImplemented,
			msg: func() *dns.Msg { m := new(dns.Msg); m.Id = 7; m.Opcode = 15; return m }},
		{name: "NOTIFY is not implemented yet", rcode: dns.RcodeNotImplemented,
			msg: wwwQuery(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify; m.Authoritative = true })},
		{name: "UPDATE", rcode: dns.RcodeNotImplemented, msg: wwwQuery(func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate })},
		{name: "no question", rcode: dns.RcodeFormatError, msg: wwwQuery(func(m *dns.Msg) { m.Question = nil })},
		{name: "two questions", rcode: dns.RcodeFormatError,
			msg: wwwQuery(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }),
			check: func(t *testing.T, got *dns.Msg) {
				if len(got.Question) != 0 {
					t.Errorf("question %v copied into a FORMERR for two questions", got.Question)
				}
			}},
		{name: "RD and CD copied, other flags cleared",
			msg: wwwQuery(func(m *dns.Msg) {
				m.RecursionDesired, m.CheckingDisabled = true, true
				m.Authoritative, m.AuthenticatedData, m.Truncated, m.RecursionAvailable, m.Zero = true, true, true, true, true
			}),
			check: func(t *testing.T, got *dns.Msg) {
				if !got.RecursionDesired || !got.CheckingDisabled || !got.Authoritative || got.Truncated {
					t.Errorf("rd %v cd %v aa %v tc %v, want rd cd aa !tc", got.RecursionDesired,
						got.CheckingDisabled, got.Authoritative, got.Truncated)
				}
				hasAnswer(t, got)
			}},
		{name: "no flags", msg: wwwQuery(nil),
			check: func(t *testing.T, got *dns.Msg) {
				if got.RecursionDesired || got.CheckingDisabled {
					t.Errorf("rd %v cd %v set without the query's", got.RecursionDesired, got.CheckingDisabled)
				}
				noOPT(t, got)
			}},
	})
}

func TestEDNS(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{NSID: "ns1.test"}, dnstest.Zone(t, "example.", exampleZone))
	unknown := &dns.EDNS0_LOCAL{Code: 100, Data: []byte{1, 2}}
	runProtocol(t, s, []protocolTest{
		{name: "OPT echoed with our size", msg: withOPT(opt(0, false, 0)),
			check: func(t *testing.T, got *dns.Msg) { wantOPT(t, got, false); hasAnswer(t, got) }},
		{name: "DO echoed", msg: withOPT(opt(0, true, 0)),
			check: func(t *testing.T, got *dns.Msg) { wantOPT(t, got, true); hasAnswer(t, got) }},
		{name: "unknown flag cleared", msg: withOPT(opt(0, false, 0x0080)),
			check: func(t *testing.T, got *dns.Msg) { wantOPT(t, got, false); hasAnswer(t, got) }},
		{name: "unknown option ignored", msg: withOPT(opt(0, false, 0, unknown)),
			check: func(t *testing.T, got *dns.Msg) { wantOPT(t, got, false); hasAnswer(t, got) }},
		{name: "version 1: BADVERS", msg: withOPT(opt(1, false, 0)), rcode: dns.RcodeBadVers,
			check: func(t *testing.T, got *dns.Msg) {
				wantOPT(t, got, false)
				sections{}.Check(t, got)
				if got.Authoritative {
					t.Error("AA set on BADVERS")
				}
			}},
		{name: "version 1 with DO and options: BADVERS", rcode: dns.RcodeBadVers,
			msg:   withOPT(opt(1, true, 0, unknown, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})),
			check: func(t *testing.T, got *dns.Msg) { wantOPT(t, got, true); sections{}.Check(t, got) }},
		{name: "two OPT records: FORMERR", rcode: dns.RcodeFormatError,
			msg:   wwwQuery(func(m *dns.Msg) { m.Extra = append(m.Extra, opt(0, false, 0), opt(0, false, 0)) }),
			check: func(t *testing.T, got *dns.Msg) { noOPT(t, got); sections{}.Check(t, got) }},
		{name: "OPT in the answer section: FORMERR", rcode: dns.RcodeFormatError,
			msg:   wwwQuery(func(m *dns.Msg) { m.Answer = append(m.Answer, opt(0, false, 0)) }),
			check: noOPT},
		{name: "OPT owner not the root: FORMERR", rcode: dns.RcodeFormatError,
			msg: wwwQuery(func(m *dns.Msg) {
				o := opt(0, false, 0)
				o.Hdr.Name = "example."
				m.Extra = append(m.Extra, o)
			}),
			check: noOPT},
		{name: "NSID asked", msg: withOPT(opt(0, false, 0, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})),
			check: func(t *testing.T, got *dns.Msg) {
				o := wantOPT(t, got, false, dns.EDNS0NSID)
				if len(o.Option) == 1 && o.Option[0].(*dns.EDNS0_NSID).Nsid != hex.EncodeToString([]byte("ns1.test")) {
					t.Errorf("NSID %v, want ns1.test", o.Option[0])
				}
				hasAnswer(t, got)
			}},
		{name: "NSID not asked", msg: withOPT(opt(0, false, 0)),
			check: func(t *testing.T, got *dns.Msg) { wantOPT(t, got, false) }},
		{name: "FORMERR keeps a valid OPT", rcode: dns.RcodeFormatError,
			msg:   wwwQuery(func(m *dns.Msg) { m.Question = nil; m.Extra = append(m.Extra, opt(0, true, 0)) }),
			check: func(t *testing.T, got *dns.Msg) { wantOPT(t, got, true) }},
	})
	runProtocol(t, exampleServer(t), []protocolTest{
		{name: "NSID asked, none configured", msg: withOPT(opt(0, false, 0, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})),
			check: func(t *testing.T, got *dns.Msg) { wantOPT(t, got, false) }},
	})
}

func tsig(orig uint16) *dns.TSIG {
	return &dns.TSIG{
		Hdr:       dns.RR_Header{Name: "key.example.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm: dns.HmacSHA256, TimeSigned: 1700000000, Fudge: 300,
		MACSize: 32, MAC: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", OrigId: orig,
	}
}

func TestTSIG(t *testing.T) {
	t.Parallel()
	runProtocol(t, exampleServer(t), []protocolTest{
		{name: "unknown key: NOTAUTH with BADKEY (RFC 8945 §5.2.2)", rcode: dns.RcodeNotAuth,
			msg: wwwQuery(func(m *dns.Msg) { m.Extra = append(m.Extra, opt(0, false, 0), tsig(m.Id)) }),
			check: func(t *testing.T, got *dns.Msg) {
				if len(got.Answer)+len(got.Ns) != 0 || len(got.Extra) != 2 {
					t.Fatalf("sections: %v", got)
				}
				ts, ok := got.Extra[1].(*dns.TSIG)
				if !ok || ts.Error != dns.RcodeBadKey || ts.MACSize != 0 || ts.Hdr.Name != "key.example." ||
					ts.Algorithm != dns.HmacSHA256 || ts.OrigId != dnstest.QueryID {
					t.Errorf("TSIG %v, want unsigned BADKEY for key.example.", got.Extra[1])
				}
				wantOPT(t, got, false)
			}},
		{name: "TSIG not last: FORMERR", rcode: dns.RcodeFormatError,
			msg: wwwQuery(func(m *dns.Msg) { m.Extra = append(m.Extra, tsig(m.Id), opt(0, false, 0)) })},
		{name: "TSIG in the answer section: FORMERR", rcode: dns.RcodeFormatError,
			msg: wwwQuery(func(m *dns.Msg) { m.Answer = append(m.Answer, tsig(m.Id)) })},
	})
}

// plainWriter is a ResponseWriter without a Network method: ServeDNS
// must find the transport from the remote address.
type plainWriter struct{ dns.ResponseWriter }

func TestNetworkFromRemoteAddr(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, bigZone(t))
	for _, tt := range []struct {
		remote net.Addr
		tc     bool
	}{
		{&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}, true},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}, false},
		{nil, true},
	} {
		rec := dnstest.NewRecorder("tcp") // its Network is hidden by plainWriter
		rec.Remote = tt.remote
		if tt.remote == nil {
			rec.Net = "udp"
		}
		s.ServeDNS(plainWriter{rec}, ask(t, "big.test. TXT"))
		if rec.Msg == nil || rec.Msg.Truncated != tt.tc {
			t.Errorf("remote %v: reply %v, want TC=%v", tt.remote, rec.Msg, tt.tc)
		}
	}
}
