package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/zone"
)

// amplification is the reflection attack: small queries with the
// victim's address as their source make a server send big answers to the
// victim.
type amplification struct{}

func (amplification) Name() string { return "amplification" }

func (amplification) Summary() string {
	return "spoofed ANY and DNSKEY+DO queries reflect big answers at a victim; RRL and cookies cap them"
}

// ampZone is the signed zone the amplifiers serve. It has two zone-signing
// keys, as in a key rollover, which makes its DNSKEY RRset the big answer
// attackers look for.
const ampZone = `$ORIGIN example.test.
$TTL 3600
@     IN SOA ns1 hostmaster 1 7200 900 1209600 60
@     IN NS  ns1
ns1   IN A   127.53.2.1
@     IN A   192.0.2.1
@     IN MX  10 mail
@     IN TXT "v=spf1 mx -all"
mail  IN A   192.0.2.25
`

// Run floods an authoritative server without defences, then one with
// rensa's defaults, with the same spoofed queries.
func (amplification) Run(ctx context.Context, env *Env, out Narrator) (Report, error) {
	var rep Report
	open, defended := env.service(10), env.service(11)
	if err := env.checkAddrs(env.Addrs.Victim, open, defended); err != nil {
		return rep, err
	}
	zones, err := ampZones(env)
	if err != nil {
		return rep, err
	}
	plain, err := auth.New(auth.Config{Zones: zones})
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	openAddr, stop, err := serveDNS(server.Config{Handler: plain}, open)
	if err != nil {
		return rep, err
	}
	defer stop()
	engine, err := auth.New(auth.Config{Zones: zones})
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	st, err := auth.NewStack(engine, auth.StackConfig{})
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	defAddr, stop2, err := serveDNS(server.Config{Handler: st.Handler, RawHandler: st.RawHandler}, defended)
	if err != nil {
		return rep, err
	}
	defer stop2()

	off, err := ampSetting(ctx, env, "open authoritative server, no RRL", false, openAddr, out)
	if err != nil {
		return rep, err
	}
	on, err := ampSetting(ctx, env, "rensa defaults (RRL + cookies)", true, defAddr, out)
	if err != nil {
		return rep, err
	}
	s := st.Limiter.Stats()
	on.add("RRL: responses answered", float64(s.Answered), "")
	on.add("RRL: responses dropped", float64(s.Dropped), "")
	on.add("RRL: responses slipped (TC=1)", float64(s.Slipped), "")
	rep.Settings = []Setting{off, on}
	return rep, nil
}

// ampZones signs ampZone with a KSK and two ZSKs (ECDSAP256SHA256).
func ampZones(env *Env) (*zone.Set, error) {
	z, err := zone.Parse(strings.NewReader(ampZone), "example.test.", "lab amplification zone", zone.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var keys []*dnssec.Key
	for _, flags := range []uint16{dnssec.FlagsKSK, dnssec.FlagsZSK, dnssec.FlagsZSK} {
		k, err := dnssec.Generate("example.test.", dns.ECDSAP256SHA256, flags, 0, lockedReader{env})
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		keys = append(keys, k)
	}
	signed, err := dnssec.Sign(z, dnssec.SignConfig{Keys: keys, Rand: lockedReader{env}})
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return zone.NewSet(signed), nil
}

// lockedReader reads env.Rand under its lock.
type lockedReader struct{ env *Env }

func (r lockedReader) Read(b []byte) (int, error) {
	if err := r.env.read(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// ampSetting runs both bursts against one server and measures them.
func ampSetting(ctx context.Context, env *Env, name string, defence bool, target netip.AddrPort, out Narrator) (Setting, error) {
	set := Setting{Name: name, Defence: defence}
	out.Section(name)
	out.Step("The attacker binds its socket to the victim's address %s: on loopback that is how a forged source address is made; a sink on that socket counts what arrives.", env.Addrs.Victim)
	worst := 0.0
	for _, q := range []struct {
		label string
		qtype uint16
	}{{"ANY", dns.TypeANY}, {"DNSKEY+DO", dns.TypeDNSKEY}} {
		b, err := ampBurst(ctx, env, target, q.qtype)
		if err != nil {
			return set, err
		}
		factor := 0.0
		if b.sentBytes > 0 {
			factor = float64(b.gotBytes) / float64(b.sentBytes)
		}
		worst = max(worst, factor)
		out.Step("%d spoofed queries example.test. %s (EDNS 4096, DO) to %s, %d bytes; %d replies reach the victim, %d bytes.",
			b.sent, q.label, target, b.sentBytes, b.got, b.gotBytes)
		set.add(q.label+": attacker bytes", float64(b.sentBytes), "B")
		set.add(q.label+": victim bytes", float64(b.gotBytes), "B")
		set.add(q.label+": amplification (victim / attacker)", factor, "x")
	}
	set.AttackSucceeded = worst > 1
	out.Step("The attack works when the victim receives more bytes than the attacker sent: worst factor %.2fx.", worst)
	return set, nil
}

// burst is what one spoofed burst sent and what reached the victim (DNS
// payload bytes).
type burst struct {
	sent, got           int
	sentBytes, gotBytes int64
}

// ampBurst sends ampRate spoofed queries a second for the burst's
// duration from the victim's address to target, and counts the bytes
// arriving back at the victim until ampQuiet after the last query.
func ampBurst(ctx context.Context, env *Env, target netip.AddrPort, qtype uint16) (burst, error) {
	var b burst
	if err := CheckLoopback(target.String()); err != nil {
		return b, err
	}
	conn, err := env.listenUDP(netip.AddrPortFrom(env.Addrs.Victim, 0).String())
	if err != nil {
		return b, err
	}
	defer conn.Close()
	var got, gotBytes atomic.Int64
	var sending atomic.Bool
	sending.Store(true)
	sink := make(chan struct{})
	go func() { // the victim's sink; owned by ampBurst, ends at the first quiet read after sending
		defer close(sink)
		buf := make([]byte, 65535)
		for {
			_ = conn.SetReadDeadline(time.Now().Add(ampQuiet))
			n, err := conn.Read(buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) && sending.Load() {
					continue
				}
				return
			}
			got.Add(1)
			gotBytes.Add(int64(n))
		}
	}()
	duration := ampDuration
	if env.Short {
		duration = ampShortDuration
	}
	total := int(int64(ampRate) * int64(duration) / int64(time.Second))
	const tick = 10 * time.Millisecond
	perTick := max(1, ampRate*int(tick)/int(time.Second))
	to := net.UDPAddrFromAddrPort(target)
	t := time.NewTicker(tick)
	defer t.Stop()
	var sendErr error
	for b.sent < total && sendErr == nil {
		for i := 0; i < perTick && b.sent < total; i++ {
			wire, err := ampQuery(qtype, uint16(b.sent))
			if err == nil {
				err = env.spend(1)
			}
			if err == nil {
				_, err = conn.WriteToUDP(wire, to)
			}
			if err != nil {
				sendErr = err
				break
			}
			b.sent++
			b.sentBytes += int64(len(wire))
		}
		select {
		case <-ctx.Done():
			sendErr = ctx.Err()
		case <-t.C:
		}
	}
	sending.Store(false)
	<-sink
	b.got, b.gotBytes = int(got.Load()), gotBytes.Load()
	return b, sendErr
}

// ampQuery packs the attacker's query: example.test. qtype, EDNS 4096
// with DO, as amplification tools send it.
func ampQuery(qtype uint16, id uint16) ([]byte, error) {
	m := new(dns.Msg)
	m.SetQuestion("example.test.", qtype)
	m.Id = id
	m.RecursionDesired = false
	m.SetEdns0(4096, true)
	wire, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return wire, nil
}
