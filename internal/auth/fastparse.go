package auth

import (
	"strings"

	"github.com/rensa-dns/rensa/internal/wire"
)

// fastQuery is what the fast path reads from a raw query: the cache key
// and where the question name ends (wire.Query), and what decides whether
// a precompiled reply applies.
type fastQuery struct {
	wire.Query
	tcp   bool
	limit int // the largest reply the client takes: Answer's sizeLimit
}

// parse reads query into p and reports whether it has the one shape the
// fast path answers (see FastPath.AnswerRaw and wire.Query.Parse). It
// never panics, whatever the octets.
func (p *fastQuery) parse(query []byte, network string, maxUDP int) bool {
	if !p.Parse(query) {
		return false
	}
	p.tcp = strings.HasPrefix(network, "tcp")
	p.limit = p.UDPLimit(maxUDP)
	if p.tcp {
		p.limit = maxTCPSize
	}
	return true
}
