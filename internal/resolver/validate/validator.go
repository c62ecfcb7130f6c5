package validate

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Fetch asks the authoritative servers of name's zone (of the parent
// zone, for DS) for name and qtype with the DO bit set, and returns their
// reply with its DNSSEC records. An error means no reply arrived. The
// resolver provides it, resolving through its own cache and delegations.
type Fetch func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error)

// Config configures a [Validator].
type Config struct {
	// Anchors are the trust anchors. Default: IANARootAnchors(), the
	// IANA root KSKs.
	Anchors *Anchors
	// Now is the clock for signature validity and cache lifetimes.
	// Default: time.Now.
	Now func() time.Time
}

// Validator proves answers by the DNSSEC chain of trust. It remembers
// proven keys, zone cuts and verdicts (Bogus ones for bogusTTL). It is
// safe for concurrent use.
type Validator struct {
	cfg Config

	mu       sync.Mutex
	cuts     map[string]cutEntry     // guarded by mu; by canonical name
	verdicts map[verdictKey]verdictE // guarded by mu
	sigs     verifiedSigs            // signatures verified before (sigcache.go)
}

// verdictKey names a validated question.
type verdictKey struct {
	name  string
	qtype uint16
}

// verdictE is a remembered verdict.
type verdictE struct {
	v       Verdict
	stored  time.Time
	expires time.Time
}

// New returns a validator for cfg, filling in defaults.
func New(cfg Config) (*Validator, error) {
	if cfg.Anchors == nil {
		cfg.Anchors = IANARootAnchors()
	}
	if len(cfg.Anchors.DS) == 0 && len(cfg.Anchors.Keys) == 0 {
		return nil, ErrNoAnchors
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Validator{cfg: cfg, cuts: map[string]cutEntry{}, verdicts: map[verdictKey]verdictE{}}, nil
}

// ErrFetch wraps a failure to get a reply needed for validation.
var ErrFetch = errors.New("validate: fetch failed")

// state is one validation: the budget of the client query and the fetch
// function. It belongs to one goroutine.
type state struct {
	v      *Validator
	ctx    context.Context
	fetchF Fetch
	now    time.Time
	work   Work
	hashes map[[3]string]string // NSEC3 hashes computed: name, salt, iterations -> hash (made by the first hash)
	steps  []Step               // checks made, in order
}

// Validate validates the answer to q, fetching what it needs (the answer
// with its signatures, and DS and DNSKEY RRsets up the chain) with fetch.
// A verdict remembered from an earlier query is reused while it lives.
func (v *Validator) Validate(ctx context.Context, q dns.Question, fetch Fetch) Verdict {
	now := v.cfg.Now()
	key := verdictKey{dnsname.Canonical(q.Name), q.Qtype}
	if vd, ok := v.cachedVerdict(key, now); ok {
		return vd
	}
	st := &state{v: v, ctx: ctx, fetchF: fetch, now: now}
	vd := st.answer(key.name, q.Qtype)
	vd.Work, vd.Steps = st.work, st.steps
	v.storeVerdict(key, vd, now)
	return vd
}

// fetch calls the fetch function within maxFetches per client query.
func (st *state) fetch(name string, qtype uint16) (*dns.Msg, *failure) {
	if st.work.Fetches >= maxFetches {
		return nil, bogus(dns.ExtendedErrorCodeDNSBogus, "validation fetch limit of %d reached", maxFetches)
	}
	st.work.Fetches++
	m, err := st.fetchF(st.ctx, name, qtype)
	if err != nil {
		return nil, bogus(dns.ExtendedErrorCodeDNSBogus, "%v %s %s: %v", ErrFetch, name, dns.TypeToString[qtype], err)
	}
	return m, nil
}

// cachedVerdict returns the live verdict for k with the TTLs of its
// records lowered by the time it was kept.
func (v *Validator) cachedVerdict(k verdictKey, now time.Time) (Verdict, bool) {
	v.mu.Lock()
	e, ok := v.verdicts[k]
	v.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		return Verdict{}, false
	}
	vd := e.v
	age := uint32(now.Sub(e.stored) / time.Second)
	vd.Answer, vd.Authority = aged(vd.Answer, age), aged(vd.Authority, age)
	vd.Work = Work{}
	return vd, true
}

// storeVerdict remembers vd: a Bogus one for bogusTTL, others for the
// smallest TTL of their records, at most maxCacheTTL (Indeterminate ones
// are not kept).
func (v *Validator) storeVerdict(k verdictKey, vd Verdict, now time.Time) {
	var ttl time.Duration
	switch vd.Security {
	case Bogus:
		ttl = bogusTTL
	case Secure, Insecure:
		ttl = minTTL(maxCacheTTL, vd.Answer, vd.Authority)
	}
	if ttl <= 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.verdicts) >= maxCacheEntries {
		clear(v.verdicts)
	}
	v.verdicts[k] = verdictE{v: vd, stored: now, expires: now.Add(ttl)}
}

// minTTL returns the smallest TTL in the sections, capped at limit.
func minTTL(limit time.Duration, sections ...[]dns.RR) time.Duration {
	for _, s := range sections {
		for _, rr := range s {
			if d := time.Duration(rr.Header().Ttl) * time.Second; d < limit {
				limit = d
			}
		}
	}
	return limit
}

// aged returns copies of rrs with their TTLs lowered by age seconds.
func aged(rrs []dns.RR, age uint32) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		h := out[i].Header()
		h.Ttl -= min(h.Ttl, age)
	}
	return out
}
