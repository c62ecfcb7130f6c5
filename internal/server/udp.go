package server

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"
)

// udpBatchSize is how many datagrams one read (recvmmsg) moves at most.
const udpBatchSize = 32

// udpSocketBuffer is the kernel buffer size asked for each UDP socket, both ways, so that
// bursts wait in the kernel rather than being dropped; Linux caps it at net.core.rmem_max
// and wmem_max.
const udpSocketBuffer = 4 << 20

// udpReplyBuf is the room kept for packing each UDP reply; a longer reply is packed into a
// fresh buffer instead.
const udpReplyBuf = 4096

// udpSocket serves one UDP socket. One goroutine reads it in batches and does inline
// whatever cannot block (answerFast: drops, FORMERR for oversized queries, RawHandler),
// writing those replies in one batch. Every other query goes to a pool of worker
// goroutines for Handler, so a handler that blocks (a resolver waiting on other servers)
// holds up no other query. Their replies are written in batches too: see queueReply.
type udpSocket struct {
	srv     *Server
	conn    udpConn
	work    chan *udpQuery // unbuffered: a send succeeds when a worker is free
	workers int            // workers started; used only by the reader
	queries sync.WaitGroup // the workers
	pool    sync.Pool      // of *udpQuery

	wmu      sync.Mutex  // guards pending and flushing
	pending  []*udpQuery // replies waiting to be written
	flushing bool        // a worker is writing pending; it owns spare, out and outIO
	spare    []*udpQuery // the flusher's batch
	out      []datagram  // the flusher's writeBatch argument
	outIO    batchIO     // the flusher's batch I/O
}

func newUDPSocket(srv *Server, conn udpConn) *udpSocket {
	u := &udpSocket{srv: srv, conn: conn, work: make(chan *udpQuery), outIO: srv.newBatchIO(conn, udpBatchSize)}
	local := conn.LocalAddr()
	u.pool.New = func() any {
		q := new(udpQuery)
		q.init(q, local, make([]byte, udpReplyBuf))
		return q
	}
	return u
}

// start launches the socket's reader.
func (u *udpSocket) start() { u.srv.wg.Go(u.read) }

// read reads and answers batches until Shutdown, then waits for the workers.
func (u *udpSocket) read() {
	defer u.queries.Wait()
	defer close(u.work)
	b := newUDPBatch(u)
	var pause time.Duration
	for {
		n, err := b.io.readBatch(b.in)
		if err == nil {
			pause = 0
			b.serve(n)
			continue
		}
		if u.srv.stopping() || errors.Is(err, net.ErrClosed) {
			return
		}
		pause = nextPause(pause)
		u.srv.log.Warn("udp read failed", "local", u.conn.LocalAddr(), "err", err, "retry_in", pause)
		if !u.srv.wait(pause) {
			return
		}
	}
}

// dispatch copies msg for a worker to run Handler on. It starts a worker if none is free
// and fewer than udpMaxInFlight exist; at the cap it waits for one to finish.
func (u *udpSocket) dispatch(msg []byte, from netip.AddrPort) {
	q := u.pool.Get().(*udpQuery)
	q.start(net.UDPAddrFromAddrPort(from), from) // the handler may keep it: its own copy
	q.msg = append(q.msg[:0], msg...)
	select {
	case u.work <- q:
		return
	default:
	}
	if u.workers < udpMaxInFlight {
		u.workers++
		u.queries.Add(1)
		go u.serveQueries()
	}
	u.work <- q
}

// serveQueries is a worker: it answers queries until the reader stops, queueing replies.
// Workers live until Shutdown, so their stacks, grown once, are reused.
func (u *udpSocket) serveQueries() {
	defer u.queries.Done()
	for q := range u.work {
		u.srv.answerWithHandler(q.msg, &q.w)
		if q.reply == nil {
			u.pool.Put(q)
			continue
		}
		u.queueReply(q)
	}
}

// queueReply queues q's reply for writing. The goroutine that finds no write under way
// becomes the flusher; the others just leave their reply and return.
func (u *udpSocket) queueReply(q *udpQuery) {
	u.wmu.Lock()
	u.pending = append(u.pending, q)
	if u.flushing {
		u.wmu.Unlock()
		return
	}
	u.flushing = true
	u.wmu.Unlock()
	u.flush()
}

// flush writes queued replies in batches until none are left. Before taking each batch it
// yields, so that the replies being computed meanwhile join it: on a single core every
// ready handler goroutine runs first, and one sendmmsg carries all their replies.
func (u *udpSocket) flush() {
	for {
		runtime.Gosched()
		u.wmu.Lock()
		u.spare, u.pending = u.pending, u.spare[:0]
		if len(u.spare) == 0 {
			u.flushing = false
			u.wmu.Unlock()
			return
		}
		u.wmu.Unlock()
		u.out = u.out[:0]
		for _, q := range u.spare {
			u.out = append(u.out, q.message())
		}
		u.write(u.outIO, u.out)
		clear(u.out) // drop the references to the replies' buffers
		for i, q := range u.spare {
			u.pool.Put(q)
			u.spare[i] = nil
		}
	}
}

// write sends replies through io, skipping any the kernel refuses (an unreachable client
// must not hold back the others). If the socket's send buffer stays full, it drops the
// rest: waiting longer would hold up the reader, which writes the inline replies.
func (u *udpSocket) write(io batchIO, replies []datagram) {
	for len(replies) > 0 {
		n, err := io.writeBatch(replies)
		if errors.Is(err, errSendBufferFull) {
			u.srv.log.Debug("udp replies dropped", "local", u.conn.LocalAddr(), "count", len(replies)-n, "err", err)
			return
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) || n >= len(replies) {
				return
			}
			u.srv.log.Debug("udp reply not sent", "remote", replies[n].addr, "err", err)
			n++
		}
		if n == 0 {
			return
		}
		replies = replies[n:]
	}
}

// udpBatch is the reader's buffers, allocated once: the read slots, and per slot the
// writer answerFast uses and room for its reply.
type udpBatch struct {
	sock  *udpSocket
	io    batchIO    // the reader's batch I/O: reads, and writes the inline replies
	in    []datagram // read slots, each one buffer of udpQueryMax+1 bytes
	slots []udpSlot  // slots[i] answers in[i]
	out   []datagram // the inline replies of the batch being served
}

func newUDPBatch(sock *udpSocket) *udpBatch {
	const inSize = udpQueryMax + 1 // one byte more shows a datagram was cut short
	inBufs := make([]byte, udpBatchSize*inSize)
	replyBufs := make([]byte, udpBatchSize*udpReplyBuf)
	b := &udpBatch{
		sock:  sock,
		io:    sock.srv.newBatchIO(sock.conn, udpBatchSize),
		in:    make([]datagram, udpBatchSize),
		slots: make([]udpSlot, udpBatchSize),
		out:   make([]datagram, 0, udpBatchSize),
	}
	local := sock.conn.LocalAddr()
	for i := range b.in {
		b.in[i].buf = inBufs[i*inSize : (i+1)*inSize : (i+1)*inSize]
		b.slots[i].init(&b.slots[i], local, replyBufs[i*udpReplyBuf:(i+1)*udpReplyBuf:(i+1)*udpReplyBuf])
	}
	return b
}

// serve answers the first n datagrams read: inline where answerFast can, else in handler
// workers. It writes the inline replies in one batch.
func (b *udpBatch) serve(n int) {
	b.out = b.out[:0]
	for i := range b.in[:n] {
		d := &b.in[i]
		slot := &b.slots[i]
		slot.startInline(d.addr)
		if !b.sock.srv.answerFast(d.buf, udpQueryMax, &slot.w) {
			b.sock.dispatch(d.buf, d.addr)
			continue
		}
		if slot.reply != nil {
			b.out = append(b.out, slot.message())
		}
	}
	b.sock.write(b.io, b.out)
}

// udpSlot holds what answering one datagram takes: the writer handed to the handlers,
// whose replySink it is, and the one reply, kept until it is written.
type udpSlot struct {
	w     responseWriter
	reply []byte         // the reply to send; nil for none
	to    netip.AddrPort // where the reply goes: the query's source

	// remote is the writer's RemoteAddr for the reader's own slots, rewritten in place for
	// each datagram so that the inline path allocates nothing; ip is its IP's storage.
	remote net.UDPAddr
	ip     [16]byte
}

// init sets the slot up for a socket bound to local, with sink receiving its writer's
// replies (the slot itself, or the udpQuery holding it) and buf to pack them into.
func (s *udpSlot) init(sink replySink, local net.Addr, buf []byte) {
	s.w = responseWriter{sink: sink, network: "udp", local: local, buf: buf}
}

// start readies the slot for a datagram from remote, whose address is from.
func (s *udpSlot) start(remote net.Addr, from netip.AddrPort) {
	s.reply, s.to = nil, from
	s.w.remote, s.w.replied, s.w.tsig = remote, false, nil
}

// startInline readies one of the reader's slots for a datagram from from. The writer's
// RemoteAddr is the slot's own net.UDPAddr, valid until the slot's next datagram: only
// what runs inline (answerFast, RawHandler) sees it.
func (s *udpSlot) startInline(from netip.AddrPort) {
	a := from.Addr()
	if a.Is4() {
		b := a.As4()
		s.remote.IP = s.ip[:copy(s.ip[:], b[:])]
	} else {
		s.ip = a.As16()
		s.remote.IP = s.ip[:]
	}
	s.remote.Port, s.remote.Zone = int(from.Port()), a.Zone()
	s.start(&s.remote, from)
}

// send keeps reply (copied: the caller may reuse its buffer) as the slot's one reply.
func (s *udpSlot) send(reply []byte) error {
	switch {
	case s.reply != nil:
		return errAlreadyReplied
	case len(reply) == 0:
		return errReplySize
	}
	s.reply = append(s.w.buf[:0], reply...)
	return nil
}

// close does nothing: a UDP query has no connection to close.
func (s *udpSlot) close() error { return nil }

// message returns the reply as a datagram back to the query's source.
func (s *udpSlot) message() datagram {
	return datagram{buf: s.reply, addr: s.to}
}

// udpQuery is a datagram handed to a worker: a copy of the query, and a slot of its own,
// since the reader's are reused for the next batch.
type udpQuery struct {
	udpSlot
	msg []byte
}

// servePacket answers one UDP datagram from remote, running Handler inline, with slot's
// writer and reply buffer. It returns the reply to send, or nil for none. It is what the
// server does with a datagram, in one call: what FuzzServePacket exercises.
func (s *Server) servePacket(slot *udpSlot, payload []byte, remote net.Addr) []byte {
	slot.start(remote, netip.AddrPort{})
	s.answer(payload, udpQueryMax, &slot.w)
	return slot.reply
}
