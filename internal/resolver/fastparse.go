package resolver

import (
	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/wire"
)

// Key flags of the wire cache besides wire.KeyEDNS and wire.KeyDO.
const (
	keyAD       = wire.KeyDO << 1 // the query has AD set
	keyFlagsAll = wire.KeyEDNS | wire.KeyDO | keyAD
)

// fastQuery is what RawHandler reads from a query: the cache key and
// where the question name ends (wire.Query), and the client's UDP size
// limit.
type fastQuery struct {
	wire.Query
	// limit is the largest reply ServeDNS sends the client whole: 512
	// without EDNS, else its UDP size within [512, udpSize].
	limit int
}

// parse reads query into p and reports whether it has the one shape
// RawHandler answers: the shape of wire.Query.Parse, with RD set, CD clear
// and an OPT record, if any, with extended RCODE 0 and no flag but DO. It
// never panics, whatever the octets.
func (p *fastQuery) parse(query []byte) bool {
	if !p.Parse(query) || query[2]&wire.RD == 0 || query[3]&wire.CD != 0 || p.OPTTTL&^wire.OPTDO != 0 {
		return false
	}
	if query[3]&wire.AD != 0 {
		p.Key[2] |= keyAD
	}
	p.limit = p.UDPLimit(udpSize)
	return true
}

// fromMsg sets p from req, a query ServeDNS answered, and reports whether
// it has the shape parse takes (so that a reply filed under its key is
// one RawHandler may give): the same test on the unpacked message.
func (p *fastQuery) fromMsg(req *dns.Msg) bool {
	if req.Response || req.Opcode != dns.OpcodeQuery || !req.RecursionDesired || req.CheckingDisabled ||
		len(req.Question) != 1 || len(req.Answer) != 0 || len(req.Ns) != 0 || len(req.Extra) > 1 {
		return false
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET || !wire.CacheableType(q.Qtype) {
		return false
	}
	var flags byte
	if req.AuthenticatedData {
		flags |= keyAD
	}
	if len(req.Extra) == 1 {
		opt, ok := req.Extra[0].(*dns.OPT)
		// TTL: extended RCODE, version, flags; DO is flag bit 15.
		if !ok || opt.Hdr.Name != "." || opt.Hdr.Ttl&^wire.OPTDO != 0 || len(opt.Option) != 0 {
			return false
		}
		flags |= wire.KeyEDNS
		if opt.Do() {
			flags |= wire.KeyDO
		}
	}
	return p.SetKey(q.Name, q.Qtype, flags)
}
