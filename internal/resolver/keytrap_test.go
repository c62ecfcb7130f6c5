package resolver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/zone"
)

// Bounds the KeyTrap test holds the resolver to (LIMITS.md, "Resolver:
// work bounds"; validate/limits.go has the constants themselves).
const (
	keyTrapVerifyBound = 32              // signature verifications per client query
	keyTrapQueryTime   = 2 * time.Second // until the KeyTrap query's SERVFAIL
	// keyTrapCachedTime bounds another client's cached answer meanwhile. It is
	// generous because it is wall-clock time under -race on a shared 2-core
	// machine (a full test run once saw 135 ms); what it guards against is a
	// validator whose KeyTrap work stalls everyone, seconds per query.
	keyTrapCachedTime = 500 * time.Millisecond
	keyTrapKeys       = 300  // DNSKEYs colliding with the ZSK's tag
	keyTrapSigs       = 300  // RRSIGs naming that tag over one RRset
	keyTrapIterations = 2500 // NSEC3 iterations of iter.test.
	keyTrapAttackers  = 4    // goroutines asking KeyTrap names at once
	keyTrapNames      = 5    // distinct names each one asks
)

// The attack zones' servers: not testbed servers (a zone file may hold
// at most 100 records per RRset, the KeyTrap zone holds 300; the NSEC3
// chain of iter.test. needs withChain), reached through the testbed's
// address plan.
const (
	keyTrapServer = "127.53.2.30"
	iterServer    = "127.53.2.31"
)

// keyTrapZone is the zone an attacker owns: a wildcard whose A RRset
// will carry keyTrapSigs signatures, all naming the ZSK's key tag.
const keyTrapZone = `$ORIGIN keytrap.test.
$TTL 3600
@    SOA ns1 hostmaster 1 7200 900 1209600 300
@    NS  ns1
ns1  A   ` + keyTrapServer + `
*    A   192.0.2.66
`

// iterZone is an NSEC3 zone whose chain will use keyTrapIterations.
const iterZone = `$ORIGIN iter.test.
$TTL 3600
@    SOA ns1 hostmaster 1 7200 900 1209600 300
@    NS  ns1
ns1  A   ` + iterServer + `
www  A   192.0.2.67
`

// TestKeyTrapEndToEnd runs the validating resolver over the signed
// testbed plus two attack zones served by rensa's authoritative engine:
// keytrap.test., whose DNSKEY RRset (properly signed by its KSK) holds
// keyTrapKeys keys sharing the ZSK's tag and whose wildcard A RRset
// carries keyTrapSigs junk signatures naming that tag (KeyTrap,
// CVE-2023-50387), and iter.test., an NSEC3 zone with
// keyTrapIterations iterations (CVE-2023-50868). Several clients ask
// KeyTrap names at once: each gets SERVFAIL within keyTrapQueryTime after
// at most keyTrapVerifyBound verifications; the NSEC3 zone's NXDOMAIN is
// Insecure with EDE 27 after no hashes (RFC 9276); and meanwhile another
// client's cached answer keeps arriving, Secure, within
// keyTrapCachedTime.
func TestKeyTrapEndToEnd(t *testing.T) {
	kt := keyTrapSigned(t)
	it := iterSigned(t)
	specs := testbed.Default()
	for i := range specs {
		if specs[i].Origin == "test." {
			specs[i].Text += "\nkeytrap IN NS ns1.keytrap\nns1.keytrap IN A " + keyTrapServer + "\n" + kt.ds +
				"\niter IN NS ns1.iter\nns1.iter IN A " + iterServer + "\n" + it.ds + "\n"
		}
	}
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: specs, Signed: true, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	var chain []dns.RR
	for _, rr := range it.rrs {
		if rr.Header().Rrtype == dns.TypeNSEC3 || rr.Header().Rrtype == dns.TypeRRSIG && rr.(*dns.RRSIG).TypeCovered == dns.TypeNSEC3 {
			chain = append(chain, rr)
		}
	}
	servers := map[string]string{
		net.JoinHostPort(keyTrapServer, "53"): serveZone(t, keyTrapServer, kt.zone, nil),
		net.JoinHostPort(iterServer, "53"):    serveZone(t, iterServer, it.zone, withChain(chain)),
	}

	v := testbedValidator(t, tb)
	work := &workRecorder{v: v, work: map[string]validate.Work{}}
	hints, err := ParseHints(strings.NewReader(tb.RootHints()), "testbed hints")
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Hints: hints, Validator: work,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if real, ok := servers[addr]; ok {
				addr = real
			}
			return tb.Dial(ctx, network, addr)
		}})
	if err != nil {
		t.Fatal(err)
	}

	// The other client's name, cached before the attack starts.
	if m, _ := askDO(r, "www.example.test.", dns.TypeA); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
		t.Fatalf("www.example.test. A before the attack: %s AD=%v", dns.RcodeToString[m.Rcode], m.AuthenticatedData)
	}

	done := make(chan struct{})
	var benign struct {
		answers int
		slowest time.Duration
		errs    []string
	}
	var bwg sync.WaitGroup
	bwg.Add(1)
	go func() { // the other client: owned by this test, ends when done closes
		defer bwg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			m, d := askDO(r, "www.example.test.", dns.TypeA)
			benign.answers++
			benign.slowest = max(benign.slowest, d)
			if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData || len(m.Answer) == 0 || d > keyTrapCachedTime {
				benign.errs = append(benign.errs, fmt.Sprintf("%s AD=%v %d records in %v", dns.RcodeToString[m.Rcode], m.AuthenticatedData, len(m.Answer), d))
			}
		}
	}()

	var mu sync.Mutex
	var attackErrs []string
	var slowestAttack time.Duration
	var wg sync.WaitGroup
	for a := range keyTrapAttackers {
		wg.Add(1)
		go func() { // an attacking client: owned by this test
			defer wg.Done()
			for i := range keyTrapNames {
				name := fmt.Sprintf("a%d-%d.keytrap.test.", a, i)
				m, d := askDO(r, name, dns.TypeA)
				w := work.get(name)
				mu.Lock()
				slowestAttack = max(slowestAttack, d)
				if m.Rcode != dns.RcodeServerFailure || edeCodeOf(m) != dns.ExtendedErrorCodeDNSBogus || d > keyTrapQueryTime ||
					w.Verifications == 0 || w.Verifications > keyTrapVerifyBound {
					attackErrs = append(attackErrs, fmt.Sprintf("%s: %s EDE %d in %v, work %+v; want SERVFAIL, EDE 6, within %v, 1 to %d verifications",
						name, dns.RcodeToString[m.Rcode], edeCodeOf(m), d, w, keyTrapQueryTime, keyTrapVerifyBound))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() { // a client asking into the NSEC3 zone: owned by this test
		defer wg.Done()
		m, d := askDO(r, "nope.iter.test.", dns.TypeA)
		w := work.get("nope.iter.test.")
		if m.Rcode != dns.RcodeNameError || m.AuthenticatedData || edeCodeOf(m) != dns.ExtendedErrorCodeUnsupportedNSEC3IterValue ||
			d > keyTrapQueryTime || w.Hashes != 0 {
			mu.Lock()
			attackErrs = append(attackErrs, fmt.Sprintf("nope.iter.test. A: %s AD=%v EDE %d in %v, work %+v; want NXDOMAIN, no AD, EDE 27, within %v, no hashes",
				dns.RcodeToString[m.Rcode], m.AuthenticatedData, edeCodeOf(m), d, w, keyTrapQueryTime))
			mu.Unlock()
		}
	}()
	wg.Wait()
	close(done)
	bwg.Wait()

	for _, e := range attackErrs {
		t.Error(e)
	}
	for _, e := range benign.errs {
		t.Errorf("cached www.example.test. A during the attack: %s", e)
	}
	if benign.answers == 0 {
		t.Error("the other client got no answer during the attack")
	}
	t.Logf("%d KeyTrap queries, slowest %v, work of the first %+v; NSEC3 zone's work %+v; %d cached answers meanwhile, slowest %v",
		keyTrapAttackers*keyTrapNames, slowestAttack, work.get("a0-0.keytrap.test."), work.get("nope.iter.test."), benign.answers, benign.slowest)
}

// askDO asks r name and type with DO set, as a client over TCP, and says
// how long the answer took.
func askDO(r *Resolver, name string, qtype uint16) (*dns.Msg, time.Duration) {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(4096, true)
	w := &recorder{network: "tcp"}
	start := time.Now()
	r.ServeDNS(w, q)
	return w.msg, time.Since(start)
}

// edeCodeOf returns the INFO-CODE of m's Extended DNS Error, 0xffff when
// it has none.
func edeCodeOf(m *dns.Msg) uint16 {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				return e.InfoCode
			}
		}
	}
	return 0xffff
}

// workRecorder is a Validator that remembers what each validation of a
// name spent: the verification counter the test checks.
type workRecorder struct {
	v    *validate.Validator
	mu   sync.Mutex
	work map[string]validate.Work // guarded by mu; by canonical question name
}

func (w *workRecorder) Validate(ctx context.Context, q dns.Question, fetch validate.Fetch) validate.Verdict {
	vd := w.v.Validate(ctx, q, fetch)
	w.mu.Lock()
	defer w.mu.Unlock()
	name := dns.CanonicalName(q.Name)
	old := w.work[name]
	w.work[name] = validate.Work{Verifications: max(old.Verifications, vd.Work.Verifications),
		Hashes: max(old.Hashes, vd.Work.Hashes), Fetches: max(old.Fetches, vd.Work.Fetches)}
	return vd
}

func (w *workRecorder) get(name string) validate.Work {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.work[name]
}

// attackZone is a zone signed for the test, its keys, and the DS line
// its parent publishes.
type attackZone struct {
	rrs      []dns.RR
	ksk, zsk *dnssec.Key
	ds       string
	zone     *zone.Zone // what is served, made from rrs
}

// signAttackZone signs text with a fresh KSK and ZSK (ECDSAP256SHA256).
func signAttackZone(t *testing.T, origin, text string, nsec3 *dnssec.NSEC3Params) *attackZone {
	t.Helper()
	z, err := zone.Parse(strings.NewReader(text), origin, origin+" zone", zone.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	az := &attackZone{}
	for _, flags := range []uint16{dnssec.FlagsKSK, dnssec.FlagsZSK} {
		k, err := dnssec.Generate(origin, dns.ECDSAP256SHA256, flags, 0, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if flags == dnssec.FlagsKSK {
			az.ksk = k
		} else {
			az.zsk = k
		}
	}
	signed, err := dnssec.Sign(z, dnssec.SignConfig{Keys: []*dnssec.Key{az.ksk, az.zsk}, NSEC3: nsec3})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := az.ksk.DS(dns.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	az.ds = ds.String()
	for _, rec := range signed.Records {
		az.rrs = append(az.rrs, rec.RR)
	}
	return az
}

// keyTrapSigned builds keytrap.test.: keyTrapKeys DNSKEYs colliding with
// the ZSK's tag go first in the DNSKEY RRset, which the KSK signs again,
// so a validator trying keys in order meets them all before the real
// ZSK; and the wildcard A RRset's signature is replaced by keyTrapSigs
// copies with junk signature bytes.
func keyTrapSigned(t *testing.T) *attackZone {
	t.Helper()
	az := signAttackZone(t, "keytrap.test.", keyTrapZone, nil)
	tag := az.zsk.Tag()
	var keys, out []dns.RR
	for i := range keyTrapKeys {
		keys = append(keys, collidingKey("keytrap.test.", tag, i))
	}
	var keySig, wildSig *dns.RRSIG
	for _, rr := range az.rrs {
		switch x := rr.(type) {
		case *dns.DNSKEY:
			keys = append(keys, x)
			continue
		case *dns.RRSIG:
			if x.TypeCovered == dns.TypeDNSKEY {
				keySig = x
				continue
			}
			if x.TypeCovered == dns.TypeA && x.Hdr.Name == "*.keytrap.test." {
				wildSig = x
				continue
			}
		}
		out = append(out, rr)
	}
	if keySig == nil || wildSig == nil {
		t.Fatal("signed keytrap.test. lacks the DNSKEY or wildcard signature")
	}
	sig := *keySig
	if err := sig.Sign(az.ksk.Signer, keys); err != nil {
		t.Fatal(err)
	}
	out = append(append(out, keys...), &sig)
	for i := range keyTrapSigs {
		s := *wildSig
		s.Signature = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%064d", i)))
		out = append(out, &s)
	}
	az.rrs = out
	az.zone = zoneOf("keytrap.test.", out)
	return az
}

// iterSigned builds iter.test. with NSEC3 and keyTrapIterations
// iterations: signed with none (the signer refuses more than 50, as it
// should), then every NSEC3 owner hashed again with the iterations its
// record and the NSEC3PARAM now state, the chain closed again in hash
// order, and the NSEC3 and NSEC3PARAM RRsets signed again by the ZSK.
func iterSigned(t *testing.T) *attackZone {
	t.Helper()
	az := signAttackZone(t, "iter.test.", iterZone, &dnssec.NSEC3Params{})
	rrs := az.rrs
	moved := map[string]string{}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Rrtype != dns.TypeNSEC3 && h.Rrtype != dns.TypeRRSIG {
			moved[dns.HashName(h.Name, dns.SHA1, 0, "")+".iter.test."] = dns.HashName(h.Name, dns.SHA1, keyTrapIterations, "") + ".iter.test."
		}
	}
	var chain []*dns.NSEC3
	for _, rr := range rrs {
		switch x := rr.(type) {
		case *dns.NSEC3:
			x.Iterations = keyTrapIterations
			x.Hdr.Name = moved[strings.ToUpper(x.Hdr.Name[:32])+".iter.test."]
			chain = append(chain, x)
		case *dns.NSEC3PARAM:
			x.Iterations = keyTrapIterations
		case *dns.RRSIG:
			if x.TypeCovered == dns.TypeNSEC3 {
				x.Hdr.Name = moved[strings.ToUpper(x.Hdr.Name[:32])+".iter.test."]
			}
		}
	}
	slices.SortFunc(chain, func(a, b *dns.NSEC3) int { return strings.Compare(a.Hdr.Name, b.Hdr.Name) })
	for i, n := range chain {
		if n.Hdr.Name == "" {
			t.Fatal("an NSEC3 owner of iter.test. hashes no name")
		}
		n.NextDomain = strings.TrimSuffix(chain[(i+1)%len(chain)].Hdr.Name, ".iter.test.")
	}
	for _, rr := range rrs {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || (sig.TypeCovered != dns.TypeNSEC3 && sig.TypeCovered != dns.TypeNSEC3PARAM) {
			continue
		}
		var set []dns.RR
		for _, x := range rrs {
			if x.Header().Rrtype == sig.TypeCovered && strings.EqualFold(x.Header().Name, sig.Hdr.Name) {
				set = append(set, x)
			}
		}
		if err := sig.Sign(az.zsk.Signer, set); err != nil {
			t.Fatal(err)
		}
	}
	az.zone = zoneOf("iter.test.", rrs)
	return az
}

func zoneOf(origin string, rrs []dns.RR) *zone.Zone {
	recs := make([]zone.Record, len(rrs))
	for i, rr := range rrs {
		recs[i] = zone.Record{RR: rr}
	}
	return zone.New(origin, recs)
}

// collidingKey returns a DNSKEY (algorithm 13, junk key material made
// unique by i) owned by zone whose key tag is tag. The tag is a folded
// 16-bit sum of the RDATA (RFC 4034 Appendix B), and the key's last two
// octets enter it as one 16-bit word: solve for them.
func collidingKey(zone string, tag uint16, i int) *dns.DNSKEY {
	pub := make([]byte, 64)
	for j := range pub {
		pub[j] = byte(j*7 + 1)
	}
	pub[0], pub[1] = byte(i>>8), byte(i)
	k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: dns.ZONE, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	pub[62], pub[63] = 0, 0
	k.PublicKey = base64.StdEncoding.EncodeToString(pub)
	base := uint32(k.KeyTag()) // the tag with the last word zero: the folded sum of the rest
	for carry := range uint32(3) {
		x := (uint32(tag) - base - carry) & 0xffff
		pub[62], pub[63] = byte(x>>8), byte(x)
		k.PublicKey = base64.StdEncoding.EncodeToString(pub)
		if k.KeyTag() == tag {
			return k
		}
	}
	panic("no colliding key")
}

// serveZone serves z with rensa's authoritative engine on ip, a free
// port, until the test ends, and returns its address. wrap, when not
// nil, goes around the engine.
func serveZone(t *testing.T, ip string, z *zone.Zone, wrap func(dns.Handler) dns.Handler) string {
	t.Helper()
	var h dns.Handler
	h, err := auth.New(auth.Config{Zones: zone.NewSet(z)})
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv, err := server.New(server.Config{Handler: h, UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, err := srv.Listen(net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return addr.String()
}

// withChain adds chain, the whole NSEC3 chain of a zone with its
// signatures, to the negative answers of next. rensa's authoritative
// engine does not serve an NSEC3 chain of more than 50 iterations
// (auth/limits.go); an attacker's server would.
func withChain(chain []dns.RR) func(dns.Handler) dns.Handler {
	return func(next dns.Handler) dns.Handler {
		return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			next.ServeDNS(&chainWriter{ResponseWriter: w, chain: chain}, r)
		})
	}
}

// chainWriter is the ResponseWriter of withChain.
type chainWriter struct {
	dns.ResponseWriter
	chain []dns.RR
}

func (w *chainWriter) WriteMsg(m *dns.Msg) error {
	if m.Authoritative && len(m.Answer) == 0 && (m.Rcode == dns.RcodeNameError || m.Rcode == dns.RcodeSuccess) {
		m = m.Copy()
		for _, rr := range w.chain {
			m.Ns = append(m.Ns, dns.Copy(rr))
		}
	}
	return w.ResponseWriter.WriteMsg(m)
}
