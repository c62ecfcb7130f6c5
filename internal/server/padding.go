package server

import "github.com/miekg/dns"

// paddingBlock is the size replies over an encrypted transport are padded to a multiple
// of, when their query was padded: RFC 8467 §4.1's recommended block length for
// responses, which hides the length of most answers from an on-path observer.
const paddingBlock = 468

// hasPadding reports whether req carries an EDNS(0) Padding option (RFC 7830): its client
// wants padded replies, and RFC 7830 §4 then requires them.
func hasPadding(req *dns.Msg) bool {
	if opt := req.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if o.Option() == dns.EDNS0PADDING {
				return true
			}
		}
	}
	return false
}

// withPadding returns m with a Padding option that brings its wire size to a multiple of
// paddingBlock (RFC 8467 Block-Length Padding). A reply without an OPT record, one that
// already has padding, or one that does not pack is returned as is. m itself is not
// changed: the copy shares every record but the OPT.
func withPadding(m *dns.Msg) *dns.Msg {
	opt := m.IsEdns0()
	if opt == nil || hasPadding(m) {
		return m
	}
	pad := &dns.EDNS0_PADDING{}
	c := *m
	c.Extra = make([]dns.RR, len(m.Extra))
	for i, rr := range m.Extra {
		if rr != opt {
			c.Extra[i] = rr
			continue
		}
		o := *opt
		o.Option = append(append([]dns.EDNS0(nil), opt.Option...), pad)
		c.Extra[i] = &o
	}
	packed, err := c.Pack() // with an empty padding option: its 4-byte header counts
	if err != nil {
		return m
	}
	n := (paddingBlock - len(packed)%paddingBlock) % paddingBlock
	if len(packed)+n > tcpMessageMax {
		return m
	}
	pad.Padding = make([]byte, n)
	return &c
}
