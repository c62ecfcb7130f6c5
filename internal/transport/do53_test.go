package transport

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// shortTimeout bounds attempts that are meant to time out; it keeps the
// suite fast without being a synchronisation sleep.
const shortTimeout = 200 * time.Millisecond

func TestDo53UDP(t *testing.T) {
	t.Parallel()
	addr := serveDNS(t, "udp", func(w dns.ResponseWriter, q *dns.Msg) {
		w.WriteMsg(reply(q, "www.example.test. 300 IN A 192.0.2.1"))
	})
	m := query("www.example.test.")
	m.Id = 42
	before := m.String()

	d := &Do53{Addr: addr}
	r, out, err := d.ExchangeOutcome(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].String() != mustRR("www.example.test. 300 IN A 192.0.2.1").String() {
		t.Errorf("answer = %v", r.Answer)
	}
	if out.Network != "udp" || out.Truncated || out.NearMisses != 0 || out.Size != r.Len() {
		t.Errorf("outcome = %+v, want udp, no TC, no near misses, size %d", out, r.Len())
	}
	if m.String() != before {
		t.Errorf("Exchange modified the caller's query:\n%s\nwant\n%s", m, before)
	}
}

func TestDo53ServfailIsAReply(t *testing.T) {
	t.Parallel()
	addr := serveDNS(t, "udp", func(w dns.ResponseWriter, q *dns.Msg) {
		r := reply(q)
		r.Rcode = dns.RcodeServerFailure
		w.WriteMsg(r)
	})
	r, err := (&Do53{Addr: addr}).Exchange(context.Background(), query("www.example.test."))
	if err != nil {
		t.Fatalf("SERVFAIL returned an error: %v", err)
	}
	if r.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode = %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
}

func TestDo53TruncatedFallsBackToTCP(t *testing.T) {
	t.Parallel()
	udp := serveDNS(t, "udp", func(w dns.ResponseWriter, q *dns.Msg) {
		r := reply(q)
		r.Truncated = true
		w.WriteMsg(r)
	})
	tcp := serveDNS(t, "tcp", func(w dns.ResponseWriter, q *dns.Msg) {
		w.WriteMsg(reply(q, "big.example.test. 300 IN TXT \"full answer\""))
	})
	var dialled []string
	d := &Do53{Addr: "192.0.2.53:53", Dial: mapDial(udp, tcp, &dialled)}
	r, out, err := d.ExchangeOutcome(context.Background(), query("big.example.test."))
	if err != nil {
		t.Fatal(err)
	}
	if r.Truncated || len(r.Answer) != 1 {
		t.Errorf("got TC=%v with %d answers, want the full TCP answer", r.Truncated, len(r.Answer))
	}
	if !out.Truncated || out.Network != "tcp" {
		t.Errorf("outcome = %+v, want Truncated over tcp", out)
	}
	if want := []string{"udp", "tcp"}; !slices.Equal(dialled, want) {
		t.Errorf("dialled %v, want %v", dialled, want)
	}
}

func TestDo53TruncatedAndNoTCPIsAnError(t *testing.T) {
	t.Parallel()
	udp := serveDNS(t, "udp", func(w dns.ResponseWriter, q *dns.Msg) {
		r := reply(q)
		r.Truncated = true
		w.WriteMsg(r)
	})
	d := &Do53{Addr: "192.0.2.53:53", Dial: mapDial(udp, "", nil)}
	_, out, err := d.ExchangeOutcome(context.Background(), query("big.example.test."))
	if !errors.Is(err, errNoListener) {
		t.Errorf("err = %v, want the TCP dial error", err)
	}
	if !out.Truncated {
		t.Error("outcome does not record the truncated UDP reply")
	}
}

func TestDo53ForceTCP(t *testing.T) {
	t.Parallel()
	tcp := serveDNS(t, "tcp", func(w dns.ResponseWriter, q *dns.Msg) {
		w.WriteMsg(reply(q, "www.example.test. 300 IN A 192.0.2.1"))
	})
	var dialled []string
	d := &Do53{Addr: "192.0.2.53:53", ForceTCP: true, Dial: mapDial("", tcp, &dialled)}
	r, out, err := d.ExchangeOutcome(context.Background(), query("www.example.test."))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || out.Network != "tcp" || !slices.Equal(dialled, []string{"tcp"}) {
		t.Errorf("answers %d, outcome %+v, dialled %v; want 1 answer over tcp only", len(r.Answer), out, dialled)
	}
}

// TestDo53NearMissThenReply sends a mismatching reply before the real one:
// the mismatch is ignored and counted, the real reply accepted over UDP.
func TestDo53NearMissThenReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoof func(q *dns.Msg) *dns.Msg
	}{
		{"wrong ID", func(q *dns.Msg) *dns.Msg {
			r := reply(q, "www.example.test. 300 IN A 203.0.113.66")
			r.Id = q.Id + 1
			return r
		}},
		{"wrong question case", func(q *dns.Msg) *dns.Msg {
			r := reply(q, "www.example.test. 300 IN A 203.0.113.66")
			r.Question[0].Name = strings.ToUpper(q.Question[0].Name)
			return r
		}},
		{"wrong type", func(q *dns.Msg) *dns.Msg {
			r := reply(q, "www.example.test. 300 IN AAAA 2001:db8::66")
			r.Question[0].Qtype = dns.TypeAAAA
			return r
		}},
		{"wrong class", func(q *dns.Msg) *dns.Msg {
			r := reply(q)
			r.Question[0].Qclass = dns.ClassCHAOS
			return r
		}},
		{"query echoed", func(q *dns.Msg) *dns.Msg { return q }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			udp := rawUDP(t, func(q *dns.Msg) [][]byte {
				return [][]byte{wire(tt.spoof(q)), wire(reply(q, "wWw.example.TEST. 300 IN A 192.0.2.1"))}
			})
			d := &Do53{Addr: "192.0.2.53:53", Dial: mapDial(udp, "", nil)}
			r, out, err := d.ExchangeOutcome(context.Background(), query("wWw.example.TEST."))
			if err != nil {
				t.Fatal(err)
			}
			if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != "192.0.2.1" {
				t.Errorf("accepted %v, want the real reply", r.Answer)
			}
			if out.NearMisses != 1 || out.Network != "udp" {
				t.Errorf("outcome = %+v, want 1 near miss over udp", out)
			}
		})
	}
}

// TestDo53OnlyNearMissesFallBackToTCP: when only mismatching replies come
// over UDP, the query is repeated over TCP (RFC 5452 section 9.1).
func TestDo53OnlyNearMissesFallBackToTCP(t *testing.T) {
	t.Parallel()
	udp := rawUDP(t, func(q *dns.Msg) [][]byte {
		r := reply(q, "www.example.test. 300 IN A 203.0.113.66")
		r.Id = ^q.Id
		return [][]byte{wire(r)}
	})
	tcp := rawTCP(t, func(q *dns.Msg) [][]byte {
		return [][]byte{wire(reply(q, "www.example.test. 300 IN A 192.0.2.1"))}
	})
	d := &Do53{Addr: "192.0.2.53:53", Timeout: shortTimeout, Dial: mapDial(udp, tcp, nil)}
	r, out, err := d.ExchangeOutcome(context.Background(), query("www.example.test."))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != "192.0.2.1" {
		t.Errorf("accepted %v, want the TCP reply", r.Answer)
	}
	if out.NearMisses != 1 || out.Network != "tcp" || out.Truncated {
		t.Errorf("outcome = %+v, want 1 near miss then tcp", out)
	}
}

// TestDo53SpoofFloodAbandonsUDP: maxNearMisses mismatches end the UDP
// attempt at once, without waiting for the timeout.
func TestDo53SpoofFloodAbandonsUDP(t *testing.T) {
	t.Parallel()
	udp := rawUDP(t, func(q *dns.Msg) [][]byte {
		var out [][]byte
		for i := range maxNearMisses {
			r := reply(q, "www.example.test. 300 IN A 203.0.113.66")
			r.Id = q.Id + uint16(i) + 1
			out = append(out, wire(r))
		}
		return out
	})
	tcp := rawTCP(t, func(q *dns.Msg) [][]byte {
		return [][]byte{wire(reply(q, "www.example.test. 300 IN A 192.0.2.1"))}
	})
	// A timeout far beyond the test's patience: only the flood rule can
	// end the UDP attempt in time.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := &Do53{Addr: "192.0.2.53:53", Timeout: time.Hour, Dial: mapDial(udp, tcp, nil)}
	_, out, err := d.ExchangeOutcome(ctx, query("www.example.test."))
	if err != nil {
		t.Fatal(err)
	}
	if out.NearMisses != maxNearMisses || out.Network != "tcp" {
		t.Errorf("outcome = %+v, want %d near misses then tcp", out, maxNearMisses)
	}
}

// TestDo53WrongCaseOnlyIsRejected: a reply whose question differs only in
// case is never accepted, over UDP or TCP.
func TestDo53WrongCaseOnlyIsRejected(t *testing.T) {
	t.Parallel()
	wrongCase := func(q *dns.Msg) [][]byte {
		r := reply(q, "www.example.test. 300 IN A 203.0.113.66")
		r.Question[0].Name = strings.ToLower(q.Question[0].Name)
		return [][]byte{wire(r)}
	}
	udp, tcp := rawUDP(t, wrongCase), rawTCP(t, wrongCase)
	d := &Do53{Addr: "192.0.2.53:53", Timeout: shortTimeout, Dial: mapDial(udp, tcp, nil)}
	r, out, err := d.ExchangeOutcome(context.Background(), query("WwW.eXample.test."))
	if !errors.Is(err, ErrMismatch) {
		t.Errorf("err = %v, want ErrMismatch", err)
	}
	if r != nil {
		t.Errorf("accepted %v", r)
	}
	if out.NearMisses != 2 || out.Network != "tcp" {
		t.Errorf("outcome = %+v, want 2 near misses, ending over tcp", out)
	}
}

func TestDo53Timeout(t *testing.T) {
	t.Parallel()
	udp := rawUDP(t, func(*dns.Msg) [][]byte { return nil }) // never answers
	var dialled []string
	d := &Do53{Addr: "192.0.2.53:53", Timeout: shortTimeout, Dial: mapDial(udp, "", &dialled)}
	_, out, err := d.ExchangeOutcome(context.Background(), query("www.example.test."))
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", err)
	}
	if !strings.HasPrefix(err.Error(), "transport: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if out.Network != "udp" || !slices.Equal(dialled, []string{"udp"}) {
		t.Errorf("outcome %+v, dialled %v: a plain timeout must not fall back to TCP", out, dialled)
	}
}

func TestDo53ContextDeadline(t *testing.T) {
	t.Parallel()
	udp := rawUDP(t, func(*dns.Msg) [][]byte { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), shortTimeout)
	defer cancel()
	d := &Do53{Addr: "192.0.2.53:53", Timeout: time.Hour, Dial: mapDial(udp, "", nil)}
	_, err := d.Exchange(ctx, query("www.example.test."))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrTimeout and context.DeadlineExceeded", err)
	}
}

// TestDo53Cancel cancels the context when the server sees the query: the
// exchange returns at once with context.Canceled.
func TestDo53Cancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp := rawUDP(t, func(*dns.Msg) [][]byte {
		cancel()
		return nil
	})
	d := &Do53{Addr: "192.0.2.53:53", Timeout: time.Hour, Dial: mapDial(udp, "", nil)}
	_, err := d.Exchange(ctx, query("www.example.test."))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want context.Canceled and not ErrTimeout", err)
	}
}

// TestDo53IDsFromRand checks that each exchange draws its ID from Rand,
// big-endian, that the wire ID is what the server sees and what the reply
// carries, and that an exhausted Rand is an error, not a fixed ID.
func TestDo53IDsFromRand(t *testing.T) {
	t.Parallel()
	seen := make(chan uint16, 2)
	udp := rawUDP(t, func(q *dns.Msg) [][]byte {
		seen <- q.Id
		return [][]byte{wire(reply(q))}
	})
	d := &Do53{
		Addr: "192.0.2.53:53",
		Rand: bytes.NewReader([]byte{0x12, 0x34, 0xab, 0xcd, 0x99}),
		Dial: mapDial(udp, "", nil),
	}
	m := query("www.example.test.")
	m.Id = 1
	for _, want := range []uint16{0x1234, 0xabcd} {
		r, err := d.Exchange(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if got := <-seen; got != want || r.Id != want {
			t.Errorf("server saw ID %#04x, reply has %#04x, want %#04x", got, r.Id, want)
		}
	}
	if m.Id != 1 {
		t.Errorf("caller's ID changed to %d", m.Id)
	}
	_, err := d.Exchange(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "query ID") {
		t.Errorf("exhausted Rand: err = %v, want an ID error", err)
	}
}

func TestDo53TCPNearMissThenReply(t *testing.T) {
	t.Parallel()
	tcp := rawTCP(t, func(q *dns.Msg) [][]byte {
		bad := reply(q)
		bad.Id = q.Id ^ 0xffff
		return [][]byte{wire(bad), []byte{1, 2, 3}, wire(reply(q, "www.example.test. 300 IN A 192.0.2.1"))}
	})
	d := &Do53{Addr: "192.0.2.53:53", ForceTCP: true, Dial: mapDial("", tcp, nil)}
	r, out, err := d.ExchangeOutcome(context.Background(), query("www.example.test."))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || out.NearMisses != 2 {
		t.Errorf("answers %d, outcome %+v; want the real reply after 2 near misses", len(r.Answer), out)
	}
}

func TestDo53BadRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := (&Do53{}).Exchange(ctx, query("www.example.test.")); err == nil {
		t.Error("empty Addr: no error")
	}
	if _, err := (&Do53{Addr: "127.0.0.1:53"}).Exchange(ctx, nil); err == nil {
		t.Error("nil query: no error")
	}
	bad := query("not-qualified")
	if _, err := (&Do53{Addr: "127.0.0.1:53"}).Exchange(ctx, bad); err == nil || !strings.HasPrefix(err.Error(), "transport: ") {
		t.Errorf("unpackable query: err = %v", err)
	}
}

// TestDo53DirectSocket: with no Dial and no LocalAddr the UDP attempt
// uses the socket Do53 opens itself (connectedUDP on Linux): an empty
// datagram and a forged one are near misses, the real reply is taken.
func TestDo53DirectSocket(t *testing.T) {
	t.Parallel()
	addr := rawUDP(t, func(q *dns.Msg) [][]byte {
		forged := reply(q, "www.example.test. 300 IN A 203.0.113.66")
		forged.Id = q.Id + 1
		return [][]byte{{}, wire(forged), wire(reply(q, "wWw.example.TEST. 300 IN A 192.0.2.1"))}
	})
	d := &Do53{Addr: addr}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, out, err := d.ExchangeOutcome(ctx, query("wWw.example.TEST."))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != "192.0.2.1" {
		t.Errorf("accepted %v, want the real reply", r.Answer)
	}
	if out.NearMisses != 2 || out.Network != "udp" {
		t.Errorf("outcome = %+v, want 2 near misses over udp", out)
	}
}

// TestDo53QueryShared: Exchange neither copies nor modifies the query, so
// one message may be exchanged by many goroutines at once (the race
// detector watches this test), its OPT record included, whose header
// miekg's Pack would otherwise rewrite with the extended RCODE.
func TestDo53QueryShared(t *testing.T) {
	t.Parallel()
	addr := serveDNS(t, "udp", func(w dns.ResponseWriter, q *dns.Msg) {
		w.WriteMsg(reply(q, "wWw.example.test. 300 IN A 192.0.2.1"))
	})
	m := query("wWw.example.test.")
	m.SetEdns0(1232, true)
	opt := m.IsEdns0()
	opt.Hdr.Ttl |= 0x7f << 24 // extended RCODE bits Pack would clear
	before := m.String()
	d := &Do53{Addr: addr}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := d.Exchange(context.Background(), m); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m.String() != before || m.IsEdns0() != opt || opt.Hdr.Ttl>>24 != 0x7f {
		t.Errorf("Exchange modified the caller's query:\n%s\nwant\n%s", m, before)
	}
}

// TestDo53EscapedNames: a question name that does not decode to the same
// string (escapes, characters the decoder escapes) is matched against the
// query as decoded from the wire, so its reply is still the reply.
func TestDo53EscapedNames(t *testing.T) {
	t.Parallel()
	addr := serveDNS(t, "udp", func(w dns.ResponseWriter, q *dns.Msg) {
		w.WriteMsg(reply(q))
	})
	for _, name := range []string{`\065bc.example.test.`, `a\@b.example.test.`, `a\.b.example.test.`, `x\032y.example.test.`, "www.example.test."} {
		d := &Do53{Addr: addr}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, out, err := d.ExchangeOutcome(ctx, query(name))
		cancel()
		if err != nil || out.NearMisses != 0 || r.Rcode != dns.RcodeSuccess {
			t.Errorf("%s: err %v, outcome %+v", name, err, out)
		}
	}
}

// TestDecodesAsIs pins which names match without decoding the query.
func TestDecodesAsIs(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		".": true, "www.example.test.": true, "WwW.Ex-ample_1.*.test.": true,
		"www.example.test": false, `\065bc.test.`: false, `a\.b.test.`: false, "a b.test.": false,
		"a@b.test.": false, "a..b.": false, ".a.": false, "": false, "é.test.": false,
	} {
		if got := decodesAsIs(name); got != want {
			t.Errorf("decodesAsIs(%q) = %v, want %v", name, got, want)
		}
		if !want || name == "" {
			continue
		}
		// What decodesAsIs accepts does decode to itself.
		m := query(name)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		var back dns.Msg
		if err := back.Unpack(b); err != nil || back.Question[0].Name != name {
			t.Errorf("%q decodes to %q (%v)", name, back.Question[0].Name, err)
		}
	}
}
