package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// ErrClosed is returned by the Listen methods once Shutdown has begun.
var ErrClosed = errors.New("server: closed")

// Config configures a Server. Its zero value works once Handler is set; each field documents
// its default. New copies it; the Server never changes it.
type Config struct {
	// Handler answers every query that reaches it. Required.
	Handler dns.Handler

	// RawHandler, if set, sees every query whose header is readable before it is unpacked:
	// precompiled answers skip dns.Msg entirely. If it returns ok, the server sends reply
	// (nothing if reply is empty) and does not call Handler; if it returns !ok, the query
	// goes on to Handler. network is "udp" or "tcp". out is scratch space the reply may be
	// built in (append to out[:0]); it may be nil. query, remote and out are only valid
	// during the call (over UDP the server reuses remote for the next datagram). Over UDP
	// it runs on the goroutine that reads the socket, so it must not block.
	// Default: none.
	RawHandler func(query []byte, network string, remote net.Addr, out []byte) (reply []byte, ok bool)

	// Logger receives the server's logs. Default: slog.Default().
	Logger *slog.Logger

	// MaxTCPConns caps open TCP connections; a connection over the cap is accepted and
	// closed at once, so its client fails fast instead of waiting in the kernel's backlog.
	// Default: DefaultMaxTCPConns (150).
	MaxTCPConns int

	// TCPFirstMessageTimeout is how long a new TCP connection has to deliver its first query.
	// Default: DefaultTCPFirstMessageTimeout (3s).
	TCPFirstMessageTimeout time.Duration

	// TCPIdleTimeout is how long a TCP connection may wait for its next query.
	// Default: DefaultTCPIdleTimeout (10s).
	TCPIdleTimeout time.Duration

	// MaxPipelined caps the queries of one TCP connection in flight at once; the next one is
	// not read until one finishes. Default: DefaultMaxPipelined (100).
	MaxPipelined int

	// UDPSockets is how many sockets ListenUDP binds to one address with SO_REUSEPORT, each
	// served by its own goroutines; the kernel spreads clients over them. It is 1 where
	// SO_REUSEPORT is not supported. Default: runtime.GOMAXPROCS(0).
	UDPSockets int
}

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxTCPConns == 0 {
		cfg.MaxTCPConns = DefaultMaxTCPConns
	}
	if cfg.TCPFirstMessageTimeout == 0 {
		cfg.TCPFirstMessageTimeout = DefaultTCPFirstMessageTimeout
	}
	if cfg.TCPIdleTimeout == 0 {
		cfg.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if cfg.MaxPipelined == 0 {
		cfg.MaxPipelined = DefaultMaxPipelined
	}
	if cfg.UDPSockets == 0 {
		cfg.UDPSockets = runtime.GOMAXPROCS(0)
	}
	if !reusePortSupported {
		cfg.UDPSockets = 1
	}
	return cfg
}

// validate reports the first field of cfg that cannot work.
func (cfg Config) validate() error {
	switch {
	case cfg.Handler == nil:
		return errors.New("server: Config.Handler is nil")
	case cfg.MaxTCPConns < 0:
		return fmt.Errorf("server: Config.MaxTCPConns is negative (%d)", cfg.MaxTCPConns)
	case cfg.TCPFirstMessageTimeout < 0:
		return fmt.Errorf("server: Config.TCPFirstMessageTimeout is negative (%v)", cfg.TCPFirstMessageTimeout)
	case cfg.TCPIdleTimeout < 0:
		return fmt.Errorf("server: Config.TCPIdleTimeout is negative (%v)", cfg.TCPIdleTimeout)
	case cfg.MaxPipelined < 0:
		return fmt.Errorf("server: Config.MaxPipelined is negative (%d)", cfg.MaxPipelined)
	case cfg.UDPSockets < 0:
		return fmt.Errorf("server: Config.UDPSockets is negative (%d)", cfg.UDPSockets)
	}
	return nil
}

// Server serves a dns.Handler over UDP and TCP on any number of addresses. Create it with
// New, add addresses with Listen, ListenUDP and ListenTCP, and stop it with Shutdown.
type Server struct {
	cfg Config
	log *slog.Logger

	// closing is closed when Shutdown begins; from then on nothing new is read or accepted.
	closing chan struct{}
	// wg counts every goroutine the Server starts directly: UDP readers, accept loops and
	// TCP connections. Each UDP reader and TCP connection in turn waits for the goroutines
	// it starts (workers, query goroutines) before it ends.
	wg sync.WaitGroup

	mu        sync.Mutex // guards udp, listeners, conns, services, and closing's closure
	udp       []*udpSocket
	listeners []net.Listener
	conns     map[*tcpConn]struct{}
	services  []service // DoH and DoQ listeners (https.go, quic.go)

	// openUDP opens each UDP socket: openUDPSocket, the platform's; tests swap in
	// openNetUDP to run the portable path too.
	openUDP func(addr string, reusePort bool) (udpConn, error)
	// newBatchIO makes the batch I/O of each UDP socket's reader and writer: the socket's
	// own; tests swap in scripted ones.
	newBatchIO func(conn udpConn, size int) batchIO
}

// service is a listener that runs its own connections (DoH's http.Server, DoQ's QUIC
// listener). Shutdown calls stopIntake when it begins and closeAll when it ends.
type service interface {
	// stopIntake stops accepting connections and queries; what is in flight may finish.
	// It must not block.
	stopIntake()
	// closeAll closes every connection at once.
	closeAll()
}

// New returns a Server for cfg with defaults filled in, or an error naming the field that
// cannot work. The Server listens nowhere until Listen, ListenUDP or ListenTCP is called.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Server{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "server"),
		closing: make(chan struct{}),
		conns:   make(map[*tcpConn]struct{}),

		openUDP:    openUDPSocket,
		newBatchIO: udpConn.newIO,
	}, nil
}

// stopping reports whether Shutdown has begun.
func (s *Server) stopping() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// Shutdown stops the Server gracefully: it stops reading and accepting, closes idle TCP
// connections, waits for the queries in flight to be answered, then closes every socket.
// If ctx ends first, it closes everything at once and returns ctx's error; handlers still
// running can no longer reply. Shutdown may be called more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopIntake()
	drained := make(chan struct{})
	go func() { // owned by Shutdown: ends when the last server goroutine does
		s.wg.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		s.closeAll()
		return nil
	case <-ctx.Done():
		s.closeAll()
		return fmt.Errorf("server: shutdown: %w", ctx.Err())
	}
}

// stopIntake marks the Server as closing and stops every source of new queries: listeners
// are closed, UDP reads are stopped (the sockets stay open so replies in flight still go
// out), and TCP connections lose their read side, so an idle connection ends at once and a
// busy one after its last reply.
func (s *Server) stopIntake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping() {
		return
	}
	close(s.closing)
	for _, ln := range s.listeners {
		ln.Close()
	}
	for _, u := range s.udp {
		u.conn.stopReads()
	}
	for c := range s.conns {
		c.closeRead()
	}
	for _, svc := range s.services {
		svc.stopIntake()
	}
}

// closeAll closes every socket the Server holds.
func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.udp {
		u.conn.close()
	}
	for c := range s.conns {
		c.conn.Close()
	}
	for _, svc := range s.services {
		svc.closeAll()
	}
}

// startService registers svc so that Shutdown stops it, and runs start under the lock so
// that the goroutines start adds to wg are ordered before Shutdown's Wait; or it reports
// ErrClosed.
func (s *Server) startService(svc service, start func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping() {
		return ErrClosed
	}
	s.services = append(s.services, svc)
	start()
	return nil
}

// startUDP registers socks so that Shutdown stops them and starts their readers, or
// reports ErrClosed. Starting under mu orders every wg.Add before Shutdown's Wait.
func (s *Server) startUDP(socks []*udpSocket) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping() {
		return ErrClosed
	}
	s.udp = append(s.udp, socks...)
	for _, u := range socks {
		u.start()
	}
	return nil
}

// startTCP registers ln so that Shutdown closes it and starts its accept loop, or reports
// ErrClosed.
func (s *Server) startTCP(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping() {
		return ErrClosed
	}
	s.listeners = append(s.listeners, ln)
	s.wg.Go(func() { s.acceptLoop(ln) })
	return nil
}

// startConn registers c and starts serving it, unless the Server is closing or already
// holds MaxTCPConns connections; it reports whether c was admitted.
func (s *Server) startConn(c *tcpConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping() || len(s.conns) >= s.cfg.MaxTCPConns {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Go(c.serve)
	return true
}

// removeConn forgets a finished connection, freeing its slot.
func (s *Server) removeConn(c *tcpConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// Pauses after a failed read or accept (out of file descriptors, say), doubling from the
// first to the last, so that a persistent failure does not spin.
const (
	failurePauseFirst = 5 * time.Millisecond
	failurePauseLast  = time.Second
)

// nextPause returns the pause to take after a failure that followed a pause of prev.
func nextPause(prev time.Duration) time.Duration {
	return min(max(2*prev, failurePauseFirst), failurePauseLast)
}

// wait pauses for d, and reports false if Shutdown began meanwhile.
func (s *Server) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closing:
		return false
	}
}
