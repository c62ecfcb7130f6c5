package auth

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// ErrConfig is wrapped by every error New returns for an invalid Config.
var ErrConfig = errors.New("auth: invalid config")

// Config configures a Server. Its zero value is a server with no zones that
// refuses every query.
type Config struct {
	// Zones are the zones served at start; SetZones replaces them later.
	// Nil means no zones.
	Zones *zone.Set
	// MaxUDPSize is the largest UDP reply in octets, 512 to 65535. Zero
	// means 1232 (DNS Flag Day 2020). It is also the UDP payload size the
	// server advertises in its OPT record.
	MaxUDPSize int
	// NSID is the name server identifier returned to clients that ask for
	// it (RFC 5001): text, or hex digits after a "0x" prefix. Empty means
	// no NSID option. At most 128 octets.
	NSID string
	// Version is the TXT answer to CHAOS queries for version.bind and
	// version.server. Empty means those queries are REFUSED.
	Version string
	// ID is the TXT answer to CHAOS queries for id.server and
	// hostname.bind. Empty means those queries are REFUSED.
	ID string
	// FullResponses adds to positive answers what RFC 1034 §4.3.2 and
	// the examples of RFC 4035 Appendix B show but no resolver needs: the
	// zone's apex NS RRset in the authority section, and the addresses
	// (A, AAAA) the zone holds for the names in NS, MX and SRV records of
	// the answer and authority sections in the additional section, each
	// with its signatures when the client set DO. Default false: minimal
	// responses, as NSD, Knot DNS and Unbound's minimal-responses give,
	// which are smaller and so fit UDP and amplify less.
	FullResponses bool
	// Logger receives write errors at debug level. Nil means no logging.
	Logger *slog.Logger
}

// Server is the authoritative engine: a dns.Handler answering from the
// zones of a zone.Set. It is safe for concurrent use.
type Server struct {
	zones         atomic.Pointer[zone.Set]
	denials       atomic.Pointer[denialCache] // NSEC/NSEC3 indexes of the zones being served
	maxUDP        int
	fullResponses bool
	nsid          string // hex, as dns.EDNS0_NSID wants it; "" for none
	version       string
	id            string
	log           *slog.Logger
}

// New returns a Server for cfg, with defaults filled in, or an error
// wrapping ErrConfig when cfg is invalid.
func New(cfg Config) (*Server, error) {
	s := &Server{maxUDP: cfg.MaxUDPSize, version: escapeTXT(cfg.Version), id: escapeTXT(cfg.ID), log: cfg.Logger,
		fullResponses: cfg.FullResponses}
	if s.maxUDP == 0 {
		s.maxUDP = defaultMaxUDPSize
	}
	if s.maxUDP < minUDPSize || s.maxUDP > maxTCPSize {
		return nil, fmt.Errorf("%w: MaxUDPSize %d is outside %d..%d", ErrConfig, s.maxUDP, minUDPSize, maxTCPSize)
	}
	nsid, err := parseNSID(cfg.NSID)
	if err != nil {
		return nil, err
	}
	s.nsid = nsid
	for field, v := range map[string]string{"Version": cfg.Version, "ID": cfg.ID} {
		if len(v) > maxTXTOctets {
			return nil, fmt.Errorf("%w: %s is %d octets, more than %d", ErrConfig, field, len(v), maxTXTOctets)
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.zones.Store(cfg.Zones)
	return s, nil
}

// parseNSID turns the configured NSID into the hex form dns.EDNS0_NSID
// carries.
func parseNSID(v string) (string, error) {
	raw := []byte(v)
	if hexDigits, ok := strings.CutPrefix(v, "0x"); ok {
		b, err := hex.DecodeString(hexDigits)
		if err != nil || len(b) == 0 {
			return "", fmt.Errorf("%w: NSID %q is not hex after 0x", ErrConfig, v)
		}
		raw = b
	}
	if len(raw) > maxNSIDOctets {
		return "", fmt.Errorf("%w: NSID is %d octets, more than %d", ErrConfig, len(raw), maxNSIDOctets)
	}
	return hex.EncodeToString(raw), nil
}

// SetZones atomically replaces the zones served; queries in flight finish
// with the set they started with.
func (s *Server) SetZones(z *zone.Set) { s.zones.Store(z) }

// Zones returns the zones being served.
func (s *Server) Zones() *zone.Set { return s.zones.Load() }

// ServeDNS answers r on w: it finds the transport, builds the reply with
// Answer (sized for that transport) and writes it. Responses (QR=1) get no
// reply. When the reply cannot be written, because it does not pack (a
// record the zone should never have held) or the connection failed, the
// error is logged and a bare SERVFAIL is tried instead, so that a client
// is not left waiting on a reply that will never come.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := s.Answer(r, network(w))
	if m == nil {
		return
	}
	err := w.WriteMsg(m)
	if err == nil {
		return
	}
	s.log.Debug("auth: write reply", "remote", w.RemoteAddr(), "err", err)
	_ = w.WriteMsg(serverFailure(m)) // nothing more to do if this fails too
}

// serverFailure returns m emptied to a SERVFAIL: header, question and
// OPT record only.
func serverFailure(m *dns.Msg) *dns.Msg {
	f := &dns.Msg{MsgHdr: m.MsgHdr, Question: m.Question}
	f.Rcode = dns.RcodeServerFailure
	f.Truncated, f.Authoritative = false, false
	if opt := m.IsEdns0(); opt != nil {
		f.Extra = []dns.RR{&dns.OPT{Hdr: opt.Hdr}}
	}
	return f
}

// network returns "udp" or "tcp" for w: what w says when it implements
// Network() string, else what its remote address says. Unknown transports
// are treated as UDP, the one with the smaller size limit.
func network(w dns.ResponseWriter) string {
	if n, ok := w.(interface{ Network() string }); ok {
		if strings.HasPrefix(n.Network(), "tcp") {
			return "tcp"
		}
		return "udp"
	}
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		return "tcp"
	}
	return "udp"
}
