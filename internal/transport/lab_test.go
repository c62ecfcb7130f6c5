package transport

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// TestDo53LocalAddrFixesSourcePort: the lab-only LocalAddr makes every
// UDP attempt leave from one address and port, which is what switching
// off source-port randomisation means (RFC 5452 section 9.2).
func TestDo53LocalAddrFixesSourcePort(t *testing.T) {
	t.Parallel()
	from := make(chan netip.AddrPort, 2)
	addr := serveDNS(t, "udp", func(w dns.ResponseWriter, q *dns.Msg) {
		from <- w.RemoteAddr().(*net.UDPAddr).AddrPort()
		w.WriteMsg(reply(q, "www.example.test. 300 IN A 192.0.2.1"))
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	local := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	pc.Close() // free again: the exchanges bind it one after the other
	d := &Do53{Addr: addr, LocalAddr: local}
	for i := range 2 {
		if _, err := d.Exchange(context.Background(), query("www.example.test.")); err != nil {
			t.Fatalf("exchange %d: %v", i, err)
		}
		if got := <-from; got != local {
			t.Errorf("exchange %d came from %s, want %s", i, got, local)
		}
	}
}

// TestDo53IgnoreNearMisses: with the lab-only IgnoreNearMisses a flood of
// more than maxNearMisses wrong IDs no longer moves the query to TCP; the
// attempt keeps reading and takes the matching reply that follows.
func TestDo53IgnoreNearMisses(t *testing.T) {
	t.Parallel()
	const flood = 4 * maxNearMisses
	udp := rawUDP(t, func(q *dns.Msg) [][]byte {
		var out [][]byte
		for i := range flood {
			r := reply(q, "www.example.test. 300 IN A 203.0.113.66")
			r.Id = q.Id + uint16(i) + 1
			out = append(out, wire(r))
		}
		return append(out, wire(reply(q, "www.example.test. 300 IN A 192.0.2.1")))
	})
	d := &Do53{Addr: "192.0.2.53:53", Timeout: shortTimeout, IgnoreNearMisses: true, Dial: mapDial(udp, "", nil)}
	r, out, err := d.ExchangeOutcome(context.Background(), query("www.example.test."))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != "192.0.2.1" {
		t.Errorf("accepted %v, want the matching UDP reply", r.Answer)
	}
	if out.NearMisses != flood || out.Network != "udp" {
		t.Errorf("outcome = %+v, want %d near misses, still udp", out, flood)
	}
}
