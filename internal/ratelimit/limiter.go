package ratelimit

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// ErrConfig is wrapped by the errors New returns for an unusable Config.
var ErrConfig = errors.New("ratelimit: invalid configuration")

// NoSlip, as Config.Slip, drops every response over the limit and sends no
// TC=1 replies (BIND's "slip 0").
const NoSlip = -1

// Config configures Response Rate Limiting. Its zero value is LIMITS.md's
// defaults; each field documents its own.
type Config struct {
	// ResponsesPerSecond is how many responses of one Key each client prefix
	// gets per second. Default: 5. At most 1000.
	ResponsesPerSecond int
	// Window is how long a prefix that went over the rate stays in debt:
	// its credit can fall to −ResponsesPerSecond × Window, and is paid back
	// at ResponsesPerSecond each second; after Window seconds without a
	// response the entry starts afresh. Default: 15 s. At most 1 h; whole
	// seconds.
	Window time.Duration
	// Slip makes every Slip-th dropped response a tiny TC=1 reply (header,
	// question and OPT record only), so a real client sharing a prefix with
	// a flood's victim retries over TCP instead of timing out. Default: 2;
	// NoSlip for none; 1 turns every drop into a TC=1 reply. At most 10.
	Slip int
	// IPv4PrefixLen and IPv6PrefixLen group client addresses into the
	// prefixes that share a budget. Defaults: 24 and 56.
	IPv4PrefixLen int
	IPv6PrefixLen int
	// MaxEntries bounds the table of (prefix, Key) entries; the least
	// recently used is recycled past it. Default: 20,000.
	MaxEntries int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Disabled turns rate limiting off: the middleware passes every
	// response and counts nothing. Default: false, limiting on.
	Disabled bool
	// LogOnly counts what would be dropped and slipped, but sends every
	// response: a dry run before turning RRL on. Default: false.
	LogOnly bool
}

// Action is what the limiter does with a response.
type Action uint8

// The actions.
const (
	// Answer sends the response.
	Answer Action = iota
	// Drop sends nothing.
	Drop
	// Slip sends a TC=1 reply with no records in place of the response.
	Slip
)

// String returns "answer", "drop" or "slip".
func (a Action) String() string {
	switch a {
	case Answer:
		return "answer"
	case Drop:
		return "drop"
	case Slip:
		return "slip"
	}
	return "unknown"
}

// Stats are the limiter's counters since New.
type Stats struct {
	// Answered counts responses sent because they were within the limit.
	Answered uint64
	// Dropped counts responses over the limit that were not sent (or, with
	// LogOnly, would not have been).
	Dropped uint64
	// Slipped counts responses over the limit replaced by a TC=1 reply.
	Slipped uint64
	// Exempt counts responses sent without accounting: over TCP, or to a
	// query with a valid server cookie.
	Exempt uint64
	// Entries is the number of (prefix, Key) entries in the table now.
	Entries int
}

// Limiter is the state of Response Rate Limiting: a bounded table of credit
// accounts, one per (client prefix, Key). It is safe for concurrent use.
type Limiter struct {
	cfg Config

	mu    sync.Mutex
	table map[account]*entry // guarded by mu
	lru   entry              // guarded by mu: sentinel of the list of entries, most recent first

	answered, dropped, slipped, exempt atomic.Uint64
}

// account identifies one budget.
type account struct {
	prefix netip.Prefix
	key    Key
}

// entry is one budget, in BIND's credit form: credit is the responses still
// allowed, at most ResponsesPerSecond, at least −ResponsesPerSecond × Window.
type entry struct {
	account    account
	credit     int
	second     int64 // Unix second the credit was last brought up to date
	drops      int   // responses dropped since the last slip
	prev, next *entry
}

// newLimiter fills cfg's defaults, checks it and returns a Limiter.
func newLimiter(cfg Config) (*Limiter, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.ResponsesPerSecond, defaultResponsesPerSecond)
	def(&cfg.Slip, defaultSlip)
	def(&cfg.IPv4PrefixLen, defaultIPv4PrefixLen)
	def(&cfg.IPv6PrefixLen, defaultIPv6PrefixLen)
	def(&cfg.MaxEntries, defaultMaxEntries)
	if cfg.Window == 0 {
		cfg.Window = defaultWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.ResponsesPerSecond < 0 || cfg.ResponsesPerSecond > maxResponsesPerSecond:
		return nil, fmt.Errorf("%w: ResponsesPerSecond %d is outside 1..%d", ErrConfig, cfg.ResponsesPerSecond, maxResponsesPerSecond)
	case cfg.Window < time.Second || cfg.Window > maxWindow:
		return nil, fmt.Errorf("%w: Window %v is outside 1s..%v", ErrConfig, cfg.Window, maxWindow)
	case cfg.Slip < NoSlip || cfg.Slip > maxSlip:
		return nil, fmt.Errorf("%w: Slip %d is outside 1..%d (or NoSlip)", ErrConfig, cfg.Slip, maxSlip)
	case cfg.IPv4PrefixLen < 0 || cfg.IPv4PrefixLen > 32:
		return nil, fmt.Errorf("%w: IPv4PrefixLen %d is outside 1..32", ErrConfig, cfg.IPv4PrefixLen)
	case cfg.IPv6PrefixLen < 0 || cfg.IPv6PrefixLen > 128:
		return nil, fmt.Errorf("%w: IPv6PrefixLen %d is outside 1..128", ErrConfig, cfg.IPv6PrefixLen)
	case cfg.MaxEntries < 0:
		return nil, fmt.Errorf("%w: MaxEntries %d is negative", ErrConfig, cfg.MaxEntries)
	}
	l := &Limiter{cfg: cfg, table: make(map[account]*entry)}
	l.lru.next, l.lru.prev = &l.lru, &l.lru
	return l, nil
}

// Decide accounts resp, a UDP response about to go to client, and says
// what to do with it. It does not look at exemptions (TCP, cookies): the
// middleware does. With LogOnly it counts the decision and returns Answer.
func (l *Limiter) Decide(client netip.Addr, resp *dns.Msg) Action {
	return l.decide(client, Classify(resp))
}

// decide is Decide for a response already classified.
func (l *Limiter) decide(client netip.Addr, key Key) Action {
	a := l.account(client, key)
	now := l.cfg.Now().Unix()
	l.mu.Lock()
	e := l.lookup(a, now)
	l.credit(e, now)
	e.credit--
	act := Answer
	if e.credit < 0 {
		act = Drop
		if floor := -l.cfg.ResponsesPerSecond * int(l.cfg.Window/time.Second); e.credit < floor {
			e.credit = floor
		}
		if l.cfg.Slip > 0 {
			e.drops++
			if e.drops >= l.cfg.Slip {
				e.drops = 0
				act = Slip
			}
		}
	}
	l.mu.Unlock()

	switch act {
	case Answer:
		l.answered.Add(1)
	case Drop:
		l.dropped.Add(1)
	case Slip:
		l.slipped.Add(1)
	}
	if l.cfg.LogOnly {
		return Answer
	}
	return act
}

// account returns the budget a response to client under key falls in.
func (l *Limiter) account(client netip.Addr, key Key) account {
	client = client.Unmap()
	bits := l.cfg.IPv6PrefixLen
	if client.Is4() {
		bits = l.cfg.IPv4PrefixLen
	}
	p, _ := client.Prefix(bits) // an invalid client gets the zero prefix: one shared budget
	return account{prefix: p, key: key}
}

// lookup returns a's entry, moved to the front of the LRU list, creating it
// with full credit (and recycling the least recently used entry when the
// table is full). l.mu must be held.
func (l *Limiter) lookup(a account, now int64) *entry {
	if e, ok := l.table[a]; ok {
		e.unlink()
		l.pushFront(e)
		return e
	}
	var e *entry
	if len(l.table) >= l.cfg.MaxEntries && l.lru.prev != &l.lru {
		e = l.lru.prev
		e.unlink()
		delete(l.table, e.account)
	} else {
		e = new(entry)
	}
	*e = entry{account: a, credit: l.cfg.ResponsesPerSecond, second: now}
	l.table[a] = e
	l.pushFront(e)
	return e
}

// credit brings e's credit up to date at now: ResponsesPerSecond for each
// whole second since it was last updated, up to ResponsesPerSecond; an entry
// idle for longer than Window starts afresh. l.mu must be held.
func (l *Limiter) credit(e *entry, now int64) {
	age := now - e.second
	if age <= 0 {
		if age < 0 { // the clock went back: restart the second
			e.second = now
		}
		return
	}
	rate := l.cfg.ResponsesPerSecond
	if age > int64(l.cfg.Window/time.Second) {
		e.credit = rate
	} else {
		e.credit = min(e.credit+rate*int(age), rate)
	}
	e.second = now
}

func (l *Limiter) pushFront(e *entry) {
	e.prev, e.next = &l.lru, l.lru.next
	l.lru.next.prev = e
	l.lru.next = e
}

func (e *entry) unlink() {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// Stats returns the counters and the table size.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	n := len(l.table)
	l.mu.Unlock()
	return Stats{
		Answered: l.answered.Load(),
		Dropped:  l.dropped.Load(),
		Slipped:  l.slipped.Load(),
		Exempt:   l.exempt.Load(),
		Entries:  n,
	}
}
