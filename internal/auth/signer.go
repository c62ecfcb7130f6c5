package auth

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/zone"
)

// OnlineZone is a zone the server signs itself (online signing, as Knot
// DNS's automatic signing): its records, unsigned or signed before (old
// DNSSEC records are replaced), and the keys to sign it with.
type OnlineZone struct {
	// Zone is the zone to sign.
	Zone *zone.Zone
	// Keys sign the zone (dnssec.SignConfig.Keys): all for its origin,
	// with private keys, at least one with the SEP flag.
	Keys []*dnssec.Key
	// NSEC3 selects NSEC3 with these parameters; nil selects NSEC.
	NSEC3 *dnssec.NSEC3Params
}

// SignerConfig configures a Signer. Its zero value signs with the
// defaults of dnssec.Sign.
type SignerConfig struct {
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Rand is the source of signature expiration jitter. Default
	// crypto/rand.
	Rand io.Reader
	// Validity is how long new signatures are valid. Default
	// dnssec.DefaultValidity (14 days).
	Validity time.Duration
	// Logger receives a line per re-signed zone and re-signing errors.
	// Default: discarded.
	Logger *slog.Logger
}

// Signer signs zones for a Server and keeps their signatures fresh: it
// re-signs a zone when half the time from its signing to its earliest
// signature expiration has passed (at least a quarter of the validity
// before any signature expires), and swaps the new zone in with
// SetZones, so no signature the server sends has ever expired and the
// fast path's precompiled replies are dropped with the old set.
//
//	signer, err := auth.NewSigner(engine, auth.SignerConfig{})
//	signed, err := signer.Sign(auth.OnlineZone{Zone: z, Keys: keys})
//	engine.SetZones(zone.NewSet(signed, other))
//	for {
//		next := signer.Refresh()   // re-signs what is due, swaps the set
//		... wait until next ...
//	}
//
// Refresh keeps re-signing a zone Sign returned as long as that zone (or
// a re-signed version) is in the server's set; a zone replaced by a
// reload is forgotten. A Signer is safe for concurrent use; Refresh does
// not replace a set that changed while it signed, but tries again at the
// next call.
type Signer struct {
	srv *Server
	cfg SignerConfig

	mu sync.Mutex // guards zones and round
	// zones maps each signed zone this Signer made to how to sign it
	// again.
	zones map[*zone.Zone]*onlineState
	// round counts the calls of Refresh. A zone signed but not yet in
	// the server's set is kept through one round, so that its caller has
	// time to serve it.
	round uint64
}

// onlineState is an online zone as last signed.
type onlineState struct {
	src    OnlineZone
	resign time.Time // when to sign again
	round  uint64    // Signer.round when it was signed
}

// NewSigner returns a Signer for srv.
func NewSigner(srv *Server, cfg SignerConfig) (*Signer, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Validity != 0 && (cfg.Validity < dnssec.MinValidity || cfg.Validity > dnssec.MaxValidity) {
		return nil, fmt.Errorf("%w: signature validity %v is outside %v to %v", ErrConfig, cfg.Validity, dnssec.MinValidity, dnssec.MaxValidity)
	}
	return &Signer{srv: srv, cfg: cfg, zones: map[*zone.Zone]*onlineState{}}, nil
}

// Sign signs o now and returns the signed zone, which the caller serves
// with the Server's SetZones; from then on Refresh re-signs it when due.
// Errors name the zone.
func (s *Signer) Sign(o OnlineZone) (*zone.Zone, error) {
	signed, resign, err := s.sign(o)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.zones[signed] = &onlineState{src: o, resign: resign, round: s.round}
	s.mu.Unlock()
	return signed, nil
}

// sign signs o and returns the zone and when to sign it again: halfway
// from now to its earliest signature expiration.
func (s *Signer) sign(o OnlineZone) (*zone.Zone, time.Time, error) {
	now := s.cfg.Now()
	signed, err := dnssec.Sign(o.Zone, dnssec.SignConfig{
		Keys: o.Keys, NSEC3: o.NSEC3, Validity: s.cfg.Validity, Rand: s.cfg.Rand,
		Now: func() time.Time { return now },
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("auth: sign zone %s: %w", o.Zone.Origin, err)
	}
	expires, ok := earliestExpiration(signed)
	if !ok {
		return nil, time.Time{}, fmt.Errorf("auth: sign zone %s: no signatures made", o.Zone.Origin)
	}
	return signed, now.Add(expires.Sub(now) / 2), nil
}

// earliestExpiration returns the earliest expiration of z's signatures.
func earliestExpiration(z *zone.Zone) (time.Time, bool) {
	var first time.Time
	for _, name := range z.Names() {
		for _, sigs := range z.Node(name).Sigs {
			for _, rr := range sigs {
				exp := time.Unix(int64(rr.(*dns.RRSIG).Expiration), 0)
				if first.IsZero() || exp.Before(first) {
					first = exp
				}
			}
		}
	}
	return first, !first.IsZero()
}

// Refresh re-signs every zone of the server's set that this Signer signed
// and whose re-signing time has come, and swaps the new set in at once.
// A zone that fails to sign keeps serving its current signatures and is
// tried again at the next call; the error is logged and returned. Refresh
// returns the earliest time a zone is due next (the zero time when no
// zone is signed online); call it again then.
func (s *Signer) Refresh() (next time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.round++ }()
	set := s.srv.Zones()
	now := s.cfg.Now()
	var zones []*zone.Zone
	var errs []error
	changed := false
	tracked := map[*zone.Zone]*onlineState{}
	for _, origin := range set.Origins() {
		z := set.Zone(origin)
		st := s.zones[z]
		if st != nil && !now.Before(st.resign) {
			signed, resign, err := s.sign(st.src)
			if err != nil {
				s.cfg.Logger.Error("re-signing failed, keeping the current signatures", "zone", origin, "err", err)
				errs = append(errs, err)
			} else {
				s.cfg.Logger.Info("re-signed", "zone", origin, "next", resign)
				z, st, changed = signed, &onlineState{src: st.src, resign: resign, round: s.round}, true
			}
		}
		if st != nil {
			tracked[z] = st
			if next.IsZero() || st.resign.Before(next) {
				next = st.resign
			}
		}
		zones = append(zones, z)
	}
	if changed && !s.srv.zones.CompareAndSwap(set, zone.NewSet(zones...)) {
		// A reload swapped the set meanwhile: re-sign from it next time.
		return now, errors.Join(errs...)
	}
	for z, st := range s.zones {
		if _, served := tracked[z]; !served && st.round == s.round {
			tracked[z] = st // signed since the last round, not served yet
		}
	}
	s.zones = tracked
	return next, errors.Join(errs...)
}

// LoadKeys reads the signing keys of zone origin from the BIND key files
// in dir (K<origin>+*.key and .private), as "rensa auth --key-dir" and
// key-dir in the configuration do. Every error names the file or the
// directory: a key file that does not parse, a pair that does not match,
// a key of another zone, an algorithm rensa cannot sign with, or no keys
// at all.
func LoadKeys(dir, origin string) ([]*dnssec.Key, error) {
	keys, err := dnssec.ReadKeyFiles(dir, origin)
	if err != nil {
		return nil, fmt.Errorf("auth: keys of zone %s: %w", origin, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("auth: keys of zone %s: no key files K%s+*.key in %s (make them with rensa keygen --zone %s --dir %s)",
			origin, origin, dir, origin, dir)
	}
	return keys, nil
}
