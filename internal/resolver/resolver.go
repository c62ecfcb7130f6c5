package resolver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/cookie"
	"github.com/rensa-dns/rensa/internal/resolver/cache"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/transport"
)

// ExchangeFunc sends one query m to server and returns the reply, over TCP
// when tcp is set and over UDP otherwise (a UDP exchange may still move to
// TCP by itself, as transport.Do53 does on TC=1). It follows the
// transport.Exchanger contract: an error means no acceptable reply arrived
// (wrap transport.ErrMismatch when only non-matching replies did), and a
// reply with any RCODE is not an error. The reply's question must echo m's
// exactly, name case included; the resolver checks it again.
//
// Tests and the replay runner give the resolver a fake network this way;
// the testbed maps ports with the default exchange and Config.Dial.
type ExchangeFunc func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error)

// Validator proves the DNSSEC chain of trust of an answer before it is
// served. It is the seam for package resolver/validate (a
// *validate.Validator implements it); nil means no validation. Validate
// gets the client's question and fetch, which asks the authoritative
// servers for a name and type with the DO bit, through the resolver's
// delegations and within the client query's send budget
// (validate_hook.go). A Secure verdict's answer is served with AD; a Bogus
// one becomes SERVFAIL with its Extended DNS Error. It must be safe for
// concurrent use.
type Validator interface {
	Validate(ctx context.Context, question dns.Question, fetch validate.Fetch) validate.Verdict
}

// Config configures a [Resolver]. Its zero value is a working,
// non-validating resolver for the Internet that answers loopback and
// private clients only.
type Config struct {
	// Hints are the root servers every resolution starts from. Default:
	// IANARootHints(), the IANA root servers. ParseHints reads a file
	// such as the one the testbed writes.
	Hints Hints

	// Forward, when not empty, makes the resolver a forwarder: it asks
	// these upstream resolvers (RD set; DO and CD too with a Validator,
	// which still proves every answer itself) instead of iterating from
	// Hints, fastest first by smoothed RTT, the next one on an error,
	// SERVFAIL or REFUSED (forward.go). ParseUpstream makes them from
	// URLs. Hints, Exchange and Dial are then unused; plain-DNS
	// upstreams still get 0x20 and DNS cookies (Upstream.Plain).
	// Default: none, full recursion.
	Forward []Upstream

	// Exchange sends queries upstream. Default: transport.Do53 with
	// Dial, a fresh socket and a crypto/rand ID per query.
	Exchange ExchangeFunc

	// Dial opens the default exchange's connections. Default: a
	// net.Dialer. The testbed's Dial maps port 53 to its real ports.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Allow lists the client ranges that get answers; all others get
	// REFUSED. Default: DefaultAllow(), loopback and private ranges, so
	// rensa is never an open resolver by accident.
	Allow []netip.Prefix

	// CacheBytes bounds the RRset cache. Default: cache.DefaultMaxBytes.
	CacheBytes int

	// Now is the clock for TTLs and timings. Default: time.Now.
	Now func() time.Time

	// Rand draws the 0x20 case pattern and breaks ties between servers.
	// Default: crypto/rand.Reader. Query IDs come from the transport.
	Rand io.Reader

	// Validator proves answers (DNSSEC). Default: nil, no validation
	// (the command line and the configuration file turn it on with the
	// IANA root anchors unless told otherwise).
	Validator Validator

	// Logger receives upstream failures at debug level. Default: discard.
	Logger *slog.Logger

	// Trace, if set, is called with every state transition of every
	// query, in order, from the goroutine running the query.
	Trace func(Transition)

	// ServeStale, when positive, keeps expired cache entries that long
	// and answers from them, with EDE 3 (Stale Answer) or 19 (Stale
	// NXDOMAIN Answer) and TTL 30 s, when resolution fails (RFC 8767;
	// it suggests 1 to 3 days). Default: 0, off.
	ServeStale time.Duration

	// NoAggressiveNSEC turns off the aggressive use of validated NSEC
	// and NSEC3 records (RFC 8198, aggressive.go, aggressive_nsec3.go):
	// with a Validator, names that the records of a Secure denial prove
	// absent are otherwise answered NXDOMAIN or NODATA from the cache,
	// without asking upstream.
	// Default: false, aggressive use on (LIMITS.md).
	NoAggressiveNSEC bool

	// NoIPv6 never sends queries to IPv6 addresses, for hosts without
	// IPv6 connectivity. Default: false, both families are used.
	NoIPv6 bool

	// NoQNAMEMinimisation sends the full query name to every server.
	// Default: false, names are minimised (RFC 9156, relaxed).
	NoQNAMEMinimisation bool

	// No0x20 turns off random name case in upstream queries. It exists for
	// tests that show the defence matters; the configuration file cannot
	// set it. Default: false, 0x20 on with per-server fallback.
	No0x20 bool

	// SourceAddr, when valid, is the local address of the default
	// exchange's upstream queries, and its port, when nonzero, the UDP
	// source port of every one of them: source-port randomisation (RFC
	// 5452 §9.2) switched off. Like No0x20 it exists for the lab and
	// tests (blindspoof_linux_test.go) and the configuration file cannot
	// set it; it has no effect when Exchange or Dial is given. Default:
	// the zero value, a fresh random port per query.
	SourceAddr netip.AddrPort

	// NoNearMissTCP keeps the default exchange waiting on UDP however
	// many non-matching replies arrive, instead of abandoning UDP for TCP
	// after a few (RFC 5452 §9.1). For the lab and tests only, like
	// SourceAddr. Default: false.
	NoNearMissTCP bool
}

// Kind classifies the outcome of a resolution.
type Kind int

const (
	// KindAnswer is a positive answer, possibly after a CNAME/DNAME chain.
	KindAnswer Kind = iota
	// KindNXDomain is NXDOMAIN for the (last) name of the chain.
	KindNXDomain
	// KindNoData is NOERROR with no data of the type.
	KindNoData
	// KindServFail means the resolution failed; EDE says why.
	KindServFail
	// KindRefused means the client was not allowed or the query is not
	// one the resolver answers.
	KindRefused
)

var kindNames = [...]string{"answer", "nxdomain", "nodata", "servfail", "refused"}

// String returns the kind's name, such as "nxdomain".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Result is the outcome of one resolution.
type Result struct {
	Kind  Kind
	Rcode int
	// Answer holds the chain followed (CNAME, DNAME and synthesised
	// CNAME records) and the final RRset.
	Answer []dns.RR
	// Authority holds the SOA proving a negative answer.
	Authority []dns.RR
	// EDE explains a failure (RFC 8914); nil when there is nothing to
	// say.
	EDE *dns.EDNS0_EDE
	// Security is the DNSSEC status the Validator gave the answer;
	// Indeterminate without a Validator or with the CD bit.
	Security validate.Security
	// Trace lists the state transitions of the resolution, sub-queries
	// for NS addresses included, when Config.Trace is set or the result
	// comes from Resolve.
	Trace []Transition
}

// Resolver is a full-service recursive resolver and a dns.Handler. It is
// safe for concurrent use.
type Resolver struct {
	cfg Config
	// queryTime and attemptTime are maxQueryTime and attemptTimeout;
	// tests of those limits shorten them.
	queryTime, attemptTime time.Duration
	cache                  *cache.Cache
	infra                  *cache.Infra
	flight                 flights
	failed                 failureCache      // RFC 9520
	pending                pendingCounter    // DNSBomb
	cookies                *cookie.ClientJar // client cookies (cookie.go)
	fwd                    *forwarders       // Config.Forward; nil when iterating
	fast                   fastCachePointer  // RawHandler's wire cache (fast.go); nil until used
	nsec                   *cache.NSECs      // validated NSEC records (aggressive.go); nil when off
	nsec3                  *cache.NSECs      // validated NSEC3 records (aggressive_nsec3.go); nil when off

	// ownExchange: Config.Exchange is the default, which bounds each
	// attempt by attemptTimeout itself (send.go, attemptContext).
	ownExchange bool
}

// DefaultAllow returns the client ranges answered by default: loopback,
// the RFC 1918 private ranges, IPv6 unique-local (RFC 4193) and link-local
// addresses.
func DefaultAllow() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// New returns a resolver for cfg, filling in defaults.
func New(cfg Config) (*Resolver, error) {
	if len(cfg.Hints.NS) == 0 {
		cfg.Hints = IANARootHints()
	}
	for _, ns := range cfg.Hints.NS {
		if len(cfg.Hints.Addrs[ns]) == 0 {
			return nil, fmt.Errorf("resolver: root hint %s has no address", ns)
		}
	}
	for i, u := range cfg.Forward {
		if u.Exchanger == nil {
			return nil, fmt.Errorf("resolver: forward upstream %d (%q) has no Exchanger", i, u.Name)
		}
	}
	if cfg.Allow == nil {
		cfg.Allow = DefaultAllow()
	}
	for _, p := range cfg.Allow {
		if !p.IsValid() {
			return nil, errors.New("resolver: invalid prefix in Allow")
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ownExchange := cfg.Exchange == nil
	if ownExchange {
		cfg.Exchange = do53Exchange(cfg.Dial, cfg.SourceAddr, cfg.NoNearMissTCP)
	}
	r := &Resolver{
		failed:      failureCache{now: cfg.Now},
		cfg:         cfg,
		queryTime:   maxQueryTime,
		attemptTime: attemptTimeout,
		ownExchange: ownExchange,
		cache:       cache.New(cache.Config{MaxBytes: cfg.CacheBytes, Now: cfg.Now, ServeStale: cfg.ServeStale}),
		infra:       cache.NewInfra(cfg.Now),
		fwd:         newForwarders(cfg.Forward),
	}
	if cfg.Validator != nil && !cfg.NoAggressiveNSEC {
		r.nsec, r.nsec3 = cache.NewNSECs(cfg.Now), cache.NewNSECs(cfg.Now)
	}
	jar, err := cookie.NewClientJar(cookie.ClientConfig{Rand: cfg.Rand})
	if err != nil {
		return nil, fmt.Errorf("resolver: %w", err)
	}
	r.cookies = jar
	return r, nil
}

// Cache returns the resolver's RRset cache, for inspection by tests and
// tools.
func (r *Resolver) Cache() *cache.Cache { return r.cache }

// do53Exchange is the default ExchangeFunc: one transport.Do53 exchange.
// An exchange that failed after replies that did not match (a server that
// does not echo the 0x20 case, or a spoofing attempt) reports
// transport.ErrMismatch even when it ended in a timeout.
// local and ignoreMisses are the lab-only Config.SourceAddr and
// Config.NoNearMissTCP.
func do53Exchange(dial func(ctx context.Context, network, addr string) (net.Conn, error),
	local netip.AddrPort, ignoreMisses bool) ExchangeFunc {
	return func(ctx context.Context, server netip.AddrPort, m *dns.Msg, tcp bool) (*dns.Msg, error) {
		d := &transport.Do53{Addr: server.String(), Timeout: attemptTimeout, ForceTCP: tcp, Dial: dial,
			LocalAddr: local, IgnoreNearMisses: ignoreMisses}
		reply, out, err := d.ExchangeOutcome(ctx, m)
		if err != nil && out.NearMisses > 0 && !errors.Is(err, transport.ErrMismatch) {
			err = fmt.Errorf("%w: %w", transport.ErrMismatch, err)
		}
		return reply, err
	}
}
