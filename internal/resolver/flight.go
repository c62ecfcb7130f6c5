package resolver

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// flights merges identical client queries in flight: the first runs the
// resolution, the others wait for its result (singleflight). One slow
// upstream query is never asked twice for the same question.
type flights struct {
	mu sync.Mutex
	m  map[qkeyClass]*flight // guarded by mu
}

type qkeyClass struct {
	name   string
	qtype  uint16
	qclass uint16
}

// flight is one resolution in progress and the clients waiting for it.
type flight struct {
	done    chan struct{} // closed when res is set
	res     Result
	waiters int // guarded by flights.mu
}

// errTooManyWaiters is returned when maxWaiters clients already wait on
// the same resolution (DNSBomb).
var errTooManyWaiters = errors.New("resolver: too many clients waiting for one query")

// do runs fn once per key at a time: concurrent callers with the same key
// get the first caller's result. fn runs in the first caller's goroutine,
// under a context that does not end when that caller gives up, so the
// others still get their answer.
func (f *flights) do(ctx context.Context, name string, qtype, qclass uint16, fn func(context.Context) Result) (Result, error) {
	k := qkeyClass{strings.ToLower(name), qtype, qclass}
	f.mu.Lock()
	if f.m == nil {
		f.m = map[qkeyClass]*flight{}
	}
	if fl, ok := f.m[k]; ok {
		if fl.waiters >= maxWaiters {
			f.mu.Unlock()
			return Result{}, errTooManyWaiters
		}
		fl.waiters++
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.res, nil
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	f.m[k] = fl
	f.mu.Unlock()

	// Deferred, so waiters are released even if fn panics (the server
	// recovers handler panics and keeps serving).
	defer func() {
		f.mu.Lock()
		delete(f.m, k)
		f.mu.Unlock()
		close(fl.done)
	}()
	fl.res = fn(context.WithoutCancel(ctx))
	return fl.res, nil
}

// resolveShared is Resolve through the failure cache and the in-flight
// merge.
func (r *Resolver) resolveShared(ctx context.Context, q dns.Question) Result {
	if res, ok := r.failed.get(q); ok {
		return r.staleOr(q, res)
	}
	res, err := r.flight.do(ctx, q.Name, q.Qtype, q.Qclass, func(ctx context.Context) Result {
		return r.resolve(ctx, q, r.cfg.Trace != nil)
	})
	if err != nil {
		return Result{Kind: KindServFail, Rcode: dns.RcodeServerFailure,
			EDE: &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeOther, ExtraText: err.Error()}}
	}
	return res
}
