package amp

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrOutsideScope is returned by New for a target outside loopback and the
// private ranges when Config.OwnTarget is false. Probing someone else's
// server for amplification is sending it attack traffic, however little;
// the caller must say the target is theirs.
var ErrOutsideScope = errors.New("amp: target is outside loopback and the private ranges")

// InScope reports whether a is an address the auditor probes without
// being told the target is the caller's own: loopback, the RFC 1918
// private ranges, IPv6 unique-local (RFC 4193) and link-local addresses —
// the ranges rensa's resolver answers by default.
func InScope(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast()
}

// checkScope returns an error wrapping ErrOutsideScope when target may not
// be probed.
func checkScope(target netip.Addr, own bool) error {
	if own || InScope(target) {
		return nil
	}
	return fmt.Errorf("%w: %s (say it is yours with OwnTarget, --i-own-this-target on the command line)", ErrOutsideScope, target)
}
