package dnstest

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// echo answers every query with one A record for the question's name.
type echo struct{}

func (echo) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Answer = append(m.Answer, &dns.A{
		Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
		A:   net.IPv4(192, 0, 2, 1),
	})
	if _, tcp := w.RemoteAddr().(*net.TCPAddr); tcp {
		m.Answer = append(m.Answer, m.Answer[0])
	}
	_ = w.WriteMsg(m)
}

func TestExchange(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			got := Exchange(t, echo{}, Query("WWW.example", dns.TypeA), network)
			if got == nil || got.Id != QueryID || got.Question[0].Name != "WWW.example." {
				t.Fatalf("reply = %v", got)
			}
			want := Sections{Answer: []string{"WWW.example. 60 IN A 192.0.2.1"}}
			if network == "tcp" {
				want.Answer = append(want.Answer, want.Answer[0])
			}
			want.Check(t, got)
		})
	}
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	rec := NewRecorder("")
	if rec.Network() != "udp" {
		t.Errorf("Network() = %q, want udp", rec.Network())
	}
	if _, ok := rec.RemoteAddr().(*net.UDPAddr); !ok {
		t.Errorf("RemoteAddr() = %T, want *net.UDPAddr", rec.RemoteAddr())
	}
	if _, ok := NewRecorder("tcp").LocalAddr().(*net.TCPAddr); !ok {
		t.Errorf("tcp LocalAddr() is not a *net.TCPAddr")
	}
	if _, err := rec.Write([]byte{1, 2, 3}); err == nil {
		t.Errorf("Write(garbage) succeeded")
	}
	if err := rec.WriteMsg(EDNS(Query("a.test", dns.TypeTXT), 1232, true)); err != nil {
		t.Fatal(err)
	}
	if rec.Writes != 1 || rec.Msg == nil || len(rec.Wire) == 0 {
		t.Fatalf("recorded %d writes, msg %v", rec.Writes, rec.Msg)
	}
	opt := OPT(rec.Msg)
	if opt == nil || opt.UDPSize() != 1232 || !opt.Do() {
		t.Errorf("OPT = %v, want size 1232 and DO", opt)
	}
}

func TestZone(t *testing.T) {
	t.Parallel()
	z := Zone(t, "example", `
$TTL 300
@    IN SOA ns.example. admin.example. 1 2 3 4 5
www     A   192.0.2.1
a.b.c   TXT "deep"`)
	if z.Origin != "example." || z.SOA() == nil {
		t.Fatalf("zone origin %q, SOA %v", z.Origin, z.SOA())
	}
	if n := z.Node("WWW.example."); n == nil || n.RRsets[dns.TypeA][0].Header().Ttl != 300 {
		t.Errorf("www.example. A not found with TTL 300")
	}
	if n := z.Node("b.c.example."); n == nil || !n.Empty() {
		t.Errorf("b.c.example. is not an empty non-terminal")
	}
}

func TestSectionsDiff(t *testing.T) {
	t.Parallel()
	m := new(dns.Msg)
	m.Answer = []dns.RR{RR(t, "a.example. 60 IN A 192.0.2.1"), RR(t, "a.example. 60 IN A 192.0.2.2")}
	m.Ns = []dns.RR{RR(t, "example. 60 IN NS ns.example.")}
	m.Extra = []dns.RR{&dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}}

	same := Sections{
		Answer: []string{"a.example.  60 IN A 192.0.2.2", "a.example. 60 IN A 192.0.2.1"},
		Ns:     []string{"example. 60 IN NS ns.example."},
	}
	if d := same.Diff(m); d != "" {
		t.Errorf("equal sections differ:\n%s", d)
	}

	other := Sections{
		Answer: []string{"a.example. 60 IN A 192.0.2.1", "A.example. 60 IN A 192.0.2.2"},
		Extra:  []string{"ns.example. 60 IN A 192.0.2.53"},
	}
	want := strings.Join([]string{
		"answer:",
		"- A.example. 60 IN A 192.0.2.2",
		"+ a.example. 60 IN A 192.0.2.2",
		"authority:",
		"+ example. 60 IN NS ns.example.",
		"additional:",
		"- ns.example. 60 IN A 192.0.2.53",
		"",
	}, "\n")
	if d := other.Diff(m); d != want {
		t.Errorf("Diff =\n%s\nwant\n%s", d, want)
	}

	bad := Sections{Answer: []string{"a.example. 60 IN A not-an-address"}}
	if d := bad.Diff(m); !strings.Contains(d, `want line "a.example. 60 IN A not-an-address" does not parse`) {
		t.Errorf("Diff with a bad want line =\n%s", d)
	}
}

// TestParseRcvbufErrors reads the count from /proc/net/snmp's layout.
func TestParseRcvbufErrors(t *testing.T) {
	snmp := "Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n" +
		"Udp: 10 2 3 9 57 0\nUdpLite: InDatagrams\nUdpLite: 0\n"
	if n, ok := parseRcvbufErrors(snmp); !ok || n != 57 {
		t.Errorf("parseRcvbufErrors = %d, %v; want 57, true", n, ok)
	}
	if _, ok := parseRcvbufErrors("Udp: InDatagrams\nUdp: 10\n"); ok {
		t.Error("no RcvbufErrors column: ok, want false")
	}
}
