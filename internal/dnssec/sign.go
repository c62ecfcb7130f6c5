package dnssec

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// ErrNoKSK means a key set has no key with the SEP flag for one of its
// algorithms, so nothing could sign the DNSKEY RRset in a way verifiers
// (dnssec-verify, rensa verify) accept.
var ErrNoKSK = errors.New("dnssec: no KSK")

// NSEC3Params chooses NSEC3 (RFC 5155) instead of NSEC for the denial of
// existence chain. The zero value is what RFC 9276 §3.1 recommends: no
// additional iterations, no salt, no opt-out.
type NSEC3Params struct {
	// Iterations is the number of additional SHA-1 iterations, at most
	// MaxNSEC3Iterations. Default 0.
	Iterations uint16
	// Salt is the salt in hexadecimal, "" for none (the default).
	Salt string
	// OptOut leaves unsigned delegations out of the chain and sets the
	// Opt-Out flag (RFC 5155 §6). Default off.
	OptOut bool
}

// SignConfig is what Sign needs besides the zone. Only Keys must be set.
type SignConfig struct {
	// Keys are the signing keys, all for the zone's apex and with their
	// private keys. Per algorithm, keys with the SEP flag are KSKs and
	// sign the DNSKEY, CDS and CDNSKEY RRsets; keys without are ZSKs and
	// sign the rest. An algorithm with KSKs but no ZSK uses its KSKs as
	// CSKs for everything; one with ZSKs but no KSK is an error
	// (ErrNoKSK).
	Keys []*Key
	// Now returns the signing time. Default time.Now.
	Now func() time.Time
	// Rand is the source of the expiration jitter. Default crypto/rand.
	// ECDSA signatures always draw their nonces from the system's secure
	// source (crypto/ecdsa ignores other readers since Go 1.26); RSA and
	// EdDSA signatures need none.
	Rand io.Reader
	// Validity is the time from signing to the latest expiration.
	// Default DefaultValidity; from MinValidity to MaxValidity.
	Validity time.Duration
	// Jitter is the largest random amount taken off each signature's
	// expiration. Default DefaultJitter, at most a quarter of Validity;
	// negative for none.
	Jitter time.Duration
	// InceptionOffset backdates each signature's inception. Default
	// DefaultInceptionOffset; negative for none.
	InceptionOffset time.Duration
	// NSEC3 selects NSEC3 with these parameters; nil (the default)
	// selects NSEC.
	NSEC3 *NSEC3Params
	// AddCDS replaces the apex CDS and CDNSKEY RRsets with ones for the
	// KSKs (RFC 7344, SHA-256 digests), so the parent can pick up the keys.
	// Default off: CDS and CDNSKEY records in the input are kept.
	AddCDS bool
	// Workers is the number of goroutines that sign. Default
	// runtime.GOMAXPROCS(0).
	Workers int
}

// withDefaults returns c with defaults filled in, or an error when a
// field is out of range.
func (c SignConfig) withDefaults() (SignConfig, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Validity == 0 {
		c.Validity = DefaultValidity
	}
	if c.Validity < MinValidity || c.Validity > MaxValidity {
		return c, fmt.Errorf("dnssec: signature validity %v is outside %v to %v", c.Validity, MinValidity, MaxValidity)
	}
	switch {
	case c.Jitter == 0:
		c.Jitter = min(DefaultJitter, c.Validity/4)
	case c.Jitter < 0:
		c.Jitter = 0
	case c.Jitter > c.Validity/4:
		return c, fmt.Errorf("dnssec: jitter %v is more than a quarter of the validity %v", c.Jitter, c.Validity)
	}
	switch {
	case c.InceptionOffset == 0:
		c.InceptionOffset = DefaultInceptionOffset
	case c.InceptionOffset < 0:
		c.InceptionOffset = 0
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if p := c.NSEC3; p != nil {
		if _, err := nsec3Salt(p.Salt); err != nil {
			return c, err
		}
		if p.Iterations > MaxNSEC3Iterations {
			return c, fmt.Errorf("dnssec: %d NSEC3 iterations is more than %d (RFC 9276 recommends 0)", p.Iterations, MaxNSEC3Iterations)
		}
	}
	return c, nil
}

// keyPlan says which keys sign what.
type keyPlan struct {
	keys   []*Key // every key, in the order given
	apex   []*Key // sign DNSKEY, CDS, CDNSKEY
	others []*Key // sign every other RRset
	ksks   []*Key // have the SEP flag: their DS goes to the parent
}

// planKeys checks the keys for origin and assigns their roles.
func planKeys(origin string, keys []*Key) (*keyPlan, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("dnssec: no keys for zone %s", origin)
	}
	p := &keyPlan{keys: keys}
	byAlg := map[uint8][]*Key{}
	var algs []uint8
	seen := map[string]*Key{}
	for _, k := range keys {
		if k == nil || k.DNSKEY == nil {
			return nil, fmt.Errorf("%w: nil key", ErrBadKey)
		}
		if k.Zone() != origin {
			return nil, fmt.Errorf("%w: %s is a key for zone %s, not %s", ErrKeyMismatch, k, k.Zone(), origin)
		}
		if k.Signer == nil {
			return nil, fmt.Errorf("%w: %s has no private key", ErrBadKey, k)
		}
		if err := checkDNSKEY(k.DNSKEY); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		id := k.DNSKEY.PublicKey + fmt.Sprint(k.Algorithm())
		if prev := seen[id]; prev != nil {
			return nil, fmt.Errorf("%w: %s and %s are the same key", ErrKeyMismatch, prev, k)
		}
		seen[id] = k
		if byAlg[k.Algorithm()] == nil {
			algs = append(algs, k.Algorithm())
		}
		byAlg[k.Algorithm()] = append(byAlg[k.Algorithm()], k)
	}
	for _, alg := range algs {
		var ksk, zsk []*Key
		for _, k := range byAlg[alg] {
			if k.IsKSK() {
				ksk = append(ksk, k)
			} else {
				zsk = append(zsk, k)
			}
		}
		if len(ksk) == 0 {
			return nil, fmt.Errorf("%w for algorithm %s among %s: every algorithm needs a key with the SEP flag (257) to sign the DNSKEY RRset; make one with rensa keygen --ksk or --csk",
				ErrNoKSK, algorithmName(alg), keyNames(zsk))
		}
		if len(zsk) == 0 {
			zsk = ksk // combined signing keys
		}
		p.apex = append(p.apex, ksk...)
		p.others = append(p.others, zsk...)
		p.ksks = append(p.ksks, ksk...)
	}
	return p, nil
}

// Roles returns the role each key of a key set plays when Sign uses it,
// in the order of keys: KSK and ZSK, or CSK for the SEP keys of an
// algorithm that has no ZSK. A non-SEP key of an algorithm without a KSK
// is reported as a ZSK; Sign refuses such a set.
func Roles(keys []*Key) []Role {
	hasZSK := map[uint8]bool{}
	for _, k := range keys {
		if !k.IsKSK() {
			hasZSK[k.Algorithm()] = true
		}
	}
	roles := make([]Role, len(keys))
	for i, k := range keys {
		switch {
		case !k.IsKSK():
			roles[i] = RoleZSK
		case hasZSK[k.Algorithm()]:
			roles[i] = RoleKSK
		default:
			roles[i] = RoleCSK
		}
	}
	return roles
}

func keyNames(keys []*Key) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k.String()
	}
	return s
}

// Sign signs z and returns the signed zone, leaving z unchanged. The
// result holds z's records minus the DNSSEC records it had (RRSIG, NSEC,
// NSEC3, NSEC3PARAM, DNSKEY), plus the DNSKEY RRset of cfg.Keys, the NSEC
// or NSEC3 chain, CDS and CDNSKEY when asked, and an RRSIG by each
// algorithm on every authoritative RRset (not on delegation NS RRsets or
// glue). Signatures are incepted cfg.InceptionOffset before cfg.Now() and
// expire cfg.Validity after it, less a random jitter.
func Sign(z *zone.Zone, cfg SignConfig) (*zone.Zone, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	soa := z.SOA()
	if soa == nil {
		return nil, fmt.Errorf("dnssec: zone %s has no SOA record", z.Origin)
	}
	plan, err := planKeys(z.Origin, c.Keys)
	if err != nil {
		return nil, err
	}
	base, err := unsignedRecords(z, plan, c.AddCDS)
	if err != nil {
		return nil, err
	}
	unsigned := zone.New(z.Origin, base)
	var chain []zone.Record
	if c.NSEC3 != nil {
		chain, err = nsec3Chain(unsigned, *c.NSEC3, c.Workers)
		if err != nil {
			return nil, err
		}
	} else {
		chain = nsecChain(unsigned)
	}
	now := c.Now()
	sigs, err := signZone(unsigned, chain, plan, c, now)
	if err != nil {
		return nil, err
	}
	all := make([]zone.Record, 0, len(base)+len(chain)+len(sigs))
	all = append(append(append(all, base...), chain...), sigs...)
	return zone.New(z.Origin, all), nil
}

// unsignedRecords returns copies of z's records without the DNSSEC
// records the signer makes, with the DNSKEY RRset of the plan (and CDS and
// CDNSKEY when addCDS) added and every RRset's TTLs made equal to its
// lowest (RFC 2181 §5.2). Records outside the zone are dropped.
func unsignedRecords(z *zone.Zone, plan *keyPlan, addCDS bool) ([]zone.Record, error) {
	soa := z.SOA()
	keyTTL := soa.Hdr.Ttl
	if keys := z.Apex().RRsets[dns.TypeDNSKEY]; len(keys) > 0 {
		keyTTL = keys[0].Header().Ttl
	}
	type rrsetKey struct {
		name  string
		rtype uint16
	}
	out := make([]zone.Record, 0, len(z.Records)+len(plan.keys))
	minTTL := map[rrsetKey]uint32{}
	for _, r := range z.Records {
		h := r.RR.Header()
		if isDNSSECType(h.Rrtype) || z.Node(h.Name) == nil {
			continue
		}
		if addCDS && h.Name == z.Origin && (h.Rrtype == dns.TypeCDS || h.Rrtype == dns.TypeCDNSKEY) {
			continue
		}
		rr := dns.Copy(r.RR)
		rr.Header().Name = z.Node(h.Name).Name
		out = append(out, zone.Record{RR: rr, File: r.File, Line: r.Line})
		key := rrsetKey{rr.Header().Name, h.Rrtype}
		if ttl, ok := minTTL[key]; !ok || h.Ttl < ttl {
			minTTL[key] = h.Ttl
		}
	}
	for _, r := range out {
		h := r.RR.Header()
		h.Ttl = minTTL[rrsetKey{h.Name, h.Rrtype}]
	}
	for _, k := range plan.keys {
		rr := dns.Copy(k.DNSKEY).(*dns.DNSKEY)
		rr.Hdr = dns.RR_Header{Name: z.Origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: keyTTL}
		out = append(out, zone.Record{RR: rr})
	}
	if addCDS {
		for _, k := range plan.ksks {
			key := dns.Copy(k.DNSKEY).(*dns.DNSKEY)
			key.Hdr = dns.RR_Header{Name: z.Origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: keyTTL}
			ds, err := DS(key, dns.SHA256)
			if err != nil {
				return nil, err
			}
			out = append(out, zone.Record{RR: ds.ToCDS()}, zone.Record{RR: key.ToCDNSKEY()})
		}
	}
	return out, nil
}

// negativeTTL is the TTL of NSEC and NSEC3 records: the smaller of the
// SOA's TTL and its MINIMUM field (RFC 9077 §3, updating RFC 4034 §4 and
// RFC 5155 §3).
func negativeTTL(soa *dns.SOA) uint32 {
	return min(soa.Hdr.Ttl, soa.Minttl)
}

// nsecChain returns the NSEC records of z (RFC 4034 §4, RFC 4035 §2.3):
// one per name with authoritative data or a delegation, in canonical
// order, each pointing to the next and the last back to the apex.
func nsecChain(z *zone.Zone) []zone.Record {
	kinds := classifyAll(z)
	var names []string
	for _, name := range z.Names() {
		if kinds[name] != kindOccluded && !z.Node(name).Empty() {
			names = append(names, name)
		}
	}
	ttl := negativeTTL(z.SOA())
	out := make([]zone.Record, 0, len(names))
	for i, name := range names {
		next := names[(i+1)%len(names)]
		out = append(out, zone.Record{RR: &dns.NSEC{
			Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
			NextDomain: next,
			TypeBitMap: nsecTypes(z.Node(name), kinds[name]),
		}})
	}
	return out
}

// signJob is one RRSIG to make.
type signJob struct {
	rrset  []dns.RR
	key    *Key
	jitter time.Duration
}

// signZone makes the RRSIG records of z and its denial chain: for each
// authoritative RRset, one per key that signs it. Each chain record (NSEC,
// NSEC3, NSEC3PARAM) is an RRset of its own. The signing runs on
// c.Workers goroutines; the jitters are drawn from c.Rand beforehand, in
// canonical order, so a deterministic Rand gives deterministic
// expirations.
func signZone(z *zone.Zone, chain []zone.Record, plan *keyPlan, c SignConfig, now time.Time) ([]zone.Record, error) {
	kinds := classifyAll(z)
	var jobs []signJob
	addJobs := func(rrset []dns.RR, signers []*Key) error {
		for _, k := range signers {
			j, err := drawJitter(c.Rand, c.Jitter)
			if err != nil {
				return err
			}
			jobs = append(jobs, signJob{rrset: rrset, key: k, jitter: j})
		}
		return nil
	}
	for _, name := range z.Names() {
		n := z.Node(name)
		for _, t := range signedTypes(n, kinds[name]) {
			signers := plan.others
			if name == z.Origin && (t == dns.TypeDNSKEY || t == dns.TypeCDS || t == dns.TypeCDNSKEY) {
				signers = plan.apex
			}
			if err := addJobs(n.RRsets[t], signers); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range chain {
		if err := addJobs([]dns.RR{r.RR}, plan.others); err != nil {
			return nil, err
		}
	}
	inception := now.Add(-c.InceptionOffset)
	expiration := now.Add(c.Validity)
	out := make([]zone.Record, len(jobs))
	errs := make([]error, len(jobs))
	// Workers take batches of jobs from a shared counter: cheaper than a
	// channel send per signature, and still balanced across workers.
	const batch = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(c.Workers, max(len(jobs), 1)) {
		wg.Go(func() {
			for {
				start := int(next.Add(batch)) - batch
				if start >= len(jobs) {
					return
				}
				for i := start; i < min(start+batch, len(jobs)); i++ {
					sig, err := signRRset(jobs[i].rrset, jobs[i].key, z.Origin, inception, expiration.Add(-jobs[i].jitter))
					out[i], errs[i] = zone.Record{RR: sig}, err
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// drawJitter returns a duration in [0, limit], in whole seconds, from r.
func drawJitter(r io.Reader, limit time.Duration) (time.Duration, error) {
	secs := uint64(limit / time.Second)
	if secs == 0 {
		return 0, nil
	}
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("dnssec: reading randomness: %w", err)
	}
	return time.Duration(binary.BigEndian.Uint64(b[:])%(secs+1)) * time.Second, nil
}

// signRRset makes the RRSIG of rrset by key with the given validity,
// using miekg/dns for the canonical form and the cryptography.
func signRRset(rrset []dns.RR, key *Key, signer string, inception, expiration time.Time) (*dns.RRSIG, error) {
	h := rrset[0].Header()
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: h.Class, Ttl: h.Ttl},
		OrigTtl:    h.Ttl,
		Algorithm:  key.Algorithm(),
		KeyTag:     key.Tag(),
		SignerName: signer,
		Inception:  uint32(inception.Unix()),
		Expiration: uint32(expiration.Unix()),
	}
	if err := sig.Sign(key.Signer, rrset); err != nil {
		return nil, fmt.Errorf("dnssec: signing %s/%s with %s: %w", h.Name, dns.Type(h.Rrtype), key, err)
	}
	return sig, nil
}
