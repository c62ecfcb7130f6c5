package resolver

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/cookie"
	"github.com/rensa-dns/rensa/internal/transport"
)

// DNS Cookies, client side (RFC 7873 §5.1 and §5.3), through the shared
// cookie.ClientJar. Every query with EDNS carries a Client Cookie for the
// server and the Server Cookie last learned from it. A reply whose COOKIE
// option holds another Client Cookie did not come from the server asked:
// like a reply with the wrong ID it is dropped (a mismatch). Servers that
// do not speak cookies are still answered.

// addCookie adds the COOKIE option for server to m, if m has EDNS (a
// server that mishandles EDNS gets neither).
func (r *Resolver) addCookie(m *dns.Msg, server netip.Addr) {
	if m.IsEdns0() != nil {
		r.cookies.Prepare(m, server)
	}
}

// checkCookie verifies the cookie echo of a reply from server and learns
// its Server Cookie. It returns nil for a good reply and for BADCOOKIE
// (handleReply asks again, now with the learned cookie), and an error
// wrapping transport.ErrMismatch for a reply to drop.
func (r *Resolver) checkCookie(reply *dns.Msg, server netip.Addr) error {
	err := r.cookies.Check(reply, server)
	if err == nil || errors.Is(err, cookie.ErrBadCookie) {
		return nil
	}
	return fmt.Errorf("%w: %w", transport.ErrMismatch, err)
}
