package caa

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/transport"
)

// Status is the outcome of a check.
type Status string

// The outcomes of a check. A DNS failure is never "allowed": RFC 8659
// section 3 lets a CA issue only after the search completed.
const (
	Allowed    Status = "allowed"
	NotAllowed Status = "not-allowed"
	DNSFailure Status = "dns-failure"
)

// Config configures a Checker.
type Config struct {
	// Resolver answers the checker's CAA queries: a recursive resolver
	// that follows CNAMEs, such as transport.Do53 pointed at one.
	// Required.
	Resolver transport.Exchanger
	// Timeout bounds each lookup. Default: DefaultTimeout.
	Timeout time.Duration
}

// Checker runs the CA's CAA check over DNS. It is safe for concurrent
// use.
type Checker struct {
	cfg Config
}

// New returns a Checker for cfg, filling in defaults.
func New(cfg Config) (*Checker, error) {
	if cfg.Resolver == nil {
		return nil, errors.New("caa: no resolver")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Checker{cfg: cfg}, nil
}

// Lookup is one step of the search: the CAA query for one name and what
// came back.
type Lookup struct {
	Name    string `json:"name"`
	Rcode   string `json:"rcode,omitempty"`
	Records int    `json:"records"`
	Error   string `json:"error,omitempty"`
}

// Result is the outcome of a check.
type Result struct {
	// Name is the request name, Issuer the CA asking.
	Name   string `json:"name"`
	Issuer string `json:"issuer"`
	// Wildcard reports a wildcard request ("*." stripped for the search).
	Wildcard bool   `json:"wildcard"`
	Status   Status `json:"status"`
	// RelevantName owns the relevant RRset: the first name of the climb
	// with CAA records; "" when no name had any.
	RelevantName string `json:"relevant_name"`
	// RRset is the relevant RRset, as found (after CNAMEs).
	RRset []Property `json:"rrset"`
	// Decision is the verdict on RRset; its Reason explains a failure
	// too.
	Decision Decision `json:"decision"`
	// Lookups are the queries made, in order.
	Lookups []Lookup `json:"lookups"`
}

// ErrLookup is wrapped by errors of a search that could not complete: a
// CAA query failed (SERVFAIL, REFUSED, a timeout).
var ErrLookup = errors.New("caa: lookup failed")

// Check searches for the relevant RRset of req.Name and decides on it
// (RFC 8659 section 3): it asks for the CAA RRset of the name (a "*."
// prefix removed), then of each parent up to the root, and stops at the
// first non-empty one. The resolver follows CNAMEs, so a name that is an
// alias is judged by its target's CAA records, while the climb goes on
// from the alias's own parent, as the RFC says. NXDOMAIN and NODATA are
// empty RRsets; any other failure ends the search with Status DNSFailure
// and an error wrapping ErrLookup.
func (c *Checker) Check(ctx context.Context, req Request) (Result, error) {
	name := dns.CanonicalName(strings.TrimPrefix(req.Name, "*."))
	res := Result{Name: req.Name, Issuer: req.Issuer, Wildcard: req.Wildcard(), RRset: []Property{}, Lookups: []Lookup{}}
	if _, ok := dns.IsDomainName(name); !ok {
		return res, fmt.Errorf("caa: %q is not a domain name", req.Name)
	}
	labels := dns.SplitDomainName(name)
	if len(labels)+1 > MaxClimb {
		return res, fmt.Errorf("caa: %q has more than %d labels", req.Name, MaxClimb-1)
	}
	for i := 0; i <= len(labels); i++ {
		x := dns.Fqdn(strings.Join(labels[i:], "."))
		rrset, look, err := c.lookup(ctx, x)
		res.Lookups = append(res.Lookups, look)
		if err != nil {
			res.Status = DNSFailure
			res.Decision.Reason = fmt.Sprintf("CAA lookup for %s failed (%v): a CA must not issue", x, err)
			return res, fmt.Errorf("%w: %s: %w", ErrLookup, x, err)
		}
		if len(rrset) > 0 {
			res.RelevantName, res.RRset = x, rrset
			break
		}
	}
	res.Decision = Decide(res.RRset, req)
	res.Status = NotAllowed
	if res.Decision.Allowed {
		res.Status = Allowed
	}
	if res.RelevantName == "" {
		res.Decision.Reason = "no CAA records at the name or any parent: any CA may issue"
	}
	return res, nil
}

// errRcode is a reply whose RCODE is neither NOERROR nor NXDOMAIN.
type errRcode struct{ rcode int }

func (e errRcode) Error() string { return dns.RcodeToString[e.rcode] }

// lookup asks the resolver for the CAA RRset of name and returns the
// CAA records of the answer (of the CNAME target's, when name is an
// alias).
func (c *Checker) lookup(ctx context.Context, name string) ([]Property, Lookup, error) {
	look := Lookup{Name: name}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeCAA)
	m.RecursionDesired = true
	m.SetEdns0(ednsSize, false)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	r, err := c.cfg.Resolver.Exchange(ctx, m)
	if err != nil {
		look.Error = err.Error()
		return nil, look, err
	}
	look.Rcode = dns.RcodeToString[r.Rcode]
	switch r.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, look, nil
	default:
		return nil, look, errRcode{r.Rcode}
	}
	var out []Property
	for _, rr := range r.Answer {
		if caa, ok := rr.(*dns.CAA); ok {
			out = append(out, FromRR(caa))
		}
	}
	look.Records = len(out)
	if len(out) > MaxRecordsPerRRset {
		return nil, look, fmt.Errorf("%d CAA records, more than %d", len(out), MaxRecordsPerRRset)
	}
	return out, look, nil
}
