package server

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
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

// batchConn is the batch I/O of golang.org/x/net's ipv4 and ipv6 PacketConn: one
// recvmmsg or sendmmsg system call per batch on Linux, one datagram per call elsewhere.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpSocket serves one UDP socket. One goroutine reads it in batches and does inline
// whatever cannot block (answerFast: drops, FORMERR for oversized queries, RawHandler),
// writing those replies in one batch. Every other query goes to a pool of worker
// goroutines for Handler, so a handler that blocks (a resolver waiting on other servers)
// holds up no other query. Their replies are written in batches too: see queueReply.
type udpSocket struct {
	srv     *Server
	conn    *net.UDPConn
	batch   batchConn
	work    chan *udpQuery // unbuffered: a send succeeds when a worker is free
	workers int            // workers started; used only by the reader
	queries sync.WaitGroup // the workers
	pool    sync.Pool      // of *udpQuery

	wmu      sync.Mutex     // guards pending and flushing
	pending  []*udpQuery    // replies waiting to be written
	flushing bool           // a worker is writing pending; it owns spare and msgs
	spare    []*udpQuery    // the flusher's batch
	msgs     []ipv4.Message // the flusher's WriteBatch argument
}

func newUDPSocket(srv *Server, conn *net.UDPConn) *udpSocket {
	var batch batchConn = ipv6.NewPacketConn(conn)
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		batch = ipv4.NewPacketConn(conn)
	}
	u := &udpSocket{srv: srv, conn: conn, batch: batch, work: make(chan *udpQuery)}
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
		n, err := u.batch.ReadBatch(b.in, 0)
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
func (u *udpSocket) dispatch(msg []byte, remote net.Addr) {
	q := u.pool.Get().(*udpQuery)
	q.start(remote)
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
		u.msgs = u.msgs[:0]
		for _, q := range u.spare {
			u.msgs = append(u.msgs, q.message())
		}
		u.write(u.msgs)
		for i, q := range u.spare {
			u.pool.Put(q)
			u.spare[i] = nil
		}
	}
}

// write sends replies, skipping any the kernel refuses (an unreachable client must not
// hold back the others).
func (u *udpSocket) write(replies []ipv4.Message) {
	for len(replies) > 0 {
		n, err := u.batch.WriteBatch(replies, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || n >= len(replies) {
				return
			}
			u.srv.log.Debug("udp reply not sent", "remote", replies[n].Addr, "err", err)
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
	in    []ipv4.Message // read slots, each one buffer of udpQueryMax+1 bytes
	slots []udpSlot      // slots[i] answers in[i]
	out   []ipv4.Message // the inline replies of the batch being served
}

func newUDPBatch(sock *udpSocket) *udpBatch {
	const inSize = udpQueryMax + 1 // one byte more shows a datagram was cut short
	inBufs := make([]byte, udpBatchSize*inSize)
	replyBufs := make([]byte, udpBatchSize*udpReplyBuf)
	b := &udpBatch{
		sock:  sock,
		in:    make([]ipv4.Message, udpBatchSize),
		slots: make([]udpSlot, udpBatchSize),
		out:   make([]ipv4.Message, 0, udpBatchSize),
	}
	local := sock.conn.LocalAddr()
	for i := range b.in {
		b.in[i].Buffers = [][]byte{inBufs[i*inSize : (i+1)*inSize : (i+1)*inSize]}
		b.slots[i].init(&b.slots[i], local, replyBufs[i*udpReplyBuf:(i+1)*udpReplyBuf:(i+1)*udpReplyBuf])
	}
	return b
}

// serve answers the first n datagrams read: inline where answerFast can, else in handler
// workers. It writes the inline replies in one batch.
func (b *udpBatch) serve(n int) {
	b.out = b.out[:0]
	for i := range b.in[:n] {
		m := &b.in[i]
		slot := &b.slots[i]
		msg := m.Buffers[0][:m.N]
		slot.start(m.Addr)
		if !b.sock.srv.answerFast(msg, udpQueryMax, &slot.w) {
			b.sock.dispatch(msg, m.Addr)
			continue
		}
		if slot.reply != nil {
			b.out = append(b.out, slot.message())
		}
	}
	b.sock.write(b.out)
}

// udpSlot holds what answering one datagram takes: the writer handed to the handlers,
// whose replySink it is, and the one reply, kept until it is written.
type udpSlot struct {
	w     responseWriter
	reply []byte   // the reply to send; nil for none
	bufs  [][]byte // the one-element Buffers of the reply's ipv4.Message
}

// init sets the slot up for a socket bound to local, with sink receiving its writer's
// replies (the slot itself, or the udpQuery holding it) and buf to pack them into.
func (s *udpSlot) init(sink replySink, local net.Addr, buf []byte) {
	s.w = responseWriter{sink: sink, network: "udp", local: local, buf: buf}
	s.bufs = make([][]byte, 1)
}

// start readies the slot for a datagram from remote.
func (s *udpSlot) start(remote net.Addr) {
	s.reply = nil
	s.w.remote, s.w.replied, s.w.tsig = remote, false, nil
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

// message returns the reply as a WriteBatch message back to the query's source.
func (s *udpSlot) message() ipv4.Message {
	s.bufs[0] = s.reply
	return ipv4.Message{Buffers: s.bufs, Addr: s.w.remote}
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
	slot.start(remote)
	s.answer(payload, udpQueryMax, &slot.w)
	return slot.reply
}
