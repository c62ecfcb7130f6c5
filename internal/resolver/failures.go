package resolver

import (
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// failureCache remembers questions whose resolution failed, with
// exponential back-off (RFC 9520): while an entry lives, the question is
// answered SERVFAIL with EDE 13 (Cached Error) without asking anyone.
type failureCache struct {
	now func() time.Time

	mu sync.Mutex
	m  map[qkeyClass]failure // guarded by mu
}

type failure struct {
	until   time.Time
	backoff time.Duration // the TTL given at the last failure
}

// get returns the cached failure for q, if one lives.
func (c *failureCache) get(q dns.Question) (Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[failureKey(q)]
	if !ok || !c.now().Before(f.until) {
		return Result{}, false
	}
	return Result{Kind: KindServFail, Rcode: dns.RcodeServerFailure,
		EDE: &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeCachedError, ExtraText: "resolution failed recently; retry later"}}, true
}

// record notes the outcome of resolving q: a failure starts or doubles the
// back-off, a success forgets it.
func (c *failureCache) record(q dns.Question, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := failureKey(q)
	if !failed {
		delete(c.m, k)
		return
	}
	if c.m == nil || len(c.m) >= maxFailureEntries {
		c.m = map[qkeyClass]failure{}
	}
	ttl := minFailureTTL
	if f, ok := c.m[k]; ok {
		ttl = min(2*f.backoff, maxFailureTTL)
	}
	c.m[k] = failure{until: c.now().Add(ttl), backoff: ttl}
}

func failureKey(q dns.Question) qkeyClass {
	return qkeyClass{strings.ToLower(q.Name), q.Qtype, q.Qclass}
}
