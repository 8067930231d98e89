package client

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// A rogue publisher can start a message and never end it: libzmq keeps
// every frame of a message until its last one comes (about 64 bytes for
// an empty frame of 2), and ZMQ_MAXMSGSIZE bounds only each frame. No
// libzmq option bounds that, so a subscriber watches its own peak memory
// (getrusage, on every Unix) while nothing whole arrives, and hangs up on
// a server that makes it grow by maxGrowth. A zmqchat server's largest
// message is 16 KiB and a little, and libzmq queues at most the socket's
// high-water mark of them, each read as soon as it is whole.
const maxGrowth = 16 << 20

// pollEvery is how long a subscriber waits for a message before it looks
// at its memory (and at its context); pollSuspect, once it has grown by a
// quarter of maxGrowth, since an endless message grows it by megabytes a
// millisecond.
const (
	pollEvery   = 20 * time.Millisecond
	pollSuspect = time.Millisecond
)

// fetches counts the history fetches begun and ended in this process
// (see Join.Fetch): what memory grows by while one is under way is the
// history's, up to 16 MiB of text, received, decoded and shown.
var fetches struct{ begun, ended atomic.Int64 }

// peak follows the process's peak resident memory since the last whole
// message was read.
type peak struct{ base, ended int64 }

func newPeak() *peak { return &peak{base: peakRSS()} }

// read notes that whole messages were read: what memory grew by until now
// was theirs.
func (p *peak) read() { p.base = peakRSS() }

// grew reports whether the peak grew by more than maxGrowth since the last
// read or history fetch, and how long to wait before looking again.
func (p *peak) grew() (bool, time.Duration) {
	if ended := fetches.ended.Load(); fetches.begun.Load() != ended || ended != p.ended {
		p.base, p.ended = peakRSS(), ended
		return false, pollEvery
	}
	switch by := peakRSS() - p.base; {
	case by > maxGrowth:
		return true, 0
	case by > maxGrowth/4:
		return false, pollSuspect
	}
	return false, pollEvery
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
