package amp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// errNoReply is an exchange that got no reply in time: a measurement, not
// a failure of the run.
var errNoReply = errors.New("amp: no reply")

// dial opens a UDP socket from Config.Source (or a system-chosen address)
// to the target, closed when ctx ends, and records the source in the
// report the first time.
func (r *run) dial(ctx context.Context) (*net.UDPConn, func(), error) {
	var laddr *net.UDPAddr
	if src := r.a.cfg.Source; src.IsValid() {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
	}
	conn, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(r.a.cfg.Target))
	if err != nil {
		return nil, nil, fmt.Errorf("amp: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	if r.rep.Source == "" {
		src := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		r.rep.Source = src.String()
		r.rep.SourceOutside = r.a.cfg.Source.IsValid() || !InScope(src)
	}
	return conn, func() { stop(); conn.Close() }, nil
}

// exchange sends q once over UDP and waits Config.Timeout for a reply with
// its ID and question. It returns the reply with the sizes of both
// messages; the error is errNoReply when none came.
func (r *run) exchange(ctx context.Context, q *dns.Msg) (reply *dns.Msg, sent, received int, err error) {
	wire, err := q.Pack()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("amp: pack: %w", err)
	}
	conn, done, err := r.dial(ctx)
	if err != nil {
		return nil, 0, 0, err
	}
	defer done()
	if _, err := conn.Write(wire); err != nil {
		return nil, len(wire), 0, fmt.Errorf("amp: send: %w", err)
	}
	conn.SetReadDeadline(time.Now().Add(r.a.cfg.Timeout))
	buf := make([]byte, maxReply)
	for {
		n, err := conn.Read(buf)
		switch {
		case ctx.Err() != nil:
			return nil, len(wire), 0, ctx.Err()
		case err != nil:
			// A timeout, or ICMP port unreachable: nothing answered.
			return nil, len(wire), 0, errNoReply
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) != nil || !matches(m, q) {
			continue // not our reply: keep waiting
		}
		return m, len(wire), n, nil
	}
}

// burstResult counts the replies of a burst.
type burstResult struct {
	sent, answered, slipped int
}

// sendBurst sends n copies of q, each with its own ID, as fast as the
// socket takes them, then reads replies until BurstWait after the last
// send or until every query has its reply. A reply is a slip when it has
// TC=1 and no answer while the question's single probe did not
// (baseTC false); a slip is the small reply RRL sends instead of one it
// drops, so that a real client behind a forged address can retry over TCP.
func (r *run) sendBurst(ctx context.Context, q *dns.Msg, n int, baseTC bool) (burstResult, error) {
	var res burstResult
	conn, done, err := r.dial(ctx)
	if err != nil {
		return res, err
	}
	defer done()
	pending := map[uint16]bool{}
	for range n {
		q.Id = r.nextID()
		wire, err := q.Pack()
		if err != nil {
			return res, fmt.Errorf("amp: pack: %w", err)
		}
		if _, err := conn.Write(wire); err != nil {
			return res, fmt.Errorf("amp: send: %w", err)
		}
		pending[q.Id] = true
		res.sent++
	}
	conn.SetReadDeadline(time.Now().Add(BurstWait))
	buf := make([]byte, maxReply)
	for len(pending) > 0 {
		k, err := conn.Read(buf)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if err != nil {
			break // the wait is over (or nothing listens): the rest were dropped
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:k]) != nil || !m.Response || !pending[m.Id] || !sameQuestion(m, q) {
			continue
		}
		delete(pending, m.Id)
		if m.Truncated && len(m.Answer) == 0 && !baseTC {
			res.slipped++
		} else {
			res.answered++
		}
	}
	return res, nil
}

// matches reports whether m is a reply to q: same ID and question.
func matches(m, q *dns.Msg) bool {
	return m.Response && m.Id == q.Id && sameQuestion(m, q)
}

// sameQuestion reports whether m asks q's question, names compared
// case-insensitively (a server may echo 0x20 case changes).
func sameQuestion(m, q *dns.Msg) bool {
	if len(m.Question) != 1 {
		return false
	}
	a, b := m.Question[0], q.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && dns.CanonicalName(a.Name) == dns.CanonicalName(b.Name)
}
