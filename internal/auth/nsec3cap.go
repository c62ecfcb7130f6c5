package auth

import (
	"errors"
	"fmt"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// ErrNSEC3Iterations is wrapped by the error CheckNSEC3 returns for a zone
// whose NSEC3 chain uses more additional hash iterations than the server
// computes at query time (RFC 9276).
var ErrNSEC3Iterations = errors.New("auth: too many NSEC3 iterations")

// CheckNSEC3 returns an error wrapping ErrNSEC3Iterations, naming the
// NSEC3PARAM record's file:line, when z is signed with NSEC3 and its apex
// NSEC3PARAM asks for more than 50 additional iterations (RFC 9276 §3.1
// recommends 0; resolvers treat such zones as insecure). Callers check a
// pre-signed zone before serving it, as "rensa auth" and "rensa serve"
// do, and refuse it: re-sign it with 0 iterations. A Server given such a
// zone anyway never hashes for it: it answers without NSEC3 proofs.
func CheckNSEC3(z *zone.Zone) error {
	params := z.Apex().RRsets[dns.TypeNSEC3PARAM]
	if len(params) == 0 {
		return nil
	}
	p := params[0].(*dns.NSEC3PARAM)
	if p.Iterations <= maxNSEC3Iterations {
		return nil
	}
	where := ""
	for _, r := range z.Records {
		if r.RR.Header().Rrtype == dns.TypeNSEC3PARAM && r.Where() != "" {
			where = r.Where() + ": "
			break
		}
	}
	return fmt.Errorf("auth: %szone %s: NSEC3PARAM has %d iterations, more than %d: %w (re-sign the zone with 0 iterations, RFC 9276)",
		where, z.Origin, p.Iterations, maxNSEC3Iterations, ErrNSEC3Iterations)
}
