package client

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zmqchat/zmqchat/internal/transport"
)

// A rogue server can start a message and never end it: libzmq keeps every
// frame of a message until its last one comes (about 64 bytes for an empty
// frame of 2, the frame itself for a large one), and ZMQ_MAXMSGSIZE bounds
// only each frame. No libzmq option bounds that, so a client watches its
// own peak memory (getrusage, on every Unix) while nothing whole arrives,
// and hangs up on a server that makes it grow by more than a whole message
// could:
const (
	// maxGrowth, for a subscriber: a zmqchat server's largest publication
	// is 16 KiB and a little, and libzmq queues at most the socket's
	// high-water mark of them, each read as soon as it is whole.
	maxGrowth = 16 << 20
	// maxReplyGrowth, for a poster: the largest reply, to HISTORY, is
	// 1,000 of those publications, held whole by libzmq before it is read.
	maxReplyGrowth = 32 << 20
)

// pollEvery is how long a subscriber waits for a message before it looks
// at its memory (and at its context); pollSuspect, once it has grown by a
// quarter of its bound, since an endless message grows it by megabytes a
// millisecond.
const (
	pollEvery   = 20 * time.Millisecond
	pollSuspect = time.Millisecond
)

// awaits counts the waits for a reply begun and ended in this process (a
// Poster's or a Pipeline's): what memory grows by meanwhile may be a
// reply's, a history of up to 16 MiB, and is the poster's to judge, under
// maxReplyGrowth, not the subscriber's.
var awaits struct{ begun, ended atomic.Int64 }

// awaiting marks a wait for a reply; call the function it returns when the
// wait ends.
func awaiting() (done func()) {
	awaits.begun.Add(1)
	return func() { awaits.ended.Add(1) }
}

// peak follows the process's peak resident memory since the last whole
// message was read.
type peak struct {
	base  int64
	limit int64
	sub   bool  // a subscriber's: growth while a reply is awaited is not counted
	ended int64 // awaits ended when base was taken
}

func newPeak(limit int64, sub bool) *peak {
	return &peak{base: peakRSS(), limit: limit, sub: sub, ended: awaits.ended.Load()}
}

// read notes that whole messages were read: what memory grew by until now
// was theirs.
func (p *peak) read() { p.base = peakRSS() }

// grew reports whether the peak grew by more than its limit since the last
// read (or, for a subscriber, the last wait for a reply), and how long to
// wait before looking again.
func (p *peak) grew() (bool, time.Duration) {
	if ended := awaits.ended.Load(); p.sub && (awaits.begun.Load() != ended || ended != p.ended) {
		p.base, p.ended = peakRSS(), ended
		return false, pollEvery
	}
	switch by := peakRSS() - p.base; {
	case by > p.limit:
		return true, 0
	case by > p.limit/4:
		return false, pollSuspect
	}
	return false, pollEvery
}

// cutOff is the error of a client that hung up on ep, with what it was
// waiting for: "message", "reply".
func (p *peak) cutOff(ep transport.Endpoint, what string) error {
	return fmt.Errorf("%w at %s: the process grew by over %d MiB while no whole %s came (a %s that never ends?)", ErrCutOff, ep, p.limit>>20, what, what)
}

// peakRSS is the process's peak resident memory in bytes, which getrusage
// gives in KiB, or in bytes on macOS.
func peakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
}
