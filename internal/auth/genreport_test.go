package auth

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/zone"
)

// genreportList is ISC's DNS Compliance Testing list (genreport -D): one
// test per line, a name and the dig command that sends the same query.
const genreportList = "../../../shared/conformance/genreport/test-list-with-dig-equivalents.txt"

// genreportNSID is the NSID the matrix server answers with.
const genreportNSID = "genreport.test"

// genreportZone is the zone the matrix queries: an apex with a few types
// and a DNSKEY RRset too big for 512 octets (the edns@512 and ednstcp
// tests).
func genreportZone(t testing.TB) *zone.Zone {
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3, 1, 0, 1, b}, 52)) }
	return dnstest.Zone(t, "example.", fmt.Sprintf(`
@ SOA  ns.example. admin.example. 1 7200 3600 1209600 300
@ NS   ns.example.
@ A    192.0.2.1
@ AAAA 2001:db8::1
@ MX   10 mail.example.
@ TXT  "v=spf1 -all"
@ CAA  0 issue "ca.example"
@ DNSKEY 256 3 8 %s
@ DNSKEY 257 3 8 %s
@ DNSKEY 256 3 8 %s
ns A   192.0.2.53`, key(1), key(2), key(3)))
}

// digQuery is a query as one of genreport's dig command lines describes it.
type digQuery struct {
	msg     *dns.Msg
	tcp     bool
	edns    bool
	version uint8
	size    uint16
	do      bool
	nsid    bool   // asked for the NSID
	signed  bool   // -y: TSIG with a key the server does not have
	wire    []byte // the query as sent (TSIG signed)
}

// genreportTypes holds the types of the TYPE tests that miekg/dns has no
// mnemonic for (IANA DNS parameters registry).
var genreportTypes = map[string]uint16{
	"MD": 3, "MF": 4, "NULL": 10, "WKS": 11, "NSAP": 22, "NXT": 30, "A6": 38, "SPF": 99, "DOA": 259, "DLV": 32769,
}

// parseDig builds the query of a genreport dig line. dig's defaults: EDNS
// version 0 with a 1232-octet buffer, RD and AD set.
func parseDig(t *testing.T, line string) digQuery {
	t.Helper()
	d := digQuery{edns: true, size: 1232}
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Id: dnstest.QueryID, RecursionDesired: true, AuthenticatedData: true}}
	var opts []dns.EDNS0
	var z uint16
	qtype, headerOnly, key := dns.TypeA, false, ""
	f := strings.Fields(line)
	for i := 1; i < len(f); i++ {
		flag, val, _ := strings.Cut(f[i], "=")
		switch flag {
		case "+noedns":
			d.edns = false
		case "+edns":
			d.edns = true
			v, _ := strconv.Atoi(val)
			d.version = uint8(v)
		case "+norec", "+rec":
			m.RecursionDesired = flag == "+rec"
		case "+noad", "+ad":
			m.AuthenticatedData = flag == "+ad"
		case "+aaflag":
			m.Authoritative = true
		case "+cd":
			m.CheckingDisabled = true
		case "+raflag":
			m.RecursionAvailable = true
		case "+tcflag":
			m.Truncated = true
		case "+zflag":
			m.Zero = true
		case "+opcode":
			v, _ := strconv.Atoi(val)
			m.Opcode = v
		case "+header-only":
			headerOnly = true
		case "+tcp":
			d.tcp = true
		case "+dnssec":
			d.do = true
		case "+bufsize":
			v, _ := strconv.Atoi(val)
			d.size = uint16(v)
		case "+ednsflags":
			v, _ := strconv.ParseUint(val, 0, 16)
			z = uint16(v)
		case "+ednsopt":
			v, _ := strconv.Atoi(val)
			opts = append(opts, &dns.EDNS0_LOCAL{Code: uint16(v)})
		case "+nsid":
			d.nsid = true
			opts = append(opts, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		case "+subnet":
			opts = append(opts, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, Address: net.IPv4zero.To4()})
		case "+expire":
			opts = append(opts, &dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Empty: true})
		case "+cookie":
			opts = append(opts, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: val})
		case "+nocookie", "+noednsneg", "+ignoretc":
			// No effect on the query sent.
		case "-y":
			i++
			key = f[i]
		case "<zone>":
		default:
			v, ok := dns.StringToType[flag]
			if !ok {
				v, ok = genreportTypes[flag]
			}
			if !ok {
				n, err := strconv.Atoi(strings.TrimPrefix(flag, "TYPE"))
				v, ok = uint16(n), err == nil && strings.HasPrefix(flag, "TYPE")
			}
			if !ok {
				t.Fatalf("dig line %q: unknown word %q", line, f[i])
			}
			qtype = v
		}
	}
	if !headerOnly {
		m.Question = []dns.Question{{Name: "example.", Qtype: qtype, Qclass: dns.ClassINET}}
	}
	if d.edns {
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: d.size}, Option: opts}
		o.SetVersion(d.version)
		o.SetDo(d.do)
		o.SetZ(z)
		m.Extra = append(m.Extra, o)
	}
	d.msg = m
	d.wire = d.pack(t, key)
	return d
}

// pack returns the query's wire form, signed with the -y key when given.
func (d *digQuery) pack(t *testing.T, key string) []byte {
	if key == "" {
		b, err := d.msg.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	d.signed = true
	parts := strings.SplitN(key, ":", 3) // algorithm:name:secret
	alg, name, secret := dns.Fqdn(parts[0]), dns.Fqdn(parts[1]), parts[2]
	d.msg.SetTsig(name, alg, 300, 1700000000)
	b, _, err := dns.TsigGenerate(d.msg, secret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGenreportMatrix sends each query of ISC's genreport list and checks
// the compliant reply (RFC 1035, RFC 6891, RFC 3225, RFC 5001, RFC 8945):
// unknown opcodes NOTIMP; EDNS version 1 BADVERS with an OPT of version
// 0 and no options; OPT echoed with DO copied and unknown flags and
// options dropped; NSID when asked; header flags RD and CD copied, AA
// set, RA, AD, TC and Z clear; unknown and obsolete types NODATA; a reply
// over the UDP size truncated, the same over TCP complete; TSIG with an
// unknown key NOTAUTH/BADKEY. The icmp row is not DNS and is skipped.
func TestGenreportMatrix(t *testing.T) {
	t.Parallel()
	f, err := os.Open(genreportList)
	if os.IsNotExist(err) {
		t.Skipf("genreport list not found at %s", genreportList)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := newServer(t, Config{NSID: genreportNSID}, genreportZone(t))
	rows := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		name, cmd, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		cmd = strings.Trim(strings.TrimSpace(cmd), "'# ")
		if !strings.HasPrefix(cmd, "dig ") {
			continue // icmp: ping is not a DNS query
		}
		rows++
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := parseDig(t, cmd)
			if name == "docd" {
				d.msg.CheckingDisabled = true // genreport.md: DO and CD; the dig line omits +cd
				d.wire, _ = d.msg.Pack()
			}
			checkGenreport(t, s, name, d)
		})
	}
	if rows < 99 {
		t.Errorf("only %d DNS rows in %s", rows, genreportList)
	}
}

// checkGenreport sends d to s as a client would and checks the reply.
func checkGenreport(t *testing.T, s *Server, name string, d digQuery) {
	req := new(dns.Msg)
	if err := req.Unpack(d.wire); err != nil {
		t.Fatal(err)
	}
	network, limit := "udp", min(max(minUDPSize, int(d.size)), defaultMaxUDPSize)
	if !d.edns {
		limit = minUDPSize
	}
	if d.tcp {
		network, limit = "tcp", maxTCPSize
	}
	rec := dnstest.NewRecorder(network)
	s.ServeDNS(rec, req)
	got := rec.Msg
	if got == nil {
		t.Fatal("no reply")
	}
	if len(rec.Wire) > limit {
		t.Errorf("reply of %d octets over a limit of %d", len(rec.Wire), limit)
	}
	q := d.msg
	if got.Id != q.Id || got.Opcode != q.Opcode || !got.Response || got.RecursionDesired != q.RecursionDesired ||
		got.CheckingDisabled != q.CheckingDisabled || got.RecursionAvailable || got.AuthenticatedData || got.Zero {
		t.Errorf("header %+v for query header %+v", got.MsgHdr, q.MsgHdr)
	}
	if len(got.Question) != len(q.Question) || (len(q.Question) == 1 && got.Question[0] != q.Question[0]) {
		t.Errorf("question %v, want %v", got.Question, q.Question)
	}
	switch {
	case q.Opcode != dns.OpcodeQuery:
		wantGenreportRcode(t, got, dns.RcodeNotImplemented)
		if got.Authoritative || got.Truncated {
			t.Errorf("NOTIMP with AA %v TC %v", got.Authoritative, got.Truncated)
		}
	case d.signed:
		wantGenreportRcode(t, got, dns.RcodeNotAuth)
		if ts := got.IsTsig(); ts == nil || ts.Error != dns.RcodeBadKey || ts.MACSize != 0 {
			t.Errorf("TSIG in reply %v, want unsigned BADKEY", got.IsTsig())
		}
	case d.edns && d.version > 0:
		wantGenreportRcode(t, got, dns.RcodeBadVers)
		if len(got.Answer)+len(got.Ns) != 0 {
			t.Errorf("BADVERS with data: %v", got)
		}
	default:
		wantGenreportRcode(t, got, dns.RcodeSuccess)
		full, err := s.Answer(req, "tcp").Pack()
		if err != nil {
			t.Fatal(err)
		}
		checkGenreportAnswer(t, d, got, len(full) > limit)
	}
	checkGenreportOPT(t, d, got)
	// The two rows about size: the DNSKEY RRset does not fit 512 octets
	// and is complete over TCP.
	if name == "edns@512" && !got.Truncated {
		t.Error("edns@512: reply not truncated")
	}
	if name == "ednstcp" && (got.Truncated || len(got.Answer) != 3) {
		t.Errorf("ednstcp: TC %v with %d answers, want the 3 DNSKEYs", got.Truncated, len(got.Answer))
	}
}

func wantGenreportRcode(t *testing.T, got *dns.Msg, rcode int) {
	t.Helper()
	if got.Rcode != rcode {
		t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[rcode])
	}
}

// checkGenreportAnswer checks an answer to a QUERY: authoritative, and
// either truncated and empty when the full answer (as sent over TCP) is
// over the limit, or the asked type's records, or NODATA.
func checkGenreportAnswer(t *testing.T, d digQuery, got *dns.Msg, wantTC bool) {
	t.Helper()
	qtype := d.msg.Question[0].Qtype
	if !got.Authoritative {
		t.Error("AA not set")
	}
	if got.Truncated != wantTC {
		t.Errorf("TC = %v, want %v", got.Truncated, wantTC)
	}
	switch {
	case got.Truncated:
		if len(got.Answer)+len(got.Ns) != 0 {
			t.Errorf("truncated reply with data: %v", got)
		}
	case len(got.Answer) > 0:
		for _, rr := range got.Answer {
			if rr.Header().Rrtype != qtype {
				t.Errorf("answer %v for a %s query", rr, dns.TypeToString[qtype])
			}
		}
	default:
		if len(got.Ns) != 1 || got.Ns[0].Header().Rrtype != dns.TypeSOA {
			t.Errorf("NODATA without the SOA: %v", got.Ns)
		}
		if qtype == dns.TypeSOA || qtype == dns.TypeDNSKEY || qtype == dns.TypeNS {
			t.Errorf("no %s at the apex", dns.TypeToString[qtype])
		}
	}
}

// checkGenreportOPT checks the reply's OPT record against the query's.
func checkGenreportOPT(t *testing.T, d digQuery, got *dns.Msg) {
	t.Helper()
	o := dnstest.OPT(got)
	if !d.edns {
		if o != nil {
			t.Errorf("OPT %v in a reply to a query without", o)
		}
		return
	}
	if o == nil {
		t.Fatal("no OPT in the reply")
	}
	if o.Version() != 0 || o.Z() != 0 || o.Do() != d.do || o.UDPSize() != defaultMaxUDPSize {
		t.Errorf("OPT version %d z %#x do %v size %d, want 0 0 %v %d", o.Version(), o.Z(), o.Do(), o.UDPSize(), d.do, defaultMaxUDPSize)
	}
	wantNSID := d.nsid && d.version == 0
	for _, e := range o.Option {
		nsid, ok := e.(*dns.EDNS0_NSID)
		if !ok || !wantNSID {
			t.Errorf("option %v in the reply", e)
			continue
		}
		if nsid.Nsid != fmt.Sprintf("%x", genreportNSID) {
			t.Errorf("NSID %s, want %x", nsid.Nsid, genreportNSID)
		}
		wantNSID = false
	}
	if wantNSID {
		t.Error("NSID asked for and not returned")
	}
}
