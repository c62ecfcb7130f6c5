package amp

import "time"

// Limits of the amplification audit. The auditor sends traffic at a server
// on purpose, so everything it sends is bounded here and nowhere else: a
// run is at most MaxQueries datagrams, MaxBurst of them in one burst, and
// ends within about MaxProbes*DefaultTimeout + BurstWait.
const (
	// MaxProbes is the most single probes of a run: ANY, DNSKEY, TXT and
	// NS for the root and for one named zone (8), the recursion probe and
	// the cookie probe. Each is sent once, never retried: a lost reply is
	// reported as such rather than hidden by a retry.
	MaxProbes = 10

	// MaxBurst bounds Config.Burst, the identical queries sent at once to
	// see whether response rate limiting (RRL) answers: at LIMITS.md's 5
	// responses a second, 30 queries show drops and slips within a
	// second, and 30 small datagrams are nothing a server notices as
	// load. A larger burst would turn the audit into the flood it looks
	// for.
	MaxBurst = 30

	// DefaultBurst is the burst size when Config.Burst is zero.
	DefaultBurst = MaxBurst

	// MaxQueries is the most datagrams one run sends: the probes and the
	// burst.
	MaxQueries = MaxProbes + MaxBurst

	// DefaultTimeout is how long a probe waits for its reply when
	// Config.Timeout is zero; MaxTimeout bounds Config.Timeout.
	DefaultTimeout = 2 * time.Second
	MaxTimeout     = 10 * time.Second

	// BurstWait is how long the burst waits for its replies after the
	// last query left. RRL drops are silence, so the burst always waits
	// this long when the server limits.
	BurstWait = time.Second

	// MinLimited is how many of the burst's queries must go unanswered
	// or come back as slips (TC=1, no answer) before RRL counts as seen.
	// One lost datagram is the network, not a limiter.
	MinLimited = 5

	// FactorThreshold is the amplification factor above which a server
	// that shows no RRL is called an amplifier: the factor the flood
	// test of LIMITS.md ("with RRL off the same run shows >= 10x") uses
	// for the same judgement.
	FactorThreshold = 10.0

	// ednsSize is the UDP payload size the probes advertise. Attackers
	// advertise the largest size servers honour; 4096 is the common
	// maximum (RFC 6891 section 6.2.5), so the audit sees the largest
	// reply a forged query would get.
	ednsSize = 4096

	// maxReply is the read buffer of a reply: the largest UDP payload.
	maxReply = 65535

	// randomLabelLen is the length of the random label of the recursion
	// probe: long enough never to be cached or to exist.
	randomLabelLen = 16
)
