package transport

import (
	"testing"

	"github.com/miekg/dns"
)

// TestMatch pins the reply-matching rules of RFC 5452: ID, QR, and the
// question section compared case for case.
func TestMatch(t *testing.T) {
	t.Parallel()
	q := query("wWw.Example.test.")
	q.Id = 0x1234
	good := reply(q, "wWw.Example.test. 300 IN A 192.0.2.1")

	tests := []struct {
		name   string
		mutate func(r *dns.Msg)
		raw    []byte // used instead of the mutated reply when set
		want   bool
	}{
		{name: "exact reply", mutate: func(*dns.Msg) {}, want: true},
		{name: "SERVFAIL is still the reply", mutate: func(r *dns.Msg) { r.Rcode = dns.RcodeServerFailure; r.Answer = nil }, want: true},
		{name: "wrong ID", mutate: func(r *dns.Msg) { r.Id++ }},
		{name: "QR not set", mutate: func(r *dns.Msg) { r.Response = false }},
		{name: "name case differs", mutate: func(r *dns.Msg) { r.Question[0].Name = "www.example.test." }},
		{name: "other name", mutate: func(r *dns.Msg) { r.Question[0].Name = "wWw.Example.test.attacker." }},
		{name: "other type", mutate: func(r *dns.Msg) { r.Question[0].Qtype = dns.TypeAAAA }},
		{name: "other class", mutate: func(r *dns.Msg) { r.Question[0].Qclass = dns.ClassCHAOS }},
		{name: "no question", mutate: func(r *dns.Msg) { r.Question = nil }},
		{name: "two questions", mutate: func(r *dns.Msg) { r.Question = append(r.Question, r.Question[0]) }},
		{name: "shorter than a header", raw: []byte{0x12, 0x34, 0x80}},
		{name: "right ID, garbage body", raw: []byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.raw
			if b == nil {
				r := good.Copy()
				tt.mutate(r)
				b = wire(r)
			}
			_, ok := match(q, b)
			if ok != tt.want {
				t.Errorf("match = %v, want %v", ok, tt.want)
			}
		})
	}
}

// TestMatchTruncatedUndecodable checks that a TC=1 reply cut in the middle
// of a record still counts as the reply (it only asks for TCP), with its
// partial sections dropped.
func TestMatchTruncatedUndecodable(t *testing.T) {
	t.Parallel()
	q := query("www.example.test.")
	q.Id = 7
	r := reply(q, "www.example.test. 300 IN TXT \"some long text that will be cut\"")
	r.Truncated = true
	b := wire(r)
	got, ok := match(q, b[:len(b)-5])
	if !ok {
		t.Fatal("truncated reply with a matching question was rejected")
	}
	if !got.Truncated || len(got.Answer) != 0 {
		t.Errorf("got TC=%v with %d answers, want TC=true and none", got.Truncated, len(got.Answer))
	}

	r.Truncated = false
	b = wire(r)
	if _, ok := match(q, b[:len(b)-5]); ok {
		t.Error("undecodable reply without TC was accepted")
	}
}

// FuzzMatch feeds arbitrary bytes to the reply matcher as if they arrived
// from the server. Properties: it never panics, and whatever it accepts has
// the query's ID, the QR bit and the query's exact question.
func FuzzMatch(f *testing.F) {
	q := query("wWw.Example.test.")
	q.Id = 0xbeef
	f.Add(wire(reply(q, "wWw.Example.test. 300 IN A 192.0.2.1")))
	tc := reply(q)
	tc.Truncated = true
	f.Add(wire(tc))
	f.Add(wire(q))
	f.Add([]byte{0xbe, 0xef, 0x82, 0x00, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := match(q, b)
		if !ok {
			return
		}
		if r.Id != q.Id || !r.Response || !sameQuestion(r.Question, q.Question) {
			t.Errorf("accepted a non-matching reply: %v", r)
		}
	})
}
