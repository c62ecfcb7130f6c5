package lab

import (
	"math"
	"testing"
)

// TestRFC5452 checks Spoofing against the numbers of RFC 5452 section 7
// (conformance/rfc-vectors/rfc5452-5-7-8-spoofing-math.txt).
func TestRFC5452(t *testing.T) {
	t.Parallel()
	// "Given a known or static destination port ... requires on average
	// in the order of 2 * 2^15 = 65000 packets, assuming a zone has 2
	// authoritative nameservers": 650,000 packets/s for 100 ms give "a
	// 50% chance".
	s := Spoofing{D: 1, R: 650000, W: 0.1, N: 2, P: 1, I: 65536}
	if got := s.Ps(); math.Abs(got-0.5) > 0.01 {
		t.Errorf("P_s = %v, want about 0.5", got)
	}
	// "When common numbers ... are inserted, this formula reduces to
	// P_cs = 1 - (1 - R/1638400)^(T/TTL)": D=1, W=0.1, N=2.5, P=1.
	for _, r := range []float64{1, 1000, 100000} {
		s := Spoofing{D: 1, R: r, W: 0.1, N: 2.5, P: 1, I: 65536}
		want := r / 1638400
		if got := s.Ps(); math.Abs(got-want) > 1e-12 {
			t.Errorf("R=%v: P_s = %v, want %v", r, got, want)
		}
		// An hour of work on a 300 s TTL: 12 attempts.
		wantCS := 1 - math.Pow(1-want, 12)
		if got := s.Pcs(3600 / 300); math.Abs(got-wantCS) > 1e-12 {
			t.Errorf("R=%v: P_cs = %v, want %v", r, got, wantCS)
		}
	}
	// 0x20 divides by the case patterns; P_s never passes 1.
	if got := (Spoofing{D: 1, R: 65536, W: 1, N: 1, P: 1, I: 65536, C: 4}).Ps(); got != 0.25 {
		t.Errorf("with C=4: P_s = %v, want 0.25", got)
	}
	if got := (Spoofing{D: 1, R: 1e6, W: 1, N: 1, P: 1, I: 65536}).Ps(); got != 1 {
		t.Errorf("P_s = %v, want capped at 1", got)
	}
}

// TestBinomialRange checks the prediction ranges the poisoning scenario
// compares its measurement with.
func TestBinomialRange(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n      int
		p      float64
		lo, hi int
	}{
		{1, 1, 1, 1},
		{1, 0, 0, 0},
		{16, 0.5, 3, 13},
		{100, 0.01, 0, 4},
	} {
		lo, hi := binomialRange(c.n, c.p, 0.99)
		if lo != c.lo || hi != c.hi {
			t.Errorf("binomialRange(%d, %v) = %d, %d, want %d, %d", c.n, c.p, lo, hi, c.lo, c.hi)
		}
	}
}
