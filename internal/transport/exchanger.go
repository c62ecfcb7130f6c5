package transport

import (
	"context"
	"errors"

	"github.com/miekg/dns"
)

// Exchanger sends one query and returns the reply.
//
// Exchange errors only if no acceptable reply arrived (timeout, network
// error, only replies that did not match the query). A reply with any
// RCODE, SERVFAIL and REFUSED included, is returned with a nil error: the
// caller decides what it means. Exchange does not modify m, and it is safe
// to call concurrently. The returned reply carries the ID that was sent on
// the wire, which need not be m.Id.
type Exchanger interface {
	Exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error)
}

var (
	// ErrTimeout is wrapped by errors from an exchange where no
	// acceptable reply arrived before the deadline (the per-attempt
	// timeout or the context's deadline).
	ErrTimeout = errors.New("transport: timeout")

	// ErrMismatch is wrapped by errors from an exchange that ended with
	// only replies that did not match the query: wrong ID, not a
	// response, or a different question section.
	ErrMismatch = errors.New("transport: no matching reply")
)
