package interop

import (
	"context"
	"crypto"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// The bogus matrix's hierarchy: three NSD processes, apart from every
// other test's addresses. The children of test. are siblings, so one
// server holds them all.
const (
	bogusRootIP  = "127.53.110.1" // .
	bogusTLDIP   = "127.53.111.1" // test.
	bogusChildIP = "127.53.112.1" // case-*.test.
)

// Bounds of the bogus matrix.
const (
	bogusSignTime = 10 * time.Second // one dnssec-keygen or dnssec-signzone run
	bogusMaxTime  = 60 * time.Second // the whole test, signing included
)

// bogusUnboundConf is validatingUnboundConf with Extended DNS Errors on,
// so the log shows Unbound's reason next to rensa's.
const bogusUnboundConf = `server:
	verbosity: 1
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	num-threads: 1
	so-reuseport: no
	username: ""
	chroot: ""
	pidfile: ""
	directory: %q
	use-syslog: no
	logfile: ""
	root-hints: %q
	trust-anchor-file: %q
	module-config: "validator iterator"
	val-log-level: 2
	ede: yes
	do-not-query-localhost: no
	local-zone: "test." nodefault
	access-control: 127.0.0.0/8 allow
remote-control:
	control-enable: no
`

// bogusRootHints lead both resolvers to the matrix's root, whose server
// name is authoritative data of the root zone itself.
const bogusRootHints = `.                 3600000 IN NS a.root-servers.
a.root-servers.   3600000 IN A  ` + bogusRootIP + `
`

// Outcomes a validating resolver gives a question.
const (
	outSecure   = "NOERROR AD"
	outInsecure = "NOERROR"
	outNXSecure = "NXDOMAIN AD"
	outBogus    = "SERVFAIL"
)

// bogusCase is one zone of the matrix: a child of test. signed by
// dnssec-signzone (or not), broken in one way, and the question that
// meets the fault.
type bogusCase struct {
	label string // the child is <label>.test.
	what  string
	extra string   // more records of the child, relative to its origin
	sign  []string // more dnssec-signzone options; nil with unsigned
	qname string   // relative to the child's origin
	qtype uint16
	out   string // the outcome both resolvers must give
	ede   uint16 // rensa's EDE INFO-CODE; noEDE when none is asked for
	more  []bogusQuestion
	// unsigned leaves the zone unsigned with no DS in test.: an
	// insecure delegation.
	unsigned bool
	// tamper changes the signed zone; it may return the DS RRset the
	// parent publishes (nil: the SHA-256 DS of the zone's KSK).
	tamper func(t *testing.T, z *signedZone) []*dns.DS
}

// bogusQuestion is a further question of a case, a control that the zone
// is broken only where the case says.
type bogusQuestion struct {
	qname string
	qtype uint16
	out   string
	ede   uint16
}

// noEDE means rensa's reply needs no Extended DNS Error.
const noEDE = 0xffff

// bogusCases are the matrix of issue 5. A tamper works on the text
// dnssec-signzone wrote, as an attacker or a broken signer could.
func bogusCases() []bogusCase {
	return []bogusCase{
		{label: "case-secure", what: "secure", qname: "www", qtype: dns.TypeA, out: outSecure, ede: noEDE,
			more: []bogusQuestion{{"nope", dns.TypeA, outNXSecure, noEDE}, {"www", dns.TypeMX, outSecure, noEDE}}},
		{label: "case-insecure", what: "insecure delegation", unsigned: true, qname: "www", qtype: dns.TypeA,
			out: outInsecure, ede: noEDE},
		{label: "case-expired", what: "expired RRSIG", qname: "www", qtype: dns.TypeA, out: outBogus,
			ede:  dns.ExtendedErrorCodeSignatureExpired,
			sign: []string{"-s", signTime(-30 * 24 * time.Hour), "-e", signTime(-2 * 24 * time.Hour)}},
		{label: "case-notyet", what: "not-yet-valid RRSIG", qname: "www", qtype: dns.TypeA, out: outBogus,
			ede:  dns.ExtendedErrorCodeSignatureNotYetValid,
			sign: []string{"-s", signTime(2 * 24 * time.Hour), "-e", signTime(30 * 24 * time.Hour)}},
		{label: "case-dsmismatch", what: "DS matching no key", qname: "www", qtype: dns.TypeA, out: outBogus,
			ede: dns.ExtendedErrorCodeDNSKEYMissing, tamper: dsOfStranger},
		{label: "case-norrsig", what: "missing RRSIG", qname: "www", qtype: dns.TypeA, out: outBogus,
			ede: dns.ExtendedErrorCodeRRSIGsMissing, tamper: stripSig("www", dns.TypeA),
			more: []bogusQuestion{{"www", dns.TypeTXT, outSecure, noEDE}}},
		{label: "case-nsecgap", what: "NSEC gap", extra: "a TXT \"a\"\nm TXT \"m\"\nz TXT \"z\"\n",
			qname: "n", qtype: dns.TypeA, out: outBogus, ede: dns.ExtendedErrorCodeNSECMissing, tamper: nsecGap("m"),
			more: []bogusQuestion{{"b", dns.TypeA, outNXSecure, noEDE}}},
		{label: "case-nsec3", what: "NSEC3 hash wrong", sign: []string{"-3", "AABB", "-H", "0"},
			qname: "www", qtype: dns.TypeMX, out: outBogus, ede: dns.ExtendedErrorCodeNSECMissing, tamper: nsec3WrongHash("CCDD"),
			more: []bogusQuestion{{"www", dns.TypeA, outSecure, noEDE}, {"nope", dns.TypeA, outNXSecure, noEDE}}},
		{label: "case-keytag", what: "wrong key tag", qname: "www", qtype: dns.TypeA, out: outBogus,
			ede: dns.ExtendedErrorCodeDNSKEYMissing, tamper: wrongKeyTag("www", dns.TypeA)},
		{label: "case-unsupported", what: "unsupported algorithm", qname: "www", qtype: dns.TypeA, out: outInsecure,
			ede: dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm, tamper: toAlgorithm(dns.PRIVATEDNS)},
		{label: "case-wild", what: "wildcard replayed to another name", extra: "* A 192.0.2.50\nexists TXT \"here\"\n",
			qname: "exists", qtype: dns.TypeA, out: outBogus, ede: dns.ExtendedErrorCodeNSECMissing, tamper: replayWildcard("exists"),
			more: []bogusQuestion{{"anything", dns.TypeA, outSecure, noEDE}}},
	}
}

// TestBogusMatrix builds a hierarchy (., test. and one child of test.
// per case) with dnssec-keygen and dnssec-signzone, breaks each child in
// one way (bogusCases), serves it all with NSD, and asks rensa's resolver
// and a validating Unbound, both trusting the root's DS, the question of
// each case: both must give the case's outcome (AD, no AD, SERVFAIL), and
// rensa's Extended DNS Error must name the fault. It needs root (port 53)
// and NSD, Unbound and BIND's signing tools.
func TestBogusMatrix(t *testing.T) {
	t.Parallel()
	nsd, unbound := requirePeer(t, "nsd"), requirePeer(t, "unbound")
	keygen, signzone := requirePeer(t, "dnssec-keygen"), requirePeer(t, "dnssec-signzone")
	if os.Geteuid() != 0 {
		if os.Getenv("REQUIRE_PEERS") == "1" {
			t.Fatal("needs root to run NSD on port 53 of 127.53.0.0/16; REQUIRE_PEERS=1")
		}
		t.Skip("needs root: NSD must serve port 53 of 127.53.0.0/16, where resolvers ask")
	}
	start := time.Now()
	s := &signer{t: t, keygen: keygen, signzone: signzone, dir: t.TempDir()}
	cases := bogusCases()
	var children []authZone
	var delegations strings.Builder
	for _, c := range cases {
		origin := c.label + ".test."
		text := fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A %s\nwww A 192.0.2.1\nwww TXT \"www\"\n%s",
			origin, bogusChildIP, c.extra)
		fmt.Fprintf(&delegations, "%s NS ns.%s\nns.%s A %s\n", origin, origin, origin, bogusChildIP)
		if c.unsigned {
			children = append(children, authZone{origin, text})
			continue
		}
		z := s.sign(origin, text, c.sign...)
		ds := []*dns.DS{z.ksk.ToDS(dns.SHA256)}
		if c.tamper != nil {
			if d := c.tamper(t, z); d != nil {
				ds = d
			}
		}
		for _, d := range ds {
			delegations.WriteString(d.String() + "\n")
		}
		children = append(children, authZone{origin, z.text()})
	}
	tld := s.sign("test.", fmt.Sprintf("$ORIGIN test.\n$TTL 300\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A %s\n%s",
		bogusTLDIP, delegations.String()))
	root := s.sign(".", fmt.Sprintf("$ORIGIN .\n$TTL 300\n@ SOA a.root-servers. hostmaster.root-servers. 1 7200 900 1209600 300\n@ NS a.root-servers.\na.root-servers. A %s\ntest. NS ns.test.\nns.test. A %s\n%s\n",
		bogusRootIP, bogusTLDIP, tld.ksk.ToDS(dns.SHA256)))
	anchor := root.ksk.ToDS(dns.SHA256).String() + "\n"
	t.Logf("signed %d zones in %v", len(cases)+2, time.Since(start).Round(time.Millisecond))

	startNSD(t, nsd, bogusRootIP, []authZone{{".", root.text()}})
	startNSD(t, nsd, bogusTLDIP, []authZone{{"test.", tld.text()}})
	startNSD(t, nsd, bogusChildIP, children)

	dir := t.TempDir()
	hintsPath, anchorPath := filepath.Join(dir, "root.hints"), filepath.Join(dir, "root.key")
	writeFile(t, hintsPath, bogusRootHints)
	writeFile(t, anchorPath, anchor)
	port := freePort(t, "127.0.0.1")
	ub := startUnboundConf(t, unbound, dir, fmt.Sprintf(bogusUnboundConf, port, dir, hintsPath, anchorPath),
		net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))

	hints, err := resolver.ParseHints(strings.NewReader(bogusRootHints), "bogus root hints")
	if err != nil {
		t.Fatal(err)
	}
	anchors, err := validate.ParseAnchors(strings.NewReader(anchor), "bogus anchor")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(validate.Config{Anchors: anchors})
	if err != nil {
		t.Fatal(err)
	}
	r, err := resolver.New(resolver.Config{Hints: hints, Validator: v})
	if err != nil {
		t.Fatal(err)
	}

	var table strings.Builder
	fmt.Fprintf(&table, "%-44s %-38s %-12s %-5s %-12s %s\n", "case", "question", "rensa", "EDE", "unbound", "unbound EDE")
	for _, c := range cases {
		qs := append([]bogusQuestion{{c.qname, c.qtype, c.out, c.ede}}, c.more...)
		for i, q := range qs {
			name := q.qname + "." + c.label + ".test."
			what := c.what
			if i > 0 {
				what += " (control)"
			}
			mine, mineEDE := askRensaDO(r, name, q.qtype)
			theirs, theirEDE := askUnboundDO(ub, name, q.qtype)
			fmt.Fprintf(&table, "%-44s %-38s %-12s %-5s %-12s %s\n", what, name+" "+dns.TypeToString[q.qtype],
				mine, edeString(mineEDE), theirs, theirEDE)
			if mine != q.out || theirs != q.out {
				t.Errorf("%s: %s %s: rensa %s, unbound %s; want %s from both", what, name, dns.TypeToString[q.qtype], mine, theirs, q.out)
			}
			if q.ede != noEDE && (mineEDE == nil || mineEDE.InfoCode != q.ede) {
				t.Errorf("%s: %s %s: rensa's EDE %s, want %d (%s)", what, name, dns.TypeToString[q.qtype],
					edeString(mineEDE), q.ede, dns.ExtendedErrorCodeToString[q.ede])
			}
			if q.ede == noEDE && q.out != outInsecure && mineEDE != nil {
				t.Errorf("%s: %s %s: rensa's EDE %s on a good answer", what, name, dns.TypeToString[q.qtype], edeString(mineEDE))
			}
		}
	}
	t.Logf("bogus matrix:\n%s", &table)
	if d := time.Since(start); d > bogusMaxTime {
		t.Errorf("the matrix took %v, more than %v", d, bogusMaxTime)
	}
}

// askRensaDO asks rensa's resolver as a validating-aware client (DO set)
// and returns the outcome and the Extended DNS Error.
func askRensaDO(r *resolver.Resolver, name string, qtype uint16) (string, *dns.EDNS0_EDE) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(4096, true)
	w := &dnstest.Recorder{Net: "tcp", Remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53000}}
	r.ServeDNS(w, m)
	if w.Msg == nil {
		return "no reply", nil
	}
	return outcome(w.Msg), edeOf(w.Msg)
}

// askUnboundDO asks Unbound over TCP with DO set and returns the outcome
// and its Extended DNS Error as text.
func askUnboundDO(addr, name string, qtype uint16) (string, string) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(4096, true)
	cl := dns.Client{Net: "tcp", Timeout: resolveTimeout}
	reply, _, err := cl.Exchange(m, addr)
	if err != nil {
		return "error", err.Error()
	}
	return outcome(reply), edeString(edeOf(reply))
}

// outcome is what the matrix compares: the rcode, and AD when set.
func outcome(m *dns.Msg) string {
	s := dns.RcodeToString[m.Rcode]
	if m.AuthenticatedData {
		s += " AD"
	}
	return s
}

func edeOf(m *dns.Msg) *dns.EDNS0_EDE {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				return e
			}
		}
	}
	return nil
}

func edeString(e *dns.EDNS0_EDE) string {
	if e == nil {
		return "-"
	}
	return fmt.Sprint(e.InfoCode)
}

// signTime formats now+d as dnssec-signzone's -s and -e take it.
func signTime(d time.Duration) string {
	return time.Now().UTC().Add(d).Format("20060102150405")
}

// signer makes keys with dnssec-keygen and signs zones with
// dnssec-signzone, all in dir.
type signer struct {
	t                *testing.T
	keygen, signzone string
	dir              string
}

// signedZone is a zone as dnssec-signzone wrote it, parsed, with its keys.
type signedZone struct {
	origin   string
	rrs      []dns.RR
	ksk, zsk *dns.DNSKEY
	zskPriv  crypto.Signer
}

// text is the zone as a master file, one record a line.
func (z *signedZone) text() string {
	var b strings.Builder
	for _, rr := range z.rrs {
		b.WriteString(rr.String() + "\n")
	}
	return b.String()
}

// sign makes a KSK and a ZSK (ECDSAP256SHA256) for origin and signs text
// with them and the options given.
func (s *signer) sign(origin, text string, opts ...string) *signedZone {
	t := s.t
	t.Helper()
	kskName := s.run(s.keygen, "-q", "-K", s.dir, "-a", "ECDSAP256SHA256", "-f", "KSK", "-n", "ZONE", origin)
	zskName := s.run(s.keygen, "-q", "-K", s.dir, "-a", "ECDSAP256SHA256", "-n", "ZONE", origin)
	z := &signedZone{origin: origin, ksk: s.readKey(kskName), zsk: s.readKey(zskName)}
	priv, err := z.zsk.ReadPrivateKey(strings.NewReader(s.read(zskName+".private")), zskName+".private")
	if err != nil {
		t.Fatal(err)
	}
	z.zskPriv = priv.(crypto.Signer)
	file := strings.TrimSuffix(origin, ".") + ".zone"
	if origin == "." {
		file = "root.zone"
	}
	writeFile(t, filepath.Join(s.dir, file), text+z.ksk.String()+"\n"+z.zsk.String()+"\n")
	args := append([]string{"-O", "full", "-P", "-o", origin, "-f", file + ".signed"}, opts...)
	s.run(s.signzone, append(args, file, kskName, zskName)...)
	zp := dns.NewZoneParser(strings.NewReader(s.read(file+".signed")), origin, file+".signed")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		z.rrs = append(z.rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return z
}

// run runs a BIND tool in dir and returns its first output line.
func (s *signer) run(path string, args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bogusSignTime)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = s.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", filepath.Base(path), strings.Join(args, " "), err, out)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

func (s *signer) read(name string) string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

// readKey parses the DNSKEY of the key files named name.
func (s *signer) readKey(name string) *dns.DNSKEY {
	s.t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(s.read(name+".key")), "", name+".key")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if k, ok := rr.(*dns.DNSKEY); ok {
			return k
		}
	}
	s.t.Fatalf("%s.key: no DNSKEY: %v", name, zp.Err())
	return nil
}

// owner returns name relative to z's origin as an absolute name.
func (z *signedZone) owner(rel string) string {
	if rel == "@" {
		return z.origin
	}
	return rel + "." + z.origin
}

// remove drops the records drop says yes to and returns how many.
func (z *signedZone) remove(drop func(dns.RR) bool) int {
	n := len(z.rrs)
	z.rrs = slices.DeleteFunc(z.rrs, drop)
	return n - len(z.rrs)
}

// covers reports whether rr is an RRSIG over type t.
func covers(rr dns.RR, t uint16) bool {
	sig, ok := rr.(*dns.RRSIG)
	return ok && sig.TypeCovered == t
}

// dsOfStranger: the parent's DS names the zone's KSK by tag and
// algorithm, but its digest is of no key ("DS not matching any key", a
// botched key roll's upload).
func dsOfStranger(t *testing.T, z *signedZone) []*dns.DS {
	ds := z.ksk.ToDS(dns.SHA256)
	last := ds.Digest[len(ds.Digest)-1]
	ds.Digest = ds.Digest[:len(ds.Digest)-1] + map[bool]string{true: "1", false: "0"}[last == '0']
	return []*dns.DS{ds}
}

// stripSig removes the RRSIGs of one RRset ("missing RRSIG").
func stripSig(rel string, rtype uint16) func(*testing.T, *signedZone) []*dns.DS {
	return func(t *testing.T, z *signedZone) []*dns.DS {
		owner := z.owner(rel)
		if z.remove(func(rr dns.RR) bool { return rr.Header().Name == owner && covers(rr, rtype) }) == 0 {
			t.Fatalf("no RRSIG over %s %s", owner, dns.TypeToString[rtype])
		}
		return nil
	}
}

// nsecGap removes the NSEC record of one name and its RRSIG, so that the
// chain no longer covers the names after it ("NSEC gap").
func nsecGap(rel string) func(*testing.T, *signedZone) []*dns.DS {
	return func(t *testing.T, z *signedZone) []*dns.DS {
		owner := z.owner(rel)
		gone := z.remove(func(rr dns.RR) bool {
			return rr.Header().Name == owner && (rr.Header().Rrtype == dns.TypeNSEC || covers(rr, dns.TypeNSEC))
		})
		if gone != 2 {
			t.Fatalf("removed %d NSEC records and signatures at %s, want 2", gone, owner)
		}
		return nil
	}
}

// nsec3WrongHash moves the NSEC3 record of every name but the apex to
// the hash of that name under another salt, keeps the parameters the
// records and NSEC3PARAM state, closes the chain again in hash order and
// signs it with the zone's ZSK: every signature verifies and every hash
// is covered, but the record of an existing name is not at its hash
// ("NSEC3 hash wrong", a broken signer). The apex keeps its record, so
// NSD still serves the chain.
func nsec3WrongHash(salt string) func(*testing.T, *signedZone) []*dns.DS {
	return func(t *testing.T, z *signedZone) []*dns.DS {
		var param *dns.NSEC3PARAM
		moved := map[string]string{} // NSEC3 owner -> new owner
		for _, rr := range z.rrs {
			if p, ok := rr.(*dns.NSEC3PARAM); ok {
				param = p
			}
		}
		if param == nil {
			t.Fatal("no NSEC3PARAM")
		}
		for _, rr := range z.rrs {
			name := rr.Header().Name
			if t := rr.Header().Rrtype; t == dns.TypeNSEC3 || t == dns.TypeRRSIG || name == z.origin {
				continue
			}
			from := dns.HashName(name, param.Hash, param.Iterations, param.Salt) + "." + z.origin
			moved[from] = dns.HashName(name, param.Hash, param.Iterations, salt) + "." + z.origin
		}
		var chain []*dns.NSEC3
		for _, rr := range z.rrs {
			h := rr.Header()
			if to, ok := moved[h.Name]; ok && (h.Rrtype == dns.TypeNSEC3 || covers(rr, dns.TypeNSEC3)) {
				h.Name = to
			}
			if n, ok := rr.(*dns.NSEC3); ok {
				chain = append(chain, n)
			}
		}
		if len(chain) < 3 {
			t.Fatalf("%d NSEC3 records", len(chain))
		}
		slices.SortFunc(chain, func(a, b *dns.NSEC3) int { return strings.Compare(a.Hdr.Name, b.Hdr.Name) })
		for i, n := range chain {
			next, _, _ := strings.Cut(chain[(i+1)%len(chain)].Hdr.Name, ".")
			n.NextDomain = next
		}
		z.resign(t, dns.TypeNSEC3)
		return nil
	}
}

// resign signs the RRsets of the given types again with the zone's ZSK,
// keeping each signature's validity period.
func (z *signedZone) resign(t *testing.T, types ...uint16) {
	t.Helper()
	sets := map[string][]dns.RR{}
	for _, rr := range z.rrs {
		if slices.Contains(types, rr.Header().Rrtype) {
			k := strings.ToLower(rr.Header().Name) + "/" + dns.TypeToString[rr.Header().Rrtype]
			sets[k] = append(sets[k], rr)
		}
	}
	for _, rr := range z.rrs {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || !slices.Contains(types, sig.TypeCovered) {
			continue
		}
		set := sets[strings.ToLower(sig.Hdr.Name)+"/"+dns.TypeToString[sig.TypeCovered]]
		if sig.KeyTag != z.zsk.KeyTag() || len(set) == 0 {
			t.Fatalf("cannot sign %s again: key %d, %d records", sig.Hdr.Name, sig.KeyTag, len(set))
		}
		if err := sig.Sign(z.zskPriv, set); err != nil {
			t.Fatal(err)
		}
	}
}

// wrongKeyTag changes the key tag field of one RRset's RRSIG: no DNSKEY
// of the zone has that tag ("wrong key tag").
func wrongKeyTag(rel string, rtype uint16) func(*testing.T, *signedZone) []*dns.DS {
	return func(t *testing.T, z *signedZone) []*dns.DS {
		owner := z.owner(rel)
		for _, rr := range z.rrs {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.Hdr.Name == owner && sig.TypeCovered == rtype {
				for sig.KeyTag++; sig.KeyTag == z.ksk.KeyTag() || sig.KeyTag == z.zsk.KeyTag(); sig.KeyTag++ {
				}
				return nil
			}
		}
		t.Fatalf("no RRSIG over %s %s", owner, dns.TypeToString[rtype])
		return nil
	}
}

// toAlgorithm rewrites the zone's keys and signatures to algorithm alg,
// which neither validator implements, key tags recomputed, and returns
// the rewritten KSK for the parent's DS ("unsupported algorithm": a
// signed parent's DS lists only algorithms the validator lacks, so the
// zone is Insecure, RFC 4035 §5.2, RFC 6840 §5.2).
func toAlgorithm(alg uint8) func(*testing.T, *signedZone) []*dns.DS {
	return func(t *testing.T, z *signedZone) []*dns.DS {
		tags := map[uint16]uint16{}
		var ksk *dns.DNSKEY
		for _, rr := range z.rrs {
			if k, ok := rr.(*dns.DNSKEY); ok {
				old := k.KeyTag()
				k.Algorithm = alg
				tags[old] = k.KeyTag()
				if k.Flags&dns.SEP != 0 {
					ksk = k
				}
			}
		}
		for _, rr := range z.rrs {
			if sig, ok := rr.(*dns.RRSIG); ok {
				sig.Algorithm, sig.KeyTag = alg, tags[sig.KeyTag]
			}
		}
		if ksk == nil {
			t.Fatal("no KSK")
		}
		return []*dns.DS{ksk.ToDS(dns.SHA256)}
	}
}

// replayWildcard copies the wildcard's A RRset and its RRSIG (labels
// field 2: made from *.<origin>) to the name rel, which exists with
// other types, so the signature verifies but the name was not made from
// the wildcard ("wildcard replayed to another name"). NSD serves the
// replayed RRset as the name's own data, with no denial records: what an
// attacker on the path would send.
func replayWildcard(rel string) func(*testing.T, *signedZone) []*dns.DS {
	return func(t *testing.T, z *signedZone) []*dns.DS {
		wild, owner := z.owner("*"), z.owner(rel)
		var copies []dns.RR
		for _, rr := range z.rrs {
			if rr.Header().Name == wild && (rr.Header().Rrtype == dns.TypeA || covers(rr, dns.TypeA)) {
				c := dns.Copy(rr)
				c.Header().Name = owner
				copies = append(copies, c)
			}
		}
		if len(copies) != 2 {
			t.Fatalf("%d wildcard A records and signatures, want 2", len(copies))
		}
		z.rrs = append(z.rrs, copies...)
		return nil
	}
}
