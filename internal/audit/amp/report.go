package amp

import (
	"fmt"
	"math"
)

// Report is what one audit measured, ready to print or encode as JSON.
type Report struct {
	// Target is the server probed, IP:port.
	Target string `json:"target"`
	// Source is the local address the queries came from.
	Source string `json:"source"`
	// SourceOutside is true when Source stands for a client outside
	// the server's trusted ranges: it was chosen with Config.Source, or
	// it is a global address.
	SourceOutside bool `json:"source_outside"`
	// Probes are the single queries, each sent once.
	Probes []Probe `json:"probes"`
	// Recursion is what the random-name query showed.
	Recursion Recursion `json:"recursion"`
	// RRL is what the burst of identical queries showed.
	RRL RRL `json:"rrl"`
	// Cookies is what the query with a client cookie showed.
	Cookies Cookies `json:"cookies"`
	// Verdict sums the report up.
	Verdict Verdict `json:"verdict"`
}

// Probe is one query and its reply, measured in DNS message octets (the
// UDP payload; IP and UDP headers, 28 octets each way over IPv4, are left
// out on both sides).
type Probe struct {
	// Name and Type are the question, such as "." and "DNSKEY".
	Name string `json:"name"`
	Type string `json:"type"`
	// Sent is the size of the query; Received the size of the reply, 0
	// when none came.
	Sent     int `json:"bytes_sent"`
	Received int `json:"bytes_received"`
	// Factor is Received / Sent, rounded to two decimals: how many
	// octets reach a victim for each octet an attacker forges.
	Factor float64 `json:"factor"`
	// Rcode, TC and Answers describe the reply.
	Rcode   string `json:"rcode,omitempty"`
	TC      bool   `json:"tc,omitempty"`
	Answers int    `json:"answers"`
	// Error says why there is no reply, such as a timeout.
	Error string `json:"error,omitempty"`
}

// String formats p as one line of text output.
func (p Probe) String() string {
	q := fmt.Sprintf("%-24s %-6s", p.Name, p.Type)
	if p.Error != "" {
		return fmt.Sprintf("%s sent %4d  no reply: %s", q, p.Sent, p.Error)
	}
	tc := ""
	if p.TC {
		tc = " TC"
	}
	return fmt.Sprintf("%s sent %4d  received %5d  factor %6.2f  %s%s, %d answers", q, p.Sent, p.Received, p.Factor, p.Rcode, tc, p.Answers)
}

// Recursion is the result of asking for a random name with RD=1: a server
// that resolves names it is not authoritative for, for this client, sets
// RA and answers NOERROR or NXDOMAIN.
type Recursion struct {
	// Offered is true when the reply had RA=1 and NOERROR or NXDOMAIN.
	Offered bool `json:"offered"`
	// Name is the random name asked.
	Name string `json:"name"`
	// Rcode and RA describe the reply; Rcode is empty without one.
	Rcode string `json:"rcode,omitempty"`
	RA    bool   `json:"ra"`
	// Note explains what Offered means from this source.
	Note string `json:"note"`
}

// RRL is the result of the burst: Sent identical queries at once, the
// attacker's best question. A server with response rate limiting answers
// a few, then drops the rest or answers them with a small TC=1 "slip".
type RRL struct {
	// Seen is true when at least MinLimited queries were dropped or
	// slipped.
	Seen bool `json:"seen"`
	// Query is the question of the burst, "NAME TYPE".
	Query string `json:"query,omitempty"`
	// Sent, Answered, Slipped and Dropped count the burst's queries.
	Sent     int `json:"sent"`
	Answered int `json:"answered"`
	Slipped  int `json:"slipped"`
	Dropped  int `json:"dropped"`
	// Note explains the result.
	Note string `json:"note"`
}

// Cookies is the result of a query carrying a client cookie (RFC 7873).
type Cookies struct {
	// Seen is true when the reply echoed the client cookie with a
	// server cookie.
	Seen bool `json:"seen"`
	// ServerCookieLen is the length of the server cookie, 8 to 32
	// octets (16 for RFC 9018's interoperable cookies); 0 without one.
	ServerCookieLen int `json:"server_cookie_bytes"`
	// Note explains the result.
	Note string `json:"note"`
}

// Status is the kind of verdict.
type Status int

// The verdicts, from best to worst. Amplifier and OpenResolver are bad:
// the command exits 1 for them.
const (
	// OK: the server amplifies little, or limits what it sends.
	OK Status = iota
	// RecursionHere: the server resolves for this client, which is
	// loopback or private; whether it does so for anyone else is up to
	// its access control, which only a probe from outside (Config.Source)
	// can tell.
	RecursionHere
	// Amplifier: some question is answered with more than
	// FactorThreshold times its size, and no rate limiting was seen.
	Amplifier
	// OpenResolver: the server resolves for a client outside its
	// trusted ranges; anyone can forge a victim's address and have it
	// flooded with answers to any name.
	OpenResolver
)

var statusNames = [...]string{OK: "ok", RecursionHere: "recursion-for-this-client", Amplifier: "amplifier", OpenResolver: "open-resolver"}

// String returns the status as written in JSON, such as "open-resolver".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText encodes the status as its String.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Bad reports whether the status is a finding: Amplifier or OpenResolver.
func (s Status) Bad() bool { return s == Amplifier || s == OpenResolver }

// Verdict sums an audit up.
type Verdict struct {
	Status Status `json:"status"`
	// Bad is Status.Bad(), spelled out for JSON readers.
	Bad bool `json:"bad"`
	// WorstFactor is the largest factor of the probes, and WorstProbe
	// its question.
	WorstFactor float64 `json:"worst_factor"`
	WorstProbe  string  `json:"worst_probe,omitempty"`
	// Summary is one sentence for people.
	Summary string `json:"summary"`
}

// factor returns received/sent rounded to two decimals.
func factor(received, sent int) float64 {
	if sent == 0 {
		return 0
	}
	return math.Round(float64(received)/float64(sent)*100) / 100
}
