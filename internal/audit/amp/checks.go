package amp

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/cookie"
)

// recursion asks for a random name under Config.Name (or the root) with
// RD=1. A server that resolves for this client sets RA and answers
// NOERROR or NXDOMAIN; one that does not answers REFUSED, or without RA.
func (r *run) recursion(ctx context.Context) error {
	label := make([]byte, randomLabelLen/2)
	if _, err := io.ReadFull(r.a.cfg.Rand, label); err != nil {
		return fmt.Errorf("amp: random: %w", err)
	}
	name := hex.EncodeToString(label) + "." + r.a.cfg.Name
	if r.a.cfg.Name == "" || r.a.cfg.Name == "." {
		name = hex.EncodeToString(label) + "."
	}
	rec := &r.rep.Recursion
	rec.Name = name
	q := r.query(name, dns.TypeA, false)
	reply, _, _, err := r.exchange(ctx, q)
	switch {
	case errors.Is(err, errNoReply):
		rec.Note = fmt.Sprintf("no reply within %v: recursion not seen", r.a.cfg.Timeout)
		return nil
	case err != nil:
		return err
	}
	rec.Rcode = dns.RcodeToString[reply.Rcode]
	rec.RA = reply.RecursionAvailable
	rec.Offered = reply.RecursionAvailable && (reply.Rcode == dns.RcodeSuccess || reply.Rcode == dns.RcodeNameError)
	switch {
	case !rec.Offered:
		rec.Note = "no recursion for this client (" + rec.Rcode + raNote(rec.RA) + ")"
	case r.rep.SourceOutside:
		rec.Note = "recursion offered to " + r.rep.Source + ", a client outside the trusted ranges: an open resolver"
	default:
		rec.Note = "recursion available to this client (" + r.rep.Source + ", loopback or private); the server's ACL decides who else: probe with a source it should refuse (--source) to tell"
	}
	return nil
}

func raNote(ra bool) string {
	if ra {
		return ", RA=1"
	}
	return ", RA=0"
}

// cookies asks for Config.Name's SOA (the root's without a name) with a
// client cookie and no server cookie, as a client's first query does
// (RFC 7873 section 5.1). A server that supports cookies echoes the
// client cookie with a server cookie of its own.
func (r *run) cookies(ctx context.Context) error {
	var opt cookie.Option
	if _, err := io.ReadFull(r.a.cfg.Rand, opt.Client[:]); err != nil {
		return fmt.Errorf("amp: random: %w", err)
	}
	name := r.a.cfg.Name
	if name == "" {
		name = "."
	}
	q := r.query(name, dns.TypeSOA, false)
	e := q.IsEdns0()
	e.Option = append(e.Option, opt.EDNS0())
	reply, _, _, err := r.exchange(ctx, q)
	c := &r.rep.Cookies
	switch {
	case errors.Is(err, errNoReply):
		c.Note = fmt.Sprintf("no reply within %v", r.a.cfg.Timeout)
		return nil
	case err != nil:
		return err
	}
	got, found, err := cookie.FromMsg(reply)
	switch {
	case !found:
		c.Note = "no COOKIE option in the reply: cookies not supported (or stripped on the way)"
	case err != nil:
		c.Note = "malformed COOKIE option in the reply: " + err.Error()
	case !bytes.Equal(got.Client[:], opt.Client[:]):
		c.Note = "the reply's client cookie is not the one sent"
	case len(got.Server) == 0:
		c.Note = "the client cookie was echoed without a server cookie"
	default:
		c.Seen = true
		c.ServerCookieLen = len(got.Server)
		c.Note = "client cookie echoed with a server cookie: clients that return it can be told from forged sources"
	}
	return nil
}

// burst sends Config.Burst copies of the probe with the largest factor,
// the question an attacker would pick, and counts drops and slips.
func (r *run) burst(ctx context.Context) error {
	best := -1
	for i, p := range r.rep.Probes {
		if p.Error == "" && (best < 0 || p.Factor > r.rep.Probes[best].Factor) {
			best = i
		}
	}
	l := &r.rep.RRL
	p := r.rep.Probes[best]
	l.Query = p.Name + " " + p.Type
	q := r.query(p.Name, dns.StringToType[p.Type], true)
	res, err := r.sendBurst(ctx, q, r.a.cfg.Burst, r.baseTC[l.Query])
	if err != nil {
		return err
	}
	l.Sent, l.Answered, l.Slipped = res.sent, res.answered, res.slipped
	l.Dropped = res.sent - res.answered - res.slipped
	l.Seen = l.Dropped+l.Slipped >= MinLimited
	if l.Seen {
		l.Note = fmt.Sprintf("rate limited: %d of %d identical queries dropped or slipped", l.Dropped+l.Slipped, l.Sent)
	} else {
		l.Note = fmt.Sprintf("not seen: %d of %d identical queries answered in full; a limit above %d a second would not show", l.Answered, l.Sent, l.Sent)
	}
	return nil
}

// verdict sums a report up: an open resolver is the worst, then an
// amplifier (a large factor with no rate limiting seen).
func verdict(rep Report) Verdict {
	var v Verdict
	for _, p := range rep.Probes {
		if p.Factor > v.WorstFactor {
			v.WorstFactor, v.WorstProbe = p.Factor, p.Name+" "+p.Type
		}
	}
	switch {
	case rep.Recursion.Offered && rep.SourceOutside:
		v.Status = OpenResolver
		v.Summary = fmt.Sprintf("open resolver: it resolves any name for %s, an outside client; worst factor %.2f (%s)", rep.Source, v.WorstFactor, v.WorstProbe)
	case v.WorstFactor > FactorThreshold && !rep.RRL.Seen:
		v.Status = Amplifier
		v.Summary = fmt.Sprintf("amplifier: %s is answered with %.2f times its size and no rate limiting was seen", v.WorstProbe, v.WorstFactor)
	case rep.Recursion.Offered:
		v.Status = RecursionHere
		v.Summary = fmt.Sprintf("recursion available to this client (%s); the server's ACL decides who else; worst factor %.2f (%s)", rep.Source, v.WorstFactor, v.WorstProbe)
	case rep.RRL.Seen:
		v.Summary = fmt.Sprintf("ok: worst factor %.2f (%s), rate limited", v.WorstFactor, v.WorstProbe)
	default:
		v.Summary = fmt.Sprintf("ok: worst factor %.2f (%s), at most %.0f", v.WorstFactor, v.WorstProbe, FactorThreshold)
	}
	v.Bad = v.Status.Bad()
	return v
}
