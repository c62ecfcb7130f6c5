package cookie

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rensa-dns/rensa/internal/dnstest"
)

const rfc9018Vectors = "../../../shared/conformance/rfc-vectors/rfc9018-cookie-vectors.json"

// rfc9018Vector is one case of rfc9018-cookie-vectors.json.
type rfc9018Vector struct {
	Case      string `json:"case"`
	ClientIP  string `json:"client_ip"`
	Secret    string `json:"server_secret_hex"`
	Option    string `json:"cookie_option_hex"`
	Client    string `json:"client_cookie_hex"`
	Version   int    `json:"version"`
	Reserved  string `json:"reserved_hex"`
	Timestamp uint32 `json:"timestamp"`
	Hash      string `json:"hash_hex"`
	HashInput string `json:"hash_input_hex"`
}

func loadRFC9018(t *testing.T) []rfc9018Vector {
	t.Helper()
	b, err := os.ReadFile(rfc9018Vectors)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("RFC 9018 vectors not found at %s", rfc9018Vectors)
	}
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []rfc9018Vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return f.Vectors
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func secretOf(t *testing.T, s string) [16]byte {
	var k [16]byte
	if n := copy(k[:], mustHex(t, s)); n != 16 {
		t.Fatalf("secret %s is %d bytes", s, n)
	}
	return k
}

// TestRFC9018AppendixA checks every cookie of RFC 9018 Appendix A bit for
// bit: the hash input, the hash, the whole Server Cookie, and what the
// middleware answers to each request of A.1 to A.4 at the time the RFC says
// it was received.
func TestRFC9018AppendixA(t *testing.T) {
	t.Parallel()
	for _, v := range loadRFC9018(t) {
		t.Run(v.Case, func(t *testing.T) {
			key := secretOf(t, v.Secret)
			if got := sipHash24Bytes(&key, mustHex(t, v.HashInput)); hex.EncodeToString(got[:]) != v.Hash {
				t.Errorf("SipHash-2-4(hash input) = %x, want %s", got, v.Hash)
			}
			var client [8]byte
			copy(client[:], mustHex(t, v.Client))
			var reserved [3]byte
			copy(reserved[:], mustHex(t, v.Reserved))
			sc := serverCookie(&key, client, reserved, v.Timestamp, netip.MustParseAddr(v.ClientIP))
			if got := hex.EncodeToString(append(client[:], sc[:]...)); got != v.Option {
				t.Errorf("COOKIE option = %s, want %s", got, v.Option)
			}
		})
	}

	// The exchanges, through the middleware.
	const (
		secret    = "e5e973e5a6b2a43f48e7dc849e37bfcf"
		oldSecret = "dd3bdf9344b678b185a6f5cb60fca715"
		newSecret = "445536bcd2513298075a5d379663c962"
	)
	for _, tc := range []struct {
		name           string
		secret, prev   string
		client         string
		now            int64
		request, reply string
		valid          bool
	}{
		{"A.1 learning a new server cookie", secret, "", "198.51.100.100", 1559731985,
			"2464c4abcf10c957", "2464c4abcf10c957010000005cf79f111f8130c3eee29480", false},
		{"A.2 renewed after 40 minutes", secret, "", "198.51.100.100", 1559734385,
			"2464c4abcf10c957010000005cf79f111f8130c3eee29480", "2464c4abcf10c957010000005cf7a871d4a564a1442aca77", true},
		// The A.3 request's timestamp is 1 h 52 min old by the time of the
		// reply, outside the one-hour window, so the server answers as if only
		// the Client Cookie was sent: with the same fresh cookie.
		{"A.3 another client, reserved bytes set", secret, "", "203.0.113.203", 1559734700,
			"fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e", false},
		{"A.4 IPv6 with rolled over secret", newSecret, oldSecret, "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961,
			"22681ab97d52c298010000005cf7c57926556bd0934c72f8", "22681ab97d52c298010000005cf7c609a6bb79d16625507a", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(rfc9018Vectors); err != nil {
				t.Skip("vectors absent")
			}
			cfg := Config{Secret: secretOf(t, tc.secret), Now: func() time.Time { return time.Unix(tc.now, 0) }}
			if tc.prev != "" {
				cfg.PreviousSecret = secretOf(t, tc.prev)
			}
			got, valid := exchange(t, cfg, "udp", tc.client, tc.request)
			if got.Rcode != dns.RcodeSuccess {
				t.Fatalf("rcode %s", dns.RcodeToString[got.Rcode])
			}
			if c := cookieHex(t, got); c != tc.reply {
				t.Errorf("reply cookie %s, want %s", c, tc.reply)
			}
			if valid != tc.valid {
				t.Errorf("ValidCookie() = %v, want %v", valid, tc.valid)
			}
		})
	}

	// The A.3 request, had it arrived within the hour, is valid despite the
	// Reserved bytes (§4.2) and is answered with a normalised cookie.
	key := secretOf(t, secret)
	o, err := ParseOption(mustHex(t, "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5"))
	if err != nil {
		t.Fatal(err)
	}
	s := &secrets{current: key}
	if v := s.check(o, netip.MustParseAddr("203.0.113.203"), time.Unix(1559727985+60, 0)); v != cookieRenew {
		t.Errorf("A.3 request a minute after issue: verdict %d, want renew (%d)", v, cookieRenew)
	}
}

// echo answers every query with an A record and an OPT record, and records
// whether the writer said the cookie was valid.
type echo struct {
	valid  bool
	called int
	last   *dns.Msg // the reply it wrote, to check it was not changed
}

func (e *echo) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	e.called++
	if v, ok := w.(Validator); ok {
		e.valid = v.ValidCookie()
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) > 0 {
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A: net.IPv4(192, 0, 2, 34)}}
	}
	if r.IsEdns0() != nil {
		m.SetEdns0(1232, false)
	}
	e.last = m
	_ = w.WriteMsg(m)
}

// exchange sends one query for example.com/A from client over network
// through the middleware for cfg, with the COOKIE option cookieHex ("" for
// none, "-" for no OPT record at all), and returns the reply and whether the
// handler saw a valid cookie.
func exchange(t *testing.T, cfg Config, network, client, cookie string) (*dns.Msg, bool) {
	t.Helper()
	reply, h := exchangeH(t, cfg, network, client, cookie)
	return reply, h.valid
}

func exchangeH(t *testing.T, cfg Config, network, client, cookie string) (*dns.Msg, *echo) {
	t.Helper()
	mw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &echo{}
	q := dnstest.Query("example.com.", dns.TypeA)
	switch cookie {
	case "-":
	case "":
		dnstest.EDNS(q, 4096, false)
	default:
		dnstest.EDNS(q, 4096, false, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	}
	rec := dnstest.NewRecorder(network)
	ip := net.ParseIP(client)
	if network == "tcp" {
		rec.Remote = &net.TCPAddr{IP: ip, Port: 5353}
	} else {
		rec.Remote = &net.UDPAddr{IP: ip, Port: 5353}
	}
	wire, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	q = new(dns.Msg)
	if err := q.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	mw(h).ServeDNS(rec, q)
	if rec.Writes != 1 {
		t.Fatalf("%d replies written, want 1", rec.Writes)
	}
	return rec.Msg, h
}

// cookieHex returns the COOKIE option of m in hex, "" when it has none.
func cookieHex(t *testing.T, m *dns.Msg) string {
	t.Helper()
	o, found, err := FromMsg(m)
	if err != nil {
		t.Fatalf("reply COOKIE: %v", err)
	}
	if !found {
		return ""
	}
	return hex.EncodeToString(o.Bytes())
}
