package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/zone"
)

// TestChainLimit: a chain longer than maxChainLinks is cut after
// maxChainLinks links, leaving the rest to the client.
func TestChainLimit(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("@ SOA ns.test. admin.test. 1 7200 3600 1209600 300\n@ NS ns.test.\n")
	for i := range 2 * maxChainLinks {
		fmt.Fprintf(&b, "c%d CNAME c%d\n", i, i+1)
	}
	fmt.Fprintf(&b, "c%d A 192.0.2.1\n", 2*maxChainLinks)
	s := newServer(t, Config{}, dnstest.Zone(t, "test.", b.String()))
	got := s.Answer(ask(t, "c0.test. A"), "tcp")
	if got.Rcode != dns.RcodeSuccess || len(got.Answer) != maxChainLinks+1 {
		t.Fatalf("rcode %s, %d answers, want NOERROR and %d CNAMEs", dns.RcodeToString[got.Rcode], len(got.Answer), maxChainLinks+1)
	}
	last := got.Answer[maxChainLinks].(*dns.CNAME)
	if want := fmt.Sprintf("c%d.test.", maxChainLinks+1); last.Target != want {
		t.Errorf("last CNAME points to %s, want %s", last.Target, want)
	}
	// A chain of exactly maxChainLinks links is followed to the end.
	got = s.Answer(ask(t, fmt.Sprintf("c%d.test. A", maxChainLinks)), "tcp")
	if n := len(got.Answer); n != maxChainLinks+1 || got.Answer[n-1].Header().Rrtype != dns.TypeA {
		t.Errorf("%d answers, want %d CNAMEs and the A record", n, maxChainLinks)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value", Config{}, true},
		{"MaxUDPSize 512", Config{MaxUDPSize: minUDPSize}, true},
		{"MaxUDPSize below 512", Config{MaxUDPSize: minUDPSize - 1}, false},
		{"MaxUDPSize above 65535", Config{MaxUDPSize: maxTCPSize + 1}, false},
		{"NSID text", Config{NSID: "ns1"}, true},
		{"NSID hex", Config{NSID: "0x6e7331"}, true},
		{"NSID bad hex", Config{NSID: "0xzz"}, false},
		{"NSID empty hex", Config{NSID: "0x"}, false},
		{"NSID at the limit", Config{NSID: strings.Repeat("n", maxNSIDOctets)}, true},
		{"NSID too long", Config{NSID: strings.Repeat("n", maxNSIDOctets+1)}, false},
		{"NSID hex too long", Config{NSID: "0x" + strings.Repeat("ab", maxNSIDOctets+1)}, false},
		{"Version at the limit", Config{Version: strings.Repeat("v", maxTXTOctets)}, true},
		{"Version too long", Config{Version: strings.Repeat("v", maxTXTOctets+1)}, false},
		{"ID too long", Config{ID: strings.Repeat("i", maxTXTOctets+1)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tt.cfg)
			if tt.ok != (err == nil) {
				t.Fatalf("New: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && (!errors.Is(err, ErrConfig) || !strings.HasPrefix(err.Error(), "auth: ")) {
				t.Errorf("error %q does not wrap ErrConfig", err)
			}
			if err == nil && tt.cfg.MaxUDPSize == 0 && s.maxUDP != defaultMaxUDPSize {
				t.Errorf("default MaxUDPSize %d, want %d", s.maxUDP, defaultMaxUDPSize)
			}
		})
	}
	s, _ := New(Config{NSID: "0x6e7331"})
	if t2, _ := New(Config{NSID: "ns1"}); s.nsid != t2.nsid || s.nsid != "6e7331" {
		t.Errorf("NSID 0x6e7331 -> %q, ns1 -> %q, want both 6e7331", s.nsid, t2.nsid)
	}
}

// TestBiggestTruncatedReplyFits: with the longest question, the longest
// NSID and a TSIG error, a truncated reply still fits 512 octets.
func TestBiggestTruncatedReplyFits(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{NSID: strings.Repeat("n", maxNSIDOctets)})
	l63 := strings.Repeat("q", 63)
	long := l63 + "." + l63 + "." + l63 + "." + strings.Repeat("q", 61) + "."
	for _, signed := range []bool{false, true} {
		m := dnstest.EDNS(dnstest.Query(long, dns.TypeA), 512, true, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		if signed {
			ts := tsig(m.Id)
			ts.Hdr.Name, ts.Algorithm = long, long
			m.Extra = append(m.Extra, ts)
		}
		rec := dnstest.NewRecorder("udp")
		s.ServeDNS(rec, m)
		if rec.Msg == nil || len(rec.Wire) > minUDPSize {
			t.Errorf("signed %v: reply of %d octets, want at most %d", signed, len(rec.Wire), minUDPSize)
		}
	}
}

func TestSetZones(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	if got := s.Answer(ask(t, "www.example. A"), "udp"); got.Rcode != dns.RcodeRefused {
		t.Fatalf("before SetZones: %s", dns.RcodeToString[got.Rcode])
	}
	set := exampleServer(t).Zones()
	s.SetZones(set)
	if s.Zones() != set {
		t.Error("Zones() is not the set given to SetZones")
	}
	if got := s.Answer(ask(t, "www.example. A"), "udp"); got.Rcode != dns.RcodeSuccess || len(got.Answer) != 1 {
		t.Errorf("after SetZones: %v", got)
	}
}

// TestUnpackableRecord: a zone record that does not pack costs the client
// its answer, not its reply: it gets SERVFAIL.
func TestUnpackableRecord(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, dnstest.Zone(t, "test.", `
@   SOA ns.test. admin.test. 1 7200 3600 1209600 300
@   NS  ns.test.
bad DNSKEY 256 3 8 AAAA=AAAA`))
	m := dnstest.EDNS(ask(t, "bad.test. DNSKEY"), 1232, true)
	got := dnstest.Exchange(t, s, m, "tcp")
	if got == nil || got.Rcode != dns.RcodeServerFailure || len(got.Answer) != 0 || dnstest.OPT(got) == nil {
		t.Fatalf("reply %v, want SERVFAIL with OPT", got)
	}
	checkHeader(t, m, got, dns.RcodeServerFailure, false, false)
}

// TestNSEC3IterationsCap: a pre-signed zone whose NSEC3PARAM asks for more
// than maxNSEC3Iterations iterations is refused by CheckNSEC3, naming the
// record's file:line, and a Server given it anyway answers without
// hashing (no NSEC3 proofs); at the cap it is served with its proofs.
func TestNSEC3IterationsCap(t *testing.T) {
	t.Parallel()
	for _, iter := range []uint16{0, maxNSEC3Iterations, maxNSEC3Iterations + 1, 2500} {
		t.Run(fmt.Sprint(iter), func(t *testing.T) {
			t.Parallel()
			hash := func(name string) string {
				h, err := dnssec.NSEC3Hash(name, iter, "")
				if err != nil {
					t.Fatal(err)
				}
				return h
			}
			a, b := hash("example."), hash("www.example.")
			text := fmt.Sprintf(`$ORIGIN example.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1.example.net.
@ NSEC3PARAM 1 0 %d -
www A 192.0.2.1
%s NSEC3 1 0 %d - %s NS SOA RRSIG NSEC3PARAM
%s NSEC3 1 0 %d - %s A RRSIG
`, iter, a, iter, strings.ToUpper(b), b, iter, strings.ToUpper(a))
			file := filepath.Join(t.TempDir(), "db.example")
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			z, err := zone.Load(file, "example.", zone.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			over := iter > maxNSEC3Iterations
			err = CheckNSEC3(z)
			switch {
			case over && !errors.Is(err, ErrNSEC3Iterations):
				t.Errorf("CheckNSEC3 = %v, want ErrNSEC3Iterations", err)
			case over && !strings.Contains(err.Error(), file+":5: "):
				t.Errorf("CheckNSEC3 = %v, want it to name %s:5", err, file)
			case !over && err != nil:
				t.Errorf("CheckNSEC3 = %v, want nil", err)
			}

			s := newServer(t, Config{}, z)
			q := ask(t, "nx.example. A")
			q.SetEdns0(1232, true)
			got := s.Answer(q, "tcp")
			n := 0
			for _, rr := range got.Ns {
				if rr.Header().Rrtype == dns.TypeNSEC3 {
					n++
				}
			}
			if got.Rcode != dns.RcodeNameError {
				t.Errorf("rcode %s, want NXDOMAIN", dns.RcodeToString[got.Rcode])
			}
			if over && n != 0 {
				t.Errorf("%d NSEC3 records served for a zone over the cap, want none", n)
			}
			if !over && n == 0 {
				t.Errorf("no NSEC3 records served at %d iterations", iter)
			}
		})
	}
}
