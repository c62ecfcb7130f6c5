package takeover

import (
	"context"
	"fmt"

	"github.com/miekg/dns"
)

// discoverTypes are the types asked for each name given to Discover.
var discoverTypes = [...]uint16{dns.TypeCNAME, dns.TypeNS, dns.TypeMX, dns.TypeSRV}

// Discover asks the resolver for the CNAME, NS, MX and SRV records of
// each name and returns them as records to Scan, in name order. Names
// that fail to resolve are returned as ScanErrors; a resolver that does
// not answer at all fails the call (ErrResolver).
func (s *Scanner) Discover(ctx context.Context, names []string) ([]Record, []ScanError, error) {
	if len(names) > MaxRecords {
		return nil, nil, fmt.Errorf("takeover: %d names, more than %d", len(names), MaxRecords)
	}
	for _, n := range names {
		if _, ok := dns.IsDomainName(n); !ok {
			return nil, nil, fmt.Errorf("takeover: %q is not a domain name", n)
		}
	}
	if err := s.probe(ctx); err != nil {
		return nil, nil, err
	}
	found := make([][]Record, len(names))
	failed := make([]error, len(names))
	s.parallel(ctx, len(names), nil, func(i int) {
		found[i], failed[i] = s.discover(ctx, dns.CanonicalName(names[i]))
	})
	var recs []Record
	var errs []ScanError
	for i := range names {
		recs = append(recs, found[i]...)
		if failed[i] != nil {
			errs = append(errs, ScanError{Record: names[i], Error: failed[i].Error()})
		}
	}
	return recs, errs, ctx.Err()
}

// discover returns the records of one name.
func (s *Scanner) discover(ctx context.Context, name string) ([]Record, error) {
	var out []Record
	for _, t := range discoverTypes {
		m := new(dns.Msg)
		m.SetQuestion(name, t)
		m.RecursionDesired = true
		m.SetEdns0(ednsSize, false)
		qctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		r, err := s.cfg.Resolver.Exchange(qctx, m)
		cancel()
		if err != nil {
			return out, err
		}
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			return out, fmt.Errorf("%s %s: %s", name, typeName(t), dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			if rr.Header().Rrtype != t || dns.CanonicalName(rr.Header().Name) != name {
				continue
			}
			if rec, ok := FromRR(rr); ok {
				out = append(out, rec)
			}
		}
	}
	return out, nil
}
