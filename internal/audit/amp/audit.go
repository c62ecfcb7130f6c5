package amp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// ErrNoReply is returned by Run when no probe got a reply: the server is
// down, filtered, or not a DNS server, and there is nothing to judge.
var ErrNoReply = errors.New("amp: no probe got a reply")

// Config says what to audit. Target is required; the zero value of every
// other field is a working default.
type Config struct {
	// Target is the server's address and port. New refuses it when it
	// is outside loopback and the private ranges, unless OwnTarget.
	Target netip.AddrPort

	// OwnTarget says the caller runs the target (or may probe it), so a
	// global address is allowed. Default: false.
	OwnTarget bool

	// Name is a zone to probe besides the root, typically one the
	// server is authoritative for; the random name of the recursion
	// probe is made under it. Default: "", the root only.
	Name string

	// Source is the local address to send from. A source chosen here is
	// taken to stand for a client outside the server's trusted ranges:
	// recursion offered to it makes the verdict OpenResolver. On
	// loopback any 127.0.0.0/8 address works, such as 127.66.0.1, to see
	// what a server's ACL does for a client it does not know. Default:
	// the zero Addr, chosen by the system; recursion offered to a
	// loopback or private source is RecursionHere, not a finding.
	Source netip.Addr

	// Timeout is how long each probe waits for its reply, at most
	// MaxTimeout. Default: DefaultTimeout.
	Timeout time.Duration

	// Burst is how many identical queries test for rate limiting,
	// MinLimited to MaxBurst. Default: DefaultBurst.
	Burst int

	// Rand is the source of query IDs, the random name and the client
	// cookie. Default: crypto/rand.Reader.
	Rand io.Reader
}

// Auditor runs amplification audits of one target.
type Auditor struct {
	cfg Config
}

// New checks cfg, fills in defaults, and returns an Auditor. It returns an
// error wrapping ErrOutsideScope for a target it may not probe.
func New(cfg Config) (*Auditor, error) {
	if !cfg.Target.IsValid() || cfg.Target.Port() == 0 {
		return nil, errors.New("amp: the target needs an address and a port")
	}
	if err := checkScope(cfg.Target.Addr(), cfg.OwnTarget); err != nil {
		return nil, err
	}
	if cfg.Name != "" {
		if _, ok := dns.IsDomainName(cfg.Name); !ok {
			return nil, fmt.Errorf("amp: %q is not a domain name", cfg.Name)
		}
		cfg.Name = dns.CanonicalName(cfg.Name)
	}
	if cfg.Source.IsValid() && cfg.Source.Unmap().Is4() != cfg.Target.Addr().Unmap().Is4() {
		return nil, fmt.Errorf("amp: source %s and target %s are of different address families", cfg.Source, cfg.Target.Addr())
	}
	switch {
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultTimeout
	case cfg.Timeout < 0 || cfg.Timeout > MaxTimeout:
		return nil, fmt.Errorf("amp: timeout %v is outside (0, %v]", cfg.Timeout, MaxTimeout)
	}
	switch {
	case cfg.Burst == 0:
		cfg.Burst = DefaultBurst
	case cfg.Burst < MinLimited || cfg.Burst > MaxBurst:
		return nil, fmt.Errorf("amp: burst %d is outside %d..%d", cfg.Burst, MinLimited, MaxBurst)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Auditor{cfg: cfg}, nil
}

// step is one stage of a run.
type step int

const (
	stepProbes    step = iota // the single amplification probes
	stepRecursion             // the random name with RD=1
	stepCookies               // a query with a client cookie
	stepBurst                 // identical queries, for RRL
	stepVerdict               // sum up
	stepDone
)

// run is the state of one audit.
type run struct {
	a       *Auditor
	rep     Report
	ids     uint16          // next query ID
	baseTC  map[string]bool // probe question -> its reply was TC with no answer
	replied int             // probes that got a reply
}

// Run audits the target and returns the report. The error is non-nil
// only when the run could not complete: ErrNoReply when nothing
// answered, a socket error, or ctx ending; the report holds what was
// measured until then.
func (a *Auditor) Run(ctx context.Context) (Report, error) {
	r := &run{a: a, baseTC: map[string]bool{}}
	r.rep.Target = a.cfg.Target.String()
	var id [2]byte
	if _, err := io.ReadFull(a.cfg.Rand, id[:]); err != nil {
		return r.rep, fmt.Errorf("amp: random: %w", err)
	}
	r.ids = uint16(id[0])<<8 | uint16(id[1])
	var err error
	for s := stepProbes; s != stepDone && err == nil; {
		switch s {
		case stepProbes:
			err = r.probes(ctx)
			s = stepRecursion
			if err == nil && r.replied == 0 {
				err = ErrNoReply
			}
		case stepRecursion:
			err = r.recursion(ctx)
			s = stepCookies
		case stepCookies:
			err = r.cookies(ctx)
			s = stepBurst
		case stepBurst:
			err = r.burst(ctx)
			s = stepVerdict
		case stepVerdict:
			r.rep.Verdict = verdict(r.rep)
			s = stepDone
		}
	}
	return r.rep, err
}

// nextID returns a fresh query ID.
func (r *run) nextID() uint16 {
	r.ids++
	return r.ids
}

// query builds a query for name and qtype with RD=1 and EDNS advertising
// ednsSize, with the DO bit as given: with DO, what a forger sends to get
// the largest answer, and the RD bit an open resolver acts on.
func (r *run) query(name string, qtype uint16, do bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = r.nextID()
	m.RecursionDesired = true
	m.SetEdns0(ednsSize, do)
	return m
}

// probeTypes are the questions of the amplification probes, asked for
// the root and for Config.Name: ANY (RFC 8482 servers answer it minimally),
// DNSKEY (large in signed zones, larger with DO), TXT (SPF and
// verification records pile up) and NS (referral data with glue).
var probeTypes = [...]uint16{dns.TypeANY, dns.TypeDNSKEY, dns.TypeTXT, dns.TypeNS}

// probes sends each amplification probe once.
func (r *run) probes(ctx context.Context) error {
	names := []string{"."}
	if r.a.cfg.Name != "" && r.a.cfg.Name != "." {
		names = append(names, r.a.cfg.Name)
	}
	for _, name := range names {
		for _, t := range probeTypes {
			q := r.query(name, t, true)
			p := Probe{Name: name, Type: dns.TypeToString[t]}
			reply, sent, received, err := r.exchange(ctx, q)
			p.Sent = sent
			if err := r.describe(&p, reply, received, err); err != nil {
				return err
			}
			if reply != nil {
				r.replied++
				r.baseTC[p.Name+" "+p.Type] = reply.Truncated && len(reply.Answer) == 0
			}
			r.rep.Probes = append(r.rep.Probes, p)
		}
	}
	return nil
}

// describe fills in p from an exchange's outcome; it returns err only
// when it is not a missing reply.
func (r *run) describe(p *Probe, reply *dns.Msg, received int, err error) error {
	switch {
	case errors.Is(err, errNoReply):
		p.Error = fmt.Sprintf("no reply within %v", r.a.cfg.Timeout)
		return nil
	case err != nil:
		return err
	}
	p.Received = received
	p.Factor = factor(received, p.Sent)
	p.Rcode = dns.RcodeToString[reply.Rcode]
	p.TC = reply.Truncated
	p.Answers = len(reply.Answer)
	return nil
}
