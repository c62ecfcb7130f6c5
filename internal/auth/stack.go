package auth

import (
	"fmt"
	"net"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/cookie"
	"github.com/rensa-dns/rensa/internal/ratelimit"
)

// StackConfig configures the defences NewStack puts in front of an
// authoritative engine. Its zero value is the secure default of LIMITS.md
// ("Amplification"): DNS cookies offered and checked, Response Rate
// Limiting at 5 responses a second, window 15 s, slip 2, and the fast
// path on, limited by the same Limiter.
type StackConfig struct {
	// RRL configures Response Rate Limiting. Default: the zero
	// ratelimit.Config, LIMITS.md's limits. RRL.Disabled turns it off
	// (for measurements and for servers behind another limiter);
	// RRL.LogOnly counts without dropping.
	RRL ratelimit.Config
	// Cookies configures server-side DNS cookies (RFC 7873, RFC 9018).
	// Default: the zero cookie.Config, a random secret, cookies offered but
	// not required. With Cookies.Require the fast path serves TCP only,
	// so that every UDP query meets the cookie check.
	Cookies cookie.Config
	// DisableCookies leaves the cookie middleware out: no cookies are
	// issued, and no client is exempt from rate limiting. Default: false.
	DisableCookies bool
	// DisableFastPath leaves the precompiled-answer fast path out:
	// Stack.RawHandler is nil and every query is unpacked and answered by
	// the engine. Default: false.
	DisableFastPath bool
}

// Stack is an authoritative engine wired with its defences the way a
// production server runs it, ready for server.Config:
//
//	engine, err := auth.New(auth.Config{Zones: zones})
//	...
//	st, err := auth.NewStack(engine, auth.StackConfig{})
//	...
//	srv, err := server.New(server.Config{Handler: st.Handler, RawHandler: st.RawHandler})
//	...
//	stats := st.Limiter.Stats() // answered, dropped, slipped, exempt
//
// The query path is: RawHandler (the fast path, rate limited by Limiter),
// and for every query it declines, Handler: the cookie middleware, then
// the ratelimit middleware, then the engine. Cookies are checked first,
// so that a client with a valid server cookie is exempt from the limit,
// and added last, to whatever the limiter lets through (slip replies
// included). The fast path declines every query with an EDNS option, so a
// cookie query always takes the Handler.
type Stack struct {
	// Handler is cookie(ratelimit(engine)), or without the parts turned
	// off.
	Handler dns.Handler
	// RawHandler is the fast path's server.Config.RawHandler, rate
	// limited by Limiter; nil with DisableFastPath.
	RawHandler func(query []byte, network string, remote net.Addr, out []byte) (reply []byte, ok bool)
	// Limiter is the Response Rate Limiting state both paths share, for
	// its Stats. It is never nil; with RRL.Disabled it counts nothing.
	Limiter *ratelimit.Limiter
	// FastPath is the fast path behind RawHandler; nil with
	// DisableFastPath.
	FastPath *FastPath
}

// NewStack wraps engine in the defences cfg asks for (see Stack), or
// returns an error wrapping ratelimit.ErrConfig or cookie.ErrConfig for
// a configuration they reject. Configurations are not changed after.
func NewStack(engine *Server, cfg StackConfig) (*Stack, error) {
	rrl, limiter, err := ratelimit.New(cfg.RRL)
	if err != nil {
		return nil, fmt.Errorf("auth: rate limiting: %w", err)
	}
	st := &Stack{Handler: rrl(engine), Limiter: limiter}
	if !cfg.DisableCookies {
		cookies, err := cookie.New(cfg.Cookies)
		if err != nil {
			return nil, fmt.Errorf("auth: cookies: %w", err)
		}
		st.Handler = cookies(st.Handler)
	}
	if cfg.DisableFastPath {
		return st, nil
	}
	fc := FastPathConfig{TCPOnly: !cfg.DisableCookies && cfg.Cookies.Require}
	if !cfg.RRL.Disabled {
		fc.Limiter = limiter
	}
	st.FastPath = NewFastPathWith(engine, fc)
	st.RawHandler = st.FastPath.RawHandler
	return st, nil
}
