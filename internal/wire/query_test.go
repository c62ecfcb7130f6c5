package wire

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// query returns the wire form of a query for name and qtype, changed by
// each edit.
func query(t testing.TB, name string, qtype uint16, edits ...func(*dns.Msg)) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0xBEEF
	for _, edit := range edits {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func edns(size uint16, do bool) func(*dns.Msg) {
	return func(m *dns.Msg) { m.SetEdns0(size, do) }
}

func withOPT(edit func(*dns.OPT)) func(*dns.Msg) {
	return func(m *dns.Msg) {
		m.SetEdns0(1232, false)
		edit(m.IsEdns0())
	}
}

// TestParseTakes checks what Parse reads from the queries it takes: the
// key, where the name ends, the case and the EDNS values.
func TestParseTakes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		wire    []byte
		key     string // type, flags, name: as hex
		upper   bool
		size    int
		optTTL  uint32
		limit   int // UDPLimit(1232)
		nameEnd int
	}{
		{"plain", query(t, "www.example.", dns.TypeA), "0001" + "00" + "03777777076578616d706c65", false, 0, 0, 512, 25},
		{"mixed case", query(t, "WwW.Example.", dns.TypeAAAA), "001c" + "00" + "03777777076578616d706c65", true, 0, 0, 512, 25},
		{"root", query(t, ".", dns.TypeNS), "0002" + "00", false, 0, 0, 512, 13},
		{"EDNS", query(t, "a.", dns.TypeMX, edns(4096, false)), "000f" + "01" + "0161", false, 4096, 0, 1232, 15},
		{"EDNS and DO", query(t, "a.", dns.TypeTXT, edns(1232, true)), "0010" + "03" + "0161", false, 1232, OPTDO, 1232, 15},
		{"small EDNS size", query(t, "a.", dns.TypeA, edns(100, false)), "0001" + "01" + "0161", false, 100, 0, 512, 15},
		{"RD, AD and CD", query(t, "a.", dns.TypeA, func(m *dns.Msg) { m.RecursionDesired, m.AuthenticatedData, m.CheckingDisabled = true, true, true }),
			"0001" + "00" + "0161", false, 0, 0, 512, 15},
		{"extended RCODE and Z flags", query(t, "a.", dns.TypeA, withOPT(func(o *dns.OPT) { o.SetZ(1) }), func(m *dns.Msg) { m.Rcode = dns.RcodeBadVers }),
			"0001" + "01" + "0161", false, 1232, 1<<24 | 1, 1232, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var q Query
			if !q.Parse(tc.wire) {
				t.Fatal("Parse refused it")
			}
			if got := hexOf(q.Key[:q.KeyLen]); got != tc.key {
				t.Errorf("key %s, want %s", got, tc.key)
			}
			if q.Upper != tc.upper || q.UDPSize != tc.size || q.OPTTTL != tc.optTTL || q.NameEnd != tc.nameEnd {
				t.Errorf("Upper %v UDPSize %d OPTTTL %#x NameEnd %d, want %v %d %#x %d",
					q.Upper, q.UDPSize, q.OPTTTL, q.NameEnd, tc.upper, tc.size, tc.optTTL, tc.nameEnd)
			}
			if got := q.UDPLimit(1232); got != tc.limit {
				t.Errorf("UDPLimit(1232) = %d, want %d", got, tc.limit)
			}
		})
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

// TestParseRefuses checks that Parse refuses every query a fast path must
// leave to the ordinary path.
func TestParseRefuses(t *testing.T) {
	t.Parallel()
	plain := query(t, "www.example.", dns.TypeA)
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	long := strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 62) + "."
	for name, b := range map[string][]byte{
		"response":        query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.Response = true }),
		"NOTIFY":          query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }),
		"two questions":   query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }),
		"no question":     query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.Question = nil }),
		"answer record":   query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.Answer = []dns.RR{rr("www.example. 1 A 192.0.2.1")} }),
		"authority":       query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.Ns = []dns.RR{rr("www.example. 1 A 192.0.2.1")} }),
		"TSIG":            query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.SetTsig("key.", dns.HmacSHA256, 300, 0) }),
		"two OPT":         query(t, "www.example.", dns.TypeA, edns(512, false), func(m *dns.Msg) { m.Extra = append(m.Extra, m.Extra[0]) }),
		"other record":    query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.Extra = []dns.RR{rr("www.example. 1 A 192.0.2.1")} }),
		"EDNS version 1":  query(t, "www.example.", dns.TypeA, withOPT(func(o *dns.OPT) { o.SetVersion(1) })),
		"NSID option":     query(t, "www.example.", dns.TypeA, withOPT(func(o *dns.OPT) { o.Option = []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID}} })),
		"OPT not at root": query(t, "www.example.", dns.TypeA, withOPT(func(o *dns.OPT) { o.Hdr.Name = "example." })),
		"class CH":        query(t, "www.example.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }),
		"ANY":             query(t, "www.example.", dns.TypeANY),
		"AXFR":            query(t, "example.", dns.TypeAXFR),
		"RRSIG":           query(t, "www.example.", dns.TypeRRSIG),
		"OPT as type":     query(t, "www.example.", dns.TypeOPT),
		"type 0":          query(t, "www.example.", 0),
		"name of 256":     append(append(append(bytes.Clone(plain[:HeaderLen]), 63), bytes.Repeat([]byte{'a'}, 63)...), append([]byte(packName(t, long)), 0, 1, 0, 1)...),
		"trailing octets": append(bytes.Clone(plain), 0),
		"cut short":       plain[:len(plain)-1],
		"header only":     plain[:HeaderLen],
		"too short":       plain[:5],
		"pointer in qname": append(append(bytes.Clone(plain[:HeaderLen]), 0xC0, 0x0C),
			plain[len(plain)-4:]...),
		"extended label": append(append(bytes.Clone(plain[:HeaderLen]), 0x41, 0),
			plain[len(plain)-4:]...),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var q Query
			if q.Parse(b) {
				t.Errorf("Parse took %x", b)
			}
		})
	}
}

func packName(t testing.TB, name string) []byte {
	t.Helper()
	b := make([]byte, 512)
	n, err := dns.PackDomainName(name, b, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n-1] // without the root label: the caller adds it
}

// TestParseLongestName checks the bound on names: 255 octets is taken,
// with a key of KeyMax octets.
func TestParseLongestName(t *testing.T) {
	t.Parallel()
	name := strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 61) + "."
	b := query(t, name, dns.TypeA)
	var q Query
	if !q.Parse(b) {
		t.Fatal("a name of 255 octets was refused")
	}
	if q.KeyLen != KeyMax || q.NameEnd != HeaderLen+255 {
		t.Errorf("KeyLen %d NameEnd %d, want %d %d", q.KeyLen, q.NameEnd, KeyMax, HeaderLen+255)
	}
}

// TestSetKey checks that SetKey gives the key Parse reads from the same
// question, in any case and with any flags.
func TestSetKey(t *testing.T) {
	t.Parallel()
	for _, name := range []string{".", "www.example.", "WwW.ExAmPlE.", `a\.b.example.`, `\200x.example.`} {
		var parsed, set Query
		if !parsed.Parse(query(t, name, dns.TypeAAAA, edns(1232, true))) {
			t.Fatalf("%s: Parse refused it", name)
		}
		if !set.SetKey(name, dns.TypeAAAA, KeyEDNS|KeyDO) {
			t.Fatalf("%s: SetKey refused it", name)
		}
		if !bytes.Equal(set.Key[:set.KeyLen], parsed.Key[:parsed.KeyLen]) || set.NameEnd != parsed.NameEnd {
			t.Errorf("%s: SetKey %x end %d, Parse %x end %d", name, set.Key[:set.KeyLen], set.NameEnd,
				parsed.Key[:parsed.KeyLen], parsed.NameEnd)
		}
	}
	var q Query
	if q.SetKey("no-dot", dns.TypeA, 0) {
		t.Error("SetKey took a name that is not fully qualified")
	}
}

// TestUDPLimit checks RFC 6891 §6.2.5: sizes below 512 count as 512, and
// the server's own limit caps the client's.
func TestUDPLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		size         uint16
		maxUDP, want int
	}{
		{0, 1232, 512}, {511, 1232, 512}, {512, 1232, 512}, {1000, 1232, 1000}, {4096, 1232, 1232}, {65535, 65535, 65535},
	} {
		var q Query
		if !q.Parse(query(t, "a.", dns.TypeA, edns(tc.size, false))) {
			t.Fatal("Parse refused it")
		}
		if got := q.UDPLimit(tc.maxUDP); got != tc.want {
			t.Errorf("size %d, server %d: UDPLimit %d, want %d", tc.size, tc.maxUDP, got, tc.want)
		}
	}
}

// FuzzParseQuery feeds arbitrary octets to Parse. It must not panic; a
// query it takes must unpack to one question of a cacheable type, class
// IN, whose name is the key's and ends at NameEnd, and SetKey must give
// the same key from the unpacked question.
//
//	go test -run=^$ -fuzz=FuzzParseQuery -fuzztime=10s ./internal/wire/
func FuzzParseQuery(f *testing.F) {
	for _, b := range [][]byte{
		query(f, "www.example.", dns.TypeA),
		query(f, "WwW.Example.", dns.TypeAAAA, edns(1232, true)),
		query(f, ".", dns.TypeNS, edns(4096, false)),
		query(f, `a\.b\200.example.`, dns.TypeMX),
		query(f, "www.example.", dns.TypeA, edns(1232, false), func(m *dns.Msg) { m.Rcode = dns.RcodeBadVers }),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Query
		if !q.Parse(b) {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatalf("Parse took a query that does not unpack: %v\n%x", err, b)
		}
		if len(m.Question) != 1 || len(m.Answer)+len(m.Ns) != 0 || len(m.Extra) > 1 || m.Response || m.Opcode != dns.OpcodeQuery {
			t.Fatalf("Parse took %v", m)
		}
		question := m.Question[0]
		if question.Qclass != dns.ClassINET || !CacheableType(question.Qtype) ||
			binary.BigEndian.Uint16(q.Key[:]) != question.Qtype {
			t.Fatalf("Parse took %v with key %x", question, q.Key[:q.KeyLen])
		}
		if b[q.NameEnd-1] != 0 || !bytes.EqualFold(b[HeaderLen:q.NameEnd-1], q.Key[3:q.KeyLen]) {
			t.Fatalf("key %x, name %x", q.Key[:q.KeyLen], b[HeaderLen:q.NameEnd])
		}
		var set Query
		if !set.SetKey(question.Name, question.Qtype, q.Key[2]) || !bytes.Equal(set.Key[:set.KeyLen], q.Key[:q.KeyLen]) {
			t.Fatalf("SetKey(%q) %x, Parse %x", question.Name, set.Key[:set.KeyLen], q.Key[:q.KeyLen])
		}
	})
}
