package takeover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"

	"github.com/rensa-dns/rensa/internal/transport"
)

// Config configures a Scanner.
type Config struct {
	// Resolver answers the scanner's queries: a recursive resolver,
	// such as transport.Do53 pointed at one. Required.
	Resolver transport.Exchanger
	// Timeout bounds each lookup. Default: DefaultTimeout.
	Timeout time.Duration
	// Fingerprints recognise takeover-prone services. Default: the
	// embedded can-i-take-over-xyz data (DefaultFingerprints).
	Fingerprints []Fingerprint
	// HTTP fetches http://OWNER/ for CNAMEs into a service known by its
	// page, and matches the service's "nothing here" text. Default
	// false: DNS only, nothing connects to the targets.
	HTTP bool
	// HTTPDial opens the page fetches' connections to "ip:80", the
	// target's address as the resolver gave it. Default: a net.Dialer.
	// Tests map it to a loopback server.
	HTTPDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Concurrency is how many records are checked at once. Default and
	// maximum: MaxConcurrentLookups.
	Concurrency int
	// Progress, if set, is called after each record is checked with the
	// number done and the total, from one goroutine at a time.
	Progress func(done, total int)
}

// Scanner finds dangling records. It is safe for concurrent use.
type Scanner struct {
	cfg Config
}

// New returns a Scanner for cfg, filling in defaults.
func New(cfg Config) (*Scanner, error) {
	if cfg.Resolver == nil {
		return nil, errors.New("takeover: no resolver")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Fingerprints == nil {
		fps, err := DefaultFingerprints()
		if err != nil {
			return nil, err
		}
		cfg.Fingerprints = fps
	}
	if cfg.HTTPDial == nil {
		var d net.Dialer
		cfg.HTTPDial = d.DialContext
	}
	if cfg.Concurrency <= 0 || cfg.Concurrency > MaxConcurrentLookups {
		cfg.Concurrency = MaxConcurrentLookups
	}
	return &Scanner{cfg: cfg}, nil
}

// ScanError is a record (or name) the scanner could not judge.
type ScanError struct {
	Record string `json:"record"`
	Error  string `json:"error"`
}

// Report is the outcome of a scan.
type Report struct {
	// Scanned counts the records checked.
	Scanned int `json:"scanned"`
	// Findings are the dangling records, in input order.
	Findings []Finding `json:"findings"`
	// Errors are the records whose lookups got no reply.
	Errors []ScanError `json:"errors,omitempty"`
}

// Max returns the highest severity of r's findings, and false when there
// are none.
func (r Report) Max() (Severity, bool) {
	var max Severity
	for _, f := range r.Findings {
		max = maxSeverity(max, f.Severity)
	}
	return max, len(r.Findings) > 0
}

func maxSeverity(a, b Severity) Severity {
	if a > b {
		return a
	}
	return b
}

// ErrResolver is wrapped by Scan's error when the resolver does not
// answer at all: the scan did not happen, which is not "no findings".
var ErrResolver = errors.New("takeover: the resolver does not answer")

// Scan checks every record and returns the dangling ones. A record is
// dangling when its target (after CNAMEs) does not exist, when the
// target's registrable domain does not exist, when the target's zone is
// lame (its servers answer REFUSED or SERVFAIL: the resolver says
// SERVFAIL), for a delegation when the child zone is lame, and, with
// Config.HTTP, when the service's page says nothing is there.
func (s *Scanner) Scan(ctx context.Context, recs []Record) (Report, error) {
	if len(recs) > MaxRecords {
		return Report{}, fmt.Errorf("takeover: %d records, more than %d", len(recs), MaxRecords)
	}
	if err := s.probe(ctx); err != nil {
		return Report{}, err
	}
	findings := make([]*Finding, len(recs))
	errs := make([]error, len(recs))
	reg := &registry{known: map[string]kind{}}
	s.parallel(ctx, len(recs), s.cfg.Progress, func(i int) {
		findings[i], errs[i] = s.check(ctx, recs[i], reg)
	})
	rep := Report{Scanned: len(recs), Findings: []Finding{}}
	for i, f := range findings {
		if errs[i] != nil {
			rep.Errors = append(rep.Errors, ScanError{Record: recs[i].RR, Error: errs[i].Error()})
		}
		if f != nil {
			rep.Findings = append(rep.Findings, *f)
		}
	}
	return rep, ctx.Err()
}

// probe asks the resolver for the root's NS set, so a resolver that is
// down fails the scan instead of making every record an error.
func (s *Scanner) probe(ctx context.Context) error {
	if _, err := s.resolve(ctx, ".", dns.TypeNS); err != nil {
		return fmt.Errorf("%w: %w", ErrResolver, err)
	}
	return nil
}

// parallel runs fn(0..n-1) on at most Config.Concurrency goroutines and
// reports progress (if not nil); it returns when all calls have.
func (s *Scanner) parallel(ctx context.Context, n int, progress func(done, total int), fn func(i int)) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // guards done and serialises Progress
		done int
	)
	next := make(chan int)
	for range min(s.cfg.Concurrency, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
				mu.Lock()
				done++
				if progress != nil {
					progress(done, n)
				}
				mu.Unlock()
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// registry remembers which registrable domains exist, for one scan.
type registry struct {
	mu    sync.Mutex
	known map[string]kind // guarded by mu
}

// check judges one record: nil when it is healthy.
func (s *Scanner) check(ctx context.Context, rec Record, reg *registry) (*Finding, error) {
	ans, err := s.resolve(ctx, rec.Target, dns.TypeA)
	if err != nil {
		return nil, err
	}
	svc := lookupService(s.cfg.Fingerprints, append([]string{rec.Target}, ans.chain...)...)
	switch ans.kind {
	case kindNXDomain:
		if rd, ok := s.unregistered(ctx, ans.final, reg); ok {
			return s.finding(rec, ans, svc, ReasonUnregistered, fmt.Sprintf("%s does not exist and its domain %s is not registered", ans.final, rd)), nil
		}
		return s.finding(rec, ans, svc, ReasonNXDomain, fmt.Sprintf("%s does not exist (NXDOMAIN)", ans.final)), nil
	case kindFailed:
		return s.finding(rec, ans, svc, ReasonLame, fmt.Sprintf("the servers of %s's zone do not answer for it: %s", ans.final, ans.detail)), nil
	}
	if rec.Delegation {
		soa, err := s.resolve(ctx, rec.Owner, dns.TypeSOA)
		if err != nil {
			return nil, err
		}
		if soa.kind == kindFailed {
			return s.finding(rec, ans, svc, ReasonLame, fmt.Sprintf("the delegated zone %s is lame: its servers do not answer for it: %s", rec.Owner, soa.detail)), nil
		}
	}
	if s.cfg.HTTP && rec.Type == dns.TypeCNAME && svc != nil && svc.HasPage() && len(ans.addrs) > 0 {
		status, body, err := s.fetch(ctx, rec.Owner, ans.addrs[0])
		if err != nil {
			return nil, err
		}
		if svc.MatchesPage(status, body) {
			return s.finding(rec, ans, svc, ReasonHTTP, fmt.Sprintf("http://%s/ answers %d with %s's fingerprint %q", strings.TrimSuffix(rec.Owner, "."), status, svc.Service, svc.Fingerprint)), nil
		}
	}
	return nil, nil
}

// unregistered reports whether the registrable domain of name (its
// public suffix plus one label) does not exist, and names it.
func (s *Scanner) unregistered(ctx context.Context, name string, reg *registry) (string, bool) {
	rd, err := publicsuffix.EffectiveTLDPlusOne(strings.TrimSuffix(name, "."))
	if err != nil {
		return "", false
	}
	rd = dns.CanonicalName(rd)
	reg.mu.Lock()
	k, ok := reg.known[rd]
	reg.mu.Unlock()
	if !ok {
		ans, err := s.resolve(ctx, rd, dns.TypeSOA)
		if err != nil {
			return "", false
		}
		k = ans.kind
		reg.mu.Lock()
		reg.known[rd] = k
		reg.mu.Unlock()
	}
	return rd, k == kindNXDomain
}

// fetch gets http://owner/ from addr (port 80), with the owner as the
// Host, and returns the status and at most MaxHTTPBody bytes of the
// page. Redirects are not followed: the service's own answer is what
// the fingerprints describe.
func (s *Scanner) fetch(ctx context.Context, owner string, addr netip.Addr) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, HTTPTimeout)
	defer cancel()
	target := netip.AddrPortFrom(addr, 80).String()
	client := &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return s.cfg.HTTPDial(ctx, network, target)
			},
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+strings.TrimSuffix(owner, ".")+"/", nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("takeover: fetch %s: %w", req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxHTTPBody))
	if err != nil {
		return 0, nil, fmt.Errorf("takeover: fetch %s: %w", req.URL, err)
	}
	return resp.StatusCode, body, nil
}

// finding builds a finding and grades it.
func (s *Scanner) finding(rec Record, ans answer, svc *Fingerprint, reason Reason, detail string) *Finding {
	f := &Finding{
		Record: rec.RR, Owner: rec.Owner, Type: typeName(rec.Type), Target: ans.final, Chain: ans.chain,
		Reason: reason, Detail: detail, File: rec.File, Line: rec.Line,
	}
	if svc != nil {
		f.Service = svc.Service
	}
	f.Severity, f.Confidence = grade(reason, svc)
	return f
}

// grade rates a finding: an unregistered domain anyone can buy is
// critical; a known-vulnerable service's "nothing here" (NXDOMAIN or
// page) is high with high confidence; a service its fingerprint calls
// not vulnerable is low; an unknown target that does not exist is
// medium; a lame zone is medium with low confidence, since servers also
// fail for a moment.
func grade(reason Reason, svc *Fingerprint) (Severity, Confidence) {
	vulnerable := svc != nil && svc.Vulnerable
	edge := svc != nil && strings.EqualFold(svc.Status, "Edge case")
	switch {
	case reason == ReasonUnregistered:
		return Critical, ConfidenceHigh
	case svc == nil && reason == ReasonLame:
		return Medium, ConfidenceLow
	case svc == nil:
		return Medium, ConfidenceMedium
	case vulnerable && reason == ReasonLame:
		return High, ConfidenceMedium
	case vulnerable:
		return High, ConfidenceHigh
	case edge:
		return Medium, ConfidenceMedium
	}
	return Low, ConfidenceMedium
}
