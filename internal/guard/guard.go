// Package guard cuts off the connections of a ZeroMQ socket that would
// make the process hold more than their share.
//
// libzmq bounds each frame (ZMQ_MAXMSGSIZE) and the messages queued per
// connection (the high-water mark), but not the frames of one message: it
// keeps every frame of a message until the last one has come, about 64
// bytes for each, so a peer that sends empty frames and never ends the
// message makes the process hold 32 times what it sends, without end.
// Nor does it bound what a subscriber sends a publisher. A Guard follows
// each connection by its descriptor (which the socket's monitor reports),
// reads the kernel's counters of what was sent and received on it
// (TCP_INFO), and shuts down the connection that breaks its Rule; libzmq
// then drops the connection and frees what it held for it.
//
// Reading a connection's counters and resetting it under libzmq's feet
// are Linux's (guard_linux.go). Elsewhere (guard_other.go) a Guard watches
// no connection, and libzmq's own limits are what bound a peer: each frame
// (ZMQ_MAXMSGSIZE) and the queues (high-water marks), not an endless
// message's frames nor a subscriber's subscriptions.
//
// A Guard belongs to the goroutine that reads its socket's monitor.
package guard

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// Rule says what one connection may send, and what the connections of a
// socket may make the process hold together.
type Rule struct {
	// Stall, if not zero, is the most a connection may send without
	// progress: a request taken whole from it (the Guard's Ledger). A
	// message that never ends stalls, and is cut off once Stall bytes of
	// it have come. Protocol chatter is no progress (a ZMTP PING earns a
	// PONG), so it is not counted in bytes sent back.
	Stall uint64
	// Budget, if not zero, is the most a connection may send in all, plus
	// Rate bytes for each second it has been up (a subscriber sends its
	// subscriptions and heartbeats, and nothing else).
	Budget uint64
	Rate   uint64
	// Total, if not zero, is the most the socket's connections may hold
	// together, by the Guard's estimate (see held), once the process's
	// resident memory is over Full: then those that hold the most are cut
	// off until the rest are within it. The estimate errs on the safe side
	// (frames of nothing), so it is not taken alone.
	Total uint64
	Full  int64
}

// Hello is what a subscriber sends to begin, which holds nothing for
// long: the ZMTP greeting and handshake (CurveZMQ's too) and a
// subscription, about 700 bytes.
const Hello = 1 << 10

// PerByte is the most libzmq may hold for each byte a peer sends it: 64
// bytes for an empty frame, which takes 2 on the wire.
const PerByte = 32

// A Cut is a connection the Guard cut off.
type Cut struct {
	Peer string // its address, host:port
	Key  string // its public key in keyed mode, if a request came with it
	Sent uint64 // the bytes it had sent
	Why  string // the rule it broke
}

// String says what the connection did: "it sent 600 KiB, 520 KiB of it
// unanswered (a message that never ends?)".
func (c Cut) String() string {
	return fmt.Sprintf("it sent %s, %s", Size(c.Sent), c.Why)
}

// Guard watches the connections of one socket.
type Guard struct {
	rule    Rule
	ledger  *Ledger
	conns   map[int]*conn
	suspect bool // the last Check found a connection half way to a stall
}

type conn struct {
	peer     string
	since    time.Time
	base     uint64 // bytes received at the last progress
	requests uint64 // requests served when last checked
	// checked is false until the first Check: what came before the event
	// was read counts, but whether it was answered shows only from then on.
	checked bool
}

// New returns a Guard that applies rule, with ledger the requests served
// on the socket (nil if it serves none: a Stall rule needs one).
func New(rule Rule, ledger *Ledger) *Guard {
	if ledger == nil {
		ledger = NewLedger()
	}
	return &Guard{rule: rule, ledger: ledger, conns: make(map[int]*conn)}
}

// Events are the monitor events a Guard needs (for zmq.Socket.Monitor).
const Events = zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED

// Event takes a monitor event of the socket: a connection that came
// (accepted, with its descriptor) is watched from now on, one that went is
// forgotten. Other events are ignored.
func (g *Guard) Event(ev zmq.Event, fd int, now time.Time) {
	switch ev {
	case zmq.EVENT_ACCEPTED:
		peer, ok := peerOf(fd)
		if !ok {
			delete(g.conns, fd) // already gone
			return
		}
		// All it sent counts, from the start, so that what came before the
		// event was read counts too.
		g.conns[fd] = &conn{peer: peer, since: now, requests: g.ledger.account(fd).requests}
	case zmq.EVENT_DISCONNECTED:
		delete(g.conns, fd)
		g.ledger.forget(fd)
	}
}

// Check reads each connection's counters, cuts off those that break the
// rule, then, with the process's resident memory at rss over the rule's
// Full, while they hold more than its Total together, those that hold the
// most, and returns them. Each connection costs a system call.
func (g *Guard) Check(now time.Time, rss int64) []Cut {
	var cuts []Cut
	var holding []held
	var total uint64
	g.suspect = false
	for fd, c := range g.conns {
		n, err := counted(fd)
		if err != nil {
			delete(g.conns, fd)
			continue
		}
		if why := g.breaks(fd, c, n, now); why != "" {
			cuts = g.cut(cuts, fd, n.received, why)
		} else if h := g.held(fd, c, n, now); h > 0 && g.rule.Total > 0 {
			// A connection in its first second is looked at every Tick: a
			// crowd that has just come can send what libzmq holds faster
			// than memory is seen to grow.
			g.suspect = g.suspect || now.Sub(c.since) < Every
			holding = append(holding, held{fd, h, n.received})
			total += h
		}
	}
	g.suspect = g.suspect || total > g.rule.Total/2
	if total <= g.rule.Total || rss <= g.rule.Full {
		return cuts
	}
	// The most first, until the rest are within the Total.
	sort.Slice(holding, func(i, j int) bool { return holding[i].bytes > holding[j].bytes })
	for _, h := range holding {
		if total <= g.rule.Total {
			break
		}
		why := fmt.Sprintf("held about %s, the most, when this port's connections held %s together, over the %s they may", Size(h.bytes), Size(total), Size(g.rule.Total))
		cuts = g.cut(cuts, h.fd, h.received, why)
		total -= h.bytes
	}
	return cuts
}

// held is what one connection holds, by the Guard's estimate.
type held struct {
	fd              int
	bytes, received uint64
}

// cut cuts off the connection on fd, if it is still the one watched, and
// adds it to cuts.
func (g *Guard) cut(cuts []Cut, fd int, received uint64, why string) []Cut {
	c := g.conns[fd]
	delete(g.conns, fd)
	// The descriptor is checked to be the same connection still, in case
	// libzmq closed it and it was reused since the event.
	if peer, ok := peerOf(fd); ok && peer == c.peer {
		abort(fd)
		cuts = append(cuts, Cut{Peer: c.peer, Key: g.ledger.account(fd).key, Sent: received, Why: why})
	}
	return cuts
}

// breaks says which rule c breaks, if any, and updates what it knows of c.
func (g *Guard) breaks(fd int, c *conn, info counters, now time.Time) string {
	r := g.rule
	if r.Budget > 0 && info.received > g.allowed(c, now) {
		return fmt.Sprintf("more than the %s (and %d B a second) a subscriber may (subscriptions by the thousand, or a message that never ends?)", Size(r.Budget), r.Rate)
	}
	if r.Stall == 0 {
		return ""
	}
	requests := g.ledger.account(fd).requests
	served := requests != c.requests
	c.requests = requests
	if served {
		c.base, c.checked = info.received, true
		return ""
	}
	if !c.checked {
		c.checked = true
		return ""
	}
	stalled := info.received - c.base
	g.suspect = g.suspect || stalled > r.Stall/2
	if stalled > r.Stall {
		return fmt.Sprintf("%s of it without a whole request (a message that never ends?)", Size(stalled))
	}
	return ""
}

// allowed is what c may have sent by now under a Budget rule.
func (g *Guard) allowed(c *conn, now time.Time) uint64 {
	return g.rule.Budget + g.rule.Rate*uint64(now.Sub(c.since)/time.Second)
}

// held estimates what libzmq holds for c: PerByte for each byte of a
// message not yet whole (what it sent since its last progress, or under a
// Budget rule, what it sent beyond a Hello and the Rate), and the replies
// it has not taken.
func (g *Guard) held(fd int, c *conn, info counters, now time.Time) uint64 {
	var pending uint64
	switch {
	case g.rule.Stall > 0:
		pending = info.received - c.base
	case g.rule.Budget > 0:
		if free := g.allowed(c, now) - g.rule.Budget + Hello; info.received > free {
			pending = info.received - free
		}
	}
	return PerByte*pending + unread(g.ledger.account(fd), info)
}

// counters are what the kernel counted of one connection, in bytes: what
// it received, and what the peer acknowledged of what was sent.
type counters struct{ received, acked uint64 }

// Size says a byte count the way a person reads it: "512 B", "64 KiB",
// "2.5 MiB".
func Size(n uint64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.4g KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.4g MiB", float64(n)/(1<<20))
	}
}

// Memory reads the process's resident memory, which a Watch checks often
// to look at the connections as soon as it grows (see guard_linux.go).
type Memory struct{ f *os.File }

// Close closes what Memory reads.
func (m *Memory) Close() {
	if m.f != nil {
		m.f.Close()
	}
}

// Watch runs a Guard in a goroutine of its own, which reads the socket's
// monitor and looks at the connections every Tick: a socket's owner can
// spend a long time in one call into libzmq (a PUB socket takes in every
// subscription waiting whenever it publishes), and the guard must look
// meanwhile. It looks at every connection every Every, and at once when
// memory grew by Growth; then, while a connection has sent half its Stall
// without progress, every Tick.
type Watch struct {
	mon    *zmq.Socket
	guard  *Guard
	report func(Cut)
	failed atomic.Int64 // errno of the last failed accept not yet taken, or 0
	tick   *time.Ticker
	stop   chan struct{}
	done   chan struct{}
}

// How often a Watch looks.
const (
	Tick   = 20 * time.Millisecond
	Every  = time.Second
	Growth = 8 << 20
)

// StartWatch starts watching the events of mon, a socket connected to a
// socket's monitor (with Events among its events), which it owns from now
// on, under rule, with ledger the requests served on the socket (nil if
// none); report is told of each connection cut off, from the Watch's
// goroutine.
func StartWatch(mon *zmq.Socket, rule Rule, ledger *Ledger, report func(Cut)) *Watch {
	pollerOnce.Do(openPoller)
	w := &Watch{mon: mon, guard: New(rule, ledger), report: report, tick: time.NewTicker(Tick), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// AcceptFailed returns, once, the errno of an accept that failed since it
// was last asked (EVENT_ACCEPT_FAILED, if the monitor has it).
func (w *Watch) AcceptFailed() (errno int, ok bool) {
	n := w.failed.Swap(0)
	return int(n), n != 0
}

// Stop stops the Watch and closes its monitor socket. Call it after the
// watched socket's monitor was stopped.
func (w *Watch) Stop() {
	close(w.stop)
	<-w.done
	w.tick.Stop()
}

var pollerOnce sync.Once

// openPoller has the Go runtime open its epoll descriptor now, while there
// are descriptors to be had. It does so lazily, the first time a goroutine
// waits on a timer (as a Watch does) or a pollable file, and a process out
// of descriptors by then dies ("netpollinit failed"). A pipe, opened and
// closed, is such a file.
func openPoller() {
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
}

// run waits on a Go ticker and reads the monitor without waiting: a
// goroutine that waits inside libzmq sits in a system call, whose P the
// runtime's sysmon takes back, and sysmon then wakes far more often, at the
// cost of the server's loop.
func (w *Watch) run() {
	defer close(w.done)
	defer w.mon.Close()
	mem := OpenMemory()
	defer mem.Close()
	var looked, trim time.Time
	var rss int64
	for {
		var now time.Time
		select {
		case <-w.stop:
			return
		case now = <-w.tick.C:
		}
		came := w.events(now)
		if !trim.IsZero() && now.After(trim) {
			releaseFreed()
			trim = time.Time{}
		}
		r := mem.Resident()
		if now.Sub(looked) < Every && r < rss+Growth && !w.guard.suspect && !came {
			rss = min(rss, r)
			continue
		}
		looked, rss = now, r
		cuts := w.guard.Check(now, r)
		for _, c := range cuts {
			w.report(c)
		}
		if len(cuts) > 0 {
			// libzmq frees what it held once its I/O thread sees the
			// connection gone; the memory is given back to the system a
			// moment later, so that the process's resident memory says
			// what it holds.
			trim = now.Add(trimDelay)
		}
	}
}

// trimDelay is how long after a cut-off the memory libzmq freed is given
// back to the system.
const trimDelay = 100 * time.Millisecond

// events takes in the monitor's events waiting, and reports whether a
// connection came.
func (w *Watch) events(now time.Time) (came bool) {
	for {
		ev, _, value, err := w.mon.RecvEvent(zmq.DONTWAIT)
		if err != nil {
			return came
		}
		came = came || ev == zmq.EVENT_ACCEPTED
		w.guard.Event(ev, value, now)
		if ev == zmq.EVENT_ACCEPT_FAILED {
			w.failed.Store(int64(value))
		}
	}
}
