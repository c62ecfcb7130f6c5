package lab

import "math"

// Spoofing holds the symbols of RFC 5452 section 7.1 for one blind
// spoofing attempt, and C for the 0x20 defence, which multiplies the
// problem space by the number of case patterns of the query name
// (draft-vixie-dnsext-dns0x20).
type Spoofing struct {
	// D is the number of identical outstanding queries (1 with rensa's
	// coalescing of identical queries).
	D float64
	// R is the attacker's rate in packets per second, W the window of
	// opportunity in seconds: F = R·W forged packets per window.
	R, W float64
	// N is the number of authoritative servers of the zone.
	N float64
	// P is the number of source ports the resolver uses, I the number
	// of query IDs (65,536).
	P, I float64
	// C is the number of case patterns the attacker must guess: 2^L for
	// a name with L letters under 0x20, 1 without. Zero means 1.
	C float64
}

// F returns R·W, the forged packets that arrive within one window.
func (s Spoofing) F() float64 { return s.R * s.W }

// Ps returns the probability that one window is spoofed (RFC 5452
// section 7.2), P_s = D·R·W / (N·P·I), divided by C, capped at 1.
func (s Spoofing) Ps() float64 {
	c := s.C
	if c == 0 {
		c = 1
	}
	return math.Min(1, s.D*s.R*s.W/(s.N*s.P*s.I*c))
}

// Pcs returns the probability that at least one of attempts windows is
// spoofed: P_cs = 1 - (1 - P_s)^A.
func (s Spoofing) Pcs(attempts float64) float64 {
	return 1 - math.Pow(1-s.Ps(), attempts)
}

// binomialRange returns the central range of successes out of n trials
// of probability p that holds with probability at least conf: the
// smallest lo and hi with P(X < lo) ≤ (1-conf)/2 and P(X > hi) ≤
// (1-conf)/2.
func binomialRange(n int, p, conf float64) (lo, hi int) {
	tail := (1 - conf) / 2
	pmf := func(k int) float64 {
		lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
		switch {
		case p == 0:
			return boolFigure(k == 0)
		case p == 1:
			return boolFigure(k == n)
		}
		return math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
	}
	cdf := 0.0
	lo, hi = 0, n
	for k := 0; k <= n; k++ {
		if cdf+pmf(k) > tail {
			lo = k
			break
		}
		cdf += pmf(k)
	}
	cdf = 0
	for k := n; k >= 0; k-- {
		if cdf+pmf(k) > tail {
			hi = k
			break
		}
		cdf += pmf(k)
	}
	return lo, hi
}
