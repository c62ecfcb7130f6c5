package lab

import "time"

// Every bound the lab puts on itself. The lab attacks its own loopback
// servers only (STYLE.md rule 15), and each scenario is bounded in time
// and in the packets its attackers send, so a tour can never turn into a
// flood of the machine it runs on.
const (
	// ScenarioTimeout bounds one scenario (issue 9: each at most 60 s).
	ScenarioTimeout = 60 * time.Second
	// ShortScenarioTimeout bounds one scenario in Short mode, which CI
	// and "rensa demo" use. A short poisoning run forges about 590,000
	// replies (three settings, three windows of every query ID) and
	// takes about 5 s on an idle 2-core machine; under -race with both cores
	// busy it once took over 10 s, so the bound is 30 s: still half the
	// full tour's, and the attackers stay bounded by count (MaxPackets).
	ShortScenarioTimeout = 30 * time.Second
	// MaxPackets bounds the packets the attackers of one scenario send:
	// forged replies, spoofed queries and the queries that open windows.
	MaxPackets = 1_000_000

	// kaminskyAttempts is how many random names the Kaminsky attacker
	// makes the resolver look up (each one a fresh race), in full and
	// Short mode.
	kaminskyAttempts      = 1000
	kaminskyShortAttempts = 100
	// kaminskyRaceOdds: the forger wins one race in this many. Real odds
	// are far worse for the attacker (the poisoning scenario measures
	// them); the lab is generous so the defence, not luck, is tested.
	kaminskyRaceOdds = 4

	// ampRate caps the spoofed queries per second of the amplification
	// attacker, and ampDuration/ampShortDuration how long each burst lasts.
	ampRate          = 2000
	ampDuration      = 2 * time.Second
	ampShortDuration = 250 * time.Millisecond
	// ampQuiet is how long the victim's sink keeps reading after the
	// last spoofed query, for replies still on their way.
	ampQuiet = 300 * time.Millisecond

	// poisonRate is R, the forged replies per second of the blind
	// poisoning attacker: a socket that cannot keep up drops packets and
	// would make the measurement lie.
	poisonRate = 100_000
	// poisonMaxBurst bounds the forged replies sent at once when the
	// attacker catches up after a late tick: fewer than a default socket
	// receive buffer holds.
	poisonMaxBurst = 300
	// poisonForged and poisonShortForged are F, the forged replies per
	// window of opportunity (RFC 5452 section 7.2); the short run covers
	// the whole ID space (I = 65,536), so its prediction is certain.
	poisonForged      = 32_768
	poisonShortForged = 65_536
	// poisonAttempts and poisonShortAttempts are A, the windows per
	// setting. The short run's three windows each cover every ID: one
	// lost to a full receive queue on a busy machine does not leave the
	// weak setting unpoisoned.
	poisonAttempts      = 8
	poisonShortAttempts = 3
	// poisonSignedAttempts caps the lookups of the DNSSEC setting, whose
	// every lookup opens several windows (the validator asks again).
	poisonSignedAttempts = 2
	// poisonExchangeTimeout bounds one upstream UDP exchange of the
	// poisoning resolver: longer than the longest window. (The
	// resolver's own attempt timeout, 1.5 s, ends it first.)
	poisonExchangeTimeout = 5 * time.Second
	// poisonMaxHold bounds how long the authoritative server holds its
	// real answer for a window the attacker has not closed.
	poisonMaxHold = 3 * time.Second

	// queryTimeout bounds each DNS exchange of the lab's clients and
	// resolvers (not the poisoning resolver's, see above).
	queryTimeout = 2 * time.Second
	// stopTimeout bounds how long stopping one of the lab's servers
	// waits for requests in flight.
	stopTimeout = 2 * time.Second
	// naiveMaxSteps bounds one resolution of the 2008-style resolver
	// (queries sent), so a forged delegation loop cannot spin.
	naiveMaxSteps = 16

	// httpTimeout bounds every HTTP request of the takeover and CAA
	// scenarios.
	httpTimeout = 3 * time.Second
	// maxPage bounds the web pages the lab reads.
	maxPage = 4096
)
