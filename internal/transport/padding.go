package transport

import "github.com/miekg/dns"

// queryPaddingBlock is the size DoT, DoH and DoQ queries with EDNS are padded to a multiple
// of: RFC 8467 §4.1's recommended block length for queries, which hides the length of the
// name asked from an on-path observer. RFC 7830 §4 obliges the server to pad its reply too.
const queryPaddingBlock = 128

// padQuery adds to q, which has an OPT record and is owned by the caller, a Padding option
// that brings its wire size to a multiple of queryPaddingBlock. A query without OPT, or
// already padded, is left alone.
func padQuery(q *dns.Msg) error {
	opt := q.IsEdns0()
	if opt == nil {
		return nil
	}
	for _, o := range opt.Option {
		if o.Option() == dns.EDNS0PADDING {
			return nil
		}
	}
	pad := &dns.EDNS0_PADDING{}
	opt.Option = append(opt.Option, pad)
	wire, err := q.Pack()
	if err != nil {
		return err
	}
	pad.Padding = make([]byte, (queryPaddingBlock-len(wire)%queryPaddingBlock)%queryPaddingBlock)
	return nil
}
