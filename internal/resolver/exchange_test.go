package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/transport"
)

// udpPeer is a scripted UDP server on loopback: for each query it gets,
// reply returns the datagrams to send back, in order.
type udpPeer struct {
	conn  net.PacketConn
	mu    sync.Mutex
	ports map[int]bool // source ports the queries came from
}

func startUDPPeer(t *testing.T, reply func(q *dns.Msg) []*dns.Msg) (*udpPeer, netip.AddrPort) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &udpPeer{conn: conn, ports: map[int]bool{}}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			p.mu.Lock()
			p.ports[from.(*net.UDPAddr).Port] = true
			p.mu.Unlock()
			for _, r := range reply(q) {
				b, err := r.Pack()
				if err == nil {
					conn.WriteTo(b, from)
				}
			}
		}
	}()
	return p, netip.MustParseAddrPort(conn.LocalAddr().String())
}

func answerTo(q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(q)
	rr, _ := dns.NewRR(q.Question[0].Name + " 300 IN A 192.0.2.1")
	r.Answer = append(r.Answer, rr)
	return r
}

func testQuery(name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.RecursionDesired = false
	m.SetEdns0(udpSize, true)
	return m
}

// TestUDPExchangeFreshPortAndID: each query goes out from its own socket
// (the system's random port) with a random ID, and the reply comes back
// decoded.
func TestUDPExchangeFreshPortAndID(t *testing.T) {
	peer, addr := startUDPPeer(t, func(q *dns.Msg) []*dns.Msg { return []*dns.Msg{answerTo(q)} })
	ex := do53Exchange(nil, netip.AddrPort{}, false)
	ids := map[uint16]bool{}
	const n = 20
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, err := ex(ctx, addr, testQuery("wWw.Example.TEST."), false)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Answer) != 1 || r.Question[0].Name != "wWw.Example.TEST." {
			t.Fatalf("reply %v", r)
		}
		ids[r.Id] = true
	}
	peer.mu.Lock()
	ports := len(peer.ports)
	peer.mu.Unlock()
	// Ports and IDs are random: n draws of 16 bits coincide rarely;
	// allow a few repeats.
	if ports < n-3 || len(ids) < n-3 {
		t.Errorf("%d queries came from %d ports with %d IDs, want about %d of each", n, ports, len(ids), n)
	}
}

// TestUDPExchangeNearMisses: datagrams with another ID, without QR, or
// with the question in another case are ignored; the real reply after
// them is taken.
func TestUDPExchangeNearMisses(t *testing.T) {
	_, addr := startUDPPeer(t, func(q *dns.Msg) []*dns.Msg {
		wrongID := answerTo(q)
		wrongID.Id++
		noQR := answerTo(q)
		noQR.Response = false
		wrongCase := answerTo(q)
		wrongCase.Question[0].Name = "www.example.test."
		return []*dns.Msg{wrongID, noQR, wrongCase, answerTo(q)}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	d := &transport.Do53{Addr: addr.String(), Timeout: time.Second}
	r, out, err := d.ExchangeOutcome(ctx, testQuery("WWW.example.test."))
	if err != nil || out.NearMisses != 3 || out.Network != "udp" || len(r.Answer) != 1 {
		t.Fatalf("reply %v, %d misses over %s, err %v; want the answer after 3 misses over UDP", r, out.NearMisses, out.Network, err)
	}
}

// TestUDPExchangeTimeout: a silent server is a transport.ErrTimeout when
// the attempt's deadline passes.
func TestUDPExchangeTimeout(t *testing.T) {
	_, addr := startUDPPeer(t, func(*dns.Msg) []*dns.Msg { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := do53Exchange(nil, netip.AddrPort{}, false)(ctx, addr, testQuery("www.example.test."), false)
	if !errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
}

// TestUDPExchangeTruncatedGoesTCP: TC=1 over UDP is asked again over TCP
// and the TCP answer is returned; only forgeries (no matching reply) end
// over TCP as well, and when TCP fails too the error says mismatch.
func TestUDPExchangeTruncatedGoesTCP(t *testing.T) {
	_, addr := startUDPPeer(t, func(q *dns.Msg) []*dns.Msg {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Truncated = true
		return []*dns.Msg{r}
	})
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		t.Skipf("TCP port %d taken: %v", addr.Port(), err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		r := answerTo(q)
		r.Answer = append(r.Answer, r.Answer[0])
		w.WriteMsg(r)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, err := do53Exchange(nil, netip.AddrPort{}, false)(ctx, addr, testQuery("big.example.test."), false)
	if err != nil || r.Truncated || len(r.Answer) != 2 {
		t.Fatalf("reply %v, err %v; want the TCP answer", r, err)
	}

	_, forged := startUDPPeer(t, func(q *dns.Msg) []*dns.Msg {
		r := answerTo(q)
		r.Id++
		return []*dns.Msg{r}
	})
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := do53Exchange(nil, netip.AddrPort{}, false)(ctx, forged, testQuery("www.example.test."), false); !errors.Is(err, transport.ErrMismatch) {
		t.Fatalf("only forgeries: err %v, want ErrMismatch", err)
	}
}
