package takeover

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// kind classifies what the resolver said about a name.
type kind int

const (
	kindExists   kind = iota // NOERROR: the name exists (with or without data of the type)
	kindNXDomain             // NXDOMAIN for the name or the end of its CNAME chain
	kindFailed               // SERVFAIL, REFUSED or any other RCODE; or a chain too long
)

// answer is one classified resolution.
type answer struct {
	kind   kind
	rcode  int
	chain  []string     // CNAME targets followed from the name, in order
	final  string       // the last name of the chain (the name itself without one)
	addrs  []netip.Addr // A/AAAA records of final
	detail string       // what the resolver said, for findings
}

// resolve asks the resolver for name and qtype and classifies the reply.
// It errors only when no reply arrived.
func (s *Scanner) resolve(ctx context.Context, name string, qtype uint16) (answer, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(ednsSize, false)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	r, err := s.cfg.Resolver.Exchange(ctx, m)
	if err != nil {
		return answer{}, err
	}
	a := answer{rcode: r.Rcode, final: dns.CanonicalName(name)}
	for len(a.chain) <= MaxCNAMEChain {
		next := ""
		for _, rr := range r.Answer {
			if c, ok := rr.(*dns.CNAME); ok && dns.CanonicalName(c.Hdr.Name) == a.final {
				next = dns.CanonicalName(c.Target)
				break
			}
		}
		if next == "" {
			break
		}
		a.chain = append(a.chain, next)
		a.final = next
	}
	for _, rr := range r.Answer {
		if dns.CanonicalName(rr.Header().Name) != a.final {
			continue
		}
		switch rr := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(rr.A.To4()); ok {
				a.addrs = append(a.addrs, ip)
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(rr.AAAA); ok {
				a.addrs = append(a.addrs, ip)
			}
		}
	}
	a.detail = dns.RcodeToString[r.Rcode]
	if ede := edeText(r); ede != "" {
		a.detail += " (" + ede + ")"
	}
	switch {
	case len(a.chain) > MaxCNAMEChain:
		a.kind = kindFailed
		a.detail = fmt.Sprintf("CNAME chain longer than %d", MaxCNAMEChain)
	case r.Rcode == dns.RcodeSuccess:
		a.kind = kindExists
	case r.Rcode == dns.RcodeNameError:
		a.kind = kindNXDomain
	default:
		a.kind = kindFailed
	}
	return a, nil
}

// edeText returns the reply's Extended DNS Errors (RFC 8914) as text.
func edeText(r *dns.Msg) string {
	opt := r.IsEdns0()
	if opt == nil {
		return ""
	}
	var parts []string
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_EDE); ok {
			s := "EDE " + fmt.Sprint(e.InfoCode)
			if t := dns.ExtendedErrorCodeToString[e.InfoCode]; t != "" {
				s += " " + t
			}
			if e.ExtraText != "" {
				s += ": " + e.ExtraText
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}
