package resolver

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/cache"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/transport"
)

// upstreamResolver is a validating rensa resolver over the signed
// testbed, serving plain DNS, DoT, DoH and DoQ on loopback with a
// self-signed certificate: the upstream of the forwarding tests.
type upstreamResolver struct {
	plain, dot, doh, doq string
	caFile               string
}

func startUpstreamResolver(t *testing.T, tb *testbed.Testbed, v Validator) upstreamResolver {
	t.Helper()
	r := newTestbedResolver(t, tb, Config{Validator: v})
	srv, err := server.New(server.Config{Handler: r, Logger: slog.New(slog.DiscardHandler), UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	certFile, keyFile, caFile, err := server.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certs, err := server.LoadCertSource(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	u := upstreamResolver{caFile: caFile}
	_, plain, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dot, err := srv.ListenTLS("127.0.0.1:0", certs.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	doh, err := srv.ListenHTTPS("127.0.0.1:0", "", certs.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	doq, err := srv.ListenQUIC("127.0.0.1:0", certs.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	u.plain, u.dot, u.doh, u.doq = plain.String(), dot.String(), doh.String(), doq.String()
	return u
}

// TestForwardValidates runs a validating resolver that forwards to a
// rensa resolver over each of Do53, DoT, DoH and DoQ, through the signed
// testbed. The forwarder proves the chain itself, its DNSSEC fetches
// going through the upstream too: AD for signed answers and denials, no
// AD under the insecure delegation, and SERVFAIL with EDE 9 for the
// broken DS, although the upstream, asked with CD, hands the data over.
func TestForwardValidates(t *testing.T) {
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: signedZones(), Signed: true, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	anchors, err := validate.ParseAnchors(strings.NewReader(tb.TrustAnchor()), "testbed anchor")
	if err != nil {
		t.Fatal(err)
	}
	newValidator := func() Validator {
		v, err := validate.New(validate.Config{Anchors: anchors})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	up := startUpstreamResolver(t, tb, newValidator())
	for scheme, spec := range map[string]string{
		"do53": up.plain,
		"dot":  "tls://" + up.dot,
		"doh":  "https://" + up.doh + "/dns-query",
		"doq":  "quic://" + up.doq + "#localhost",
	} {
		t.Run(scheme, func(t *testing.T) {
			u, err := ParseUpstream(spec, UpstreamOptions{CAFile: up.caFile})
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := u.Exchanger.(io.Closer); ok {
				defer c.Close()
			}
			var steps []string
			r, err := New(Config{Forward: []Upstream{u}, Validator: newValidator(),
				Trace: func(tr Transition) { steps = append(steps, tr.Step) }})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name  string
				qtype uint16
				cd    bool
				rcode int
				ad    bool
				ede   int // -1: none expected
			}{
				{"www.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
				{"nonexistent.example.test.", dns.TypeA, false, dns.RcodeNameError, true, -1},
				{"www.example.test.", dns.TypeMX, false, dns.RcodeSuccess, true, -1},
				{"foo.wild.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
				{"chain.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
				{"www.other.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1},
				{"www.sub.example.test.", dns.TypeA, false, dns.RcodeSuccess, false, -1},
				{"www.hosting.example.", dns.TypeA, false, dns.RcodeServerFailure, false, int(dns.ExtendedErrorCodeDNSKEYMissing)},
				{"www.hosting.example.", dns.TypeA, true, dns.RcodeSuccess, false, -1},
				{"www.example.test.", dns.TypeA, false, dns.RcodeSuccess, true, -1}, // from the cache
			} {
				w := askResolver(r, c.name, c.qtype, c.cd)
				if m, ede := w.msg, edeOf(w.msg); m.Rcode != c.rcode || m.AuthenticatedData != c.ad || ede != c.ede {
					t.Errorf("%s %s cd=%v: rcode %s AD %v EDE %d, want %s AD %v EDE %d\n%v", c.name, dns.TypeToString[c.qtype], c.cd,
						dns.RcodeToString[m.Rcode], m.AuthenticatedData, ede, dns.RcodeToString[c.rcode], c.ad, c.ede, m)
				}
			}
			for _, s := range steps {
				if s == stepSend.String() || s == stepDelegation.String() {
					t.Fatalf("a forwarding resolver iterated (step %q)", s)
				}
			}
			// Forwarded data is not authoritative, whatever the upstream
			// says: an authoritative answer may replace it.
			if res := r.Cache().Get("www.example.test.", dns.TypeA, dns.ClassINET); res.Kind != cache.Positive || res.Rank != cache.RankAnswerNonAuth {
				t.Errorf("cached www.example.test A: %v rank %v, want positive at rank %v", res.Kind, res.Rank, cache.RankAnswerNonAuth)
			}
		})
	}
}

// TestForwardFailover puts a dead upstream first: the query still gets
// its answer from the second, and the dead one moves behind it.
func TestForwardFailover(t *testing.T) {
	tb := startTestbed(t)
	up := startUpstreamResolver(t, tb, nil)
	dead, err := ParseUpstream("127.0.0.1:9", UpstreamOptions{}) // discard: nothing answers
	if err != nil {
		t.Fatal(err)
	}
	live, err := ParseUpstream(up.plain, UpstreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dead.Exchanger = failing{}
	r, err := New(Config{Forward: []Upstream{dead, live}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"www.example.test.", "www.other.test."} {
		if w := askResolver(r, name, dns.TypeA, false); w.msg.Rcode != dns.RcodeSuccess || len(w.msg.Answer) == 0 {
			t.Errorf("%s: %v", name, w.msg)
		}
	}
	if order := r.fwd.order(); order[0] != 1 {
		t.Errorf("upstream order %v, want the live one (1) first", order)
	}

	// With no upstream left: SERVFAIL, EDE 22 (No Reachable Authority).
	r, err = New(Config{Forward: []Upstream{dead}})
	if err != nil {
		t.Fatal(err)
	}
	w := askResolver(r, "www.example.test.", dns.TypeA, false)
	if ede := edeOf(w.msg); w.msg.Rcode != dns.RcodeServerFailure || ede != int(dns.ExtendedErrorCodeNoReachableAuthority) {
		t.Errorf("no upstream: rcode %s EDE %d, want SERVFAIL EDE 22", dns.RcodeToString[w.msg.Rcode], ede)
	}
}

// failing is an upstream that never answers.
type failing struct{}

func (failing) Exchange(context.Context, *dns.Msg) (*dns.Msg, error) {
	return nil, transport.ErrTimeout
}

// TestParseUpstream checks the URL forms of upstreams.
func TestParseUpstream(t *testing.T) {
	for _, c := range []struct {
		spec string
		want string // the exchanger's type and address, or the error's start
	}{
		{"127.0.0.1", "*transport.Do53 127.0.0.1:53"},
		{"[::1]:5353", "*transport.Do53 [::1]:5353"},
		{"tls://127.0.0.1", "*transport.DoT 127.0.0.1:853 "},
		{"tls://127.0.0.1:8853#dns.example", "*transport.DoT 127.0.0.1:8853 dns.example"},
		{"tls://127.0.0.1#pin=AAAA", "*transport.DoT 127.0.0.1:853  pin=AAAA"},
		{"quic://[::1]:8853#localhost,pin=BB/+=", "*transport.DoQ [::1]:8853 localhost pin=BB/+="},
		{"https://dns.example", "*transport.DoH https://dns.example/dns-query"},
		{"https://127.0.0.1:8443/q", "*transport.DoH https://127.0.0.1:8443/q"},
		{"dns.example:53", "error"},
		{"127.0.0.1:domain", "error"},
		{"tls://", "error"},
		{"ftp://127.0.0.1", "error"},
		{"127.0.0.1#name", "error"},
		{"https://dns.example/dns-query#name", "error"},
	} {
		u, err := ParseUpstream(c.spec, UpstreamOptions{})
		got := "error"
		if err == nil {
			switch ex := u.Exchanger.(type) {
			case *transport.Do53:
				got = "*transport.Do53 " + ex.Addr
				if u.Plain.String() != ex.Addr {
					t.Errorf("%q: Plain = %v, want %s", c.spec, u.Plain, ex.Addr)
				}
			case *transport.DoT:
				got = "*transport.DoT " + ex.Addr + " " + ex.ServerName + pinText(ex.SPKIPin)
			case *transport.DoQ:
				got = "*transport.DoQ " + ex.Addr + " " + ex.ServerName + pinText(ex.SPKIPin)
			case *transport.DoH:
				got = "*transport.DoH " + ex.URL
			}
		} else if !strings.HasPrefix(err.Error(), "resolver: upstream ") {
			t.Errorf("%q: error %q lacks the prefix", c.spec, err)
		}
		if got != c.want {
			t.Errorf("ParseUpstream(%q) = %q (%v), want %q", c.spec, got, err, c.want)
		}
	}
}

func pinText(p string) string {
	if p == "" {
		return ""
	}
	return " pin=" + p
}

// askResolver sends one recursive query with DO to r, over "TCP".
func askResolver(r *Resolver, name string, qtype uint16, cd bool) *recorder {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(4096, true)
	q.CheckingDisabled = cd
	w := &recorder{network: "tcp"}
	r.ServeDNS(w, q)
	return w
}

// edeOf returns the INFO-CODE of m's Extended DNS Error, -1 if none.
func edeOf(m *dns.Msg) int {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				return int(e.InfoCode)
			}
		}
	}
	return -1
}

// TestForwardPlainDefences checks what a plain-DNS upstream's queries
// carry besides a random ID and port: the name in random case (here all
// letters flipped: Rand gives only one bits), which the reply must echo,
// and a client cookie, which it must echo too. An upstream that does not
// echo the case is asked again without 0x20 and then spared it; a reply
// with another client cookie is dropped; encrypted upstreams get neither.
func TestForwardPlainDefences(t *testing.T) {
	plain := netip.MustParseAddrPort("127.0.0.1:53")
	names := []string{"www.example.test.", "ns.example.test."}
	for _, c := range []struct {
		desc      string
		up        *scriptedUpstream
		plain     netip.AddrPort
		sent      []string // names sent upstream for the two client queries
		cookies   bool     // the queries carry a COOKIE option
		rcode     int
		noCaseSet bool
	}{
		{"echoes", &scriptedUpstream{}, plain,
			[]string{"WWW.EXAMPLE.TEST.", "NS.EXAMPLE.TEST."}, true, dns.RcodeSuccess, false},
		{"lowercases", &scriptedUpstream{lowercase: true}, plain,
			[]string{"WWW.EXAMPLE.TEST.", "www.example.test.", "ns.example.test."}, true, dns.RcodeSuccess, true},
		{"wrong cookie", &scriptedUpstream{wrongCookie: true}, plain,
			[]string{"WWW.EXAMPLE.TEST.", "NS.EXAMPLE.TEST."}, true, dns.RcodeServerFailure, false},
		{"encrypted", &scriptedUpstream{}, netip.AddrPort{},
			names, false, dns.RcodeSuccess, false},
	} {
		t.Run(c.desc, func(t *testing.T) {
			r, err := New(Config{Forward: []Upstream{{Name: c.desc, Exchanger: c.up, Plain: c.plain}}, Rand: onesReader{}})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				w := askResolver(r, name, dns.TypeA, false)
				if w.msg.Rcode != c.rcode {
					t.Fatalf("%s: rcode %s, want %s", name, dns.RcodeToString[w.msg.Rcode], dns.RcodeToString[c.rcode])
				}
				if c.rcode == dns.RcodeSuccess && (len(w.msg.Answer) != 1 || w.msg.Answer[0].Header().Name != name) {
					t.Errorf("answer %v, want one record owned by %s in the client's case", w.msg.Answer, name)
				}
			}
			if !slices.Equal(c.up.sent, c.sent) {
				t.Errorf("names sent %q, want %q", c.up.sent, c.sent)
			}
			if c.up.cookies != c.cookies {
				t.Errorf("COOKIE option sent: %v, want %v", c.up.cookies, c.cookies)
			}
			if got := r.fwd.noCase(0); got != c.noCaseSet {
				t.Errorf("0x20 off for the upstream: %v, want %v", got, c.noCaseSet)
			}
		})
	}
}

// onesReader is a Rand of one bits: 0x20 flips every letter.
type onesReader struct{}

func (onesReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0xff
	}
	return len(p), nil
}

// scriptedUpstream answers every question with one A record, echoing
// the question (lowercased with lowercase) and the client cookie
// (another one with wrongCookie). It records the names it was sent and
// whether a COOKIE option came with them.
type scriptedUpstream struct {
	lowercase, wrongCookie bool
	sent                   []string
	cookies                bool
}

func (s *scriptedUpstream) Exchange(_ context.Context, m *dns.Msg) (*dns.Msg, error) {
	s.sent = append(s.sent, m.Question[0].Name)
	reply := new(dns.Msg).SetReply(m)
	reply.RecursionAvailable = true
	if s.lowercase {
		reply.Question[0].Name = strings.ToLower(reply.Question[0].Name)
	}
	rr, err := dns.NewRR(reply.Question[0].Name + " 300 IN A 192.0.2.1")
	if err != nil {
		return nil, err
	}
	reply.Answer = []dns.RR{rr}
	if opt := m.IsEdns0(); opt != nil {
		echo := reply.SetEdns0(1232, opt.Do())
		for _, o := range opt.Option {
			if ck, ok := o.(*dns.EDNS0_COOKIE); ok {
				s.cookies = true
				client := ck.Cookie[:16]
				if s.wrongCookie {
					client = "0123456789abcdef"
				}
				echo.IsEdns0().Option = append(echo.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: client + "fedcba9876543210"})
			}
		}
	}
	return reply, nil
}
