package server

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zmqchat/zmqchat/internal/display"
)

// logWriter writes the server's log from a goroutine of its own, so that a
// slow, stuck, closed or full stdout (a paused pager, a log shipper that
// stopped reading, `| head -1`, a full disk) costs log lines, never
// replies. The server loop collects lines in a buffer and hands it over
// whole; when the writer is still busy with logQueue buffers, the new one
// is dropped and its lines counted, and a failed write drops every line
// after it. Either is said once on stderr, and the total at Close.
type logWriter struct {
	w       io.Writer
	buf     []byte // lines not yet handed over; the server loop's own
	queue   chan []byte
	dropped atomic.Int64
	failed  error // set by the writing goroutine only
	warn    func(string)
	once    sync.Once
	done    chan struct{}
}

// logQueue is how many buffers of lines may wait for stdout: with the
// server's 64 KiB buffers, 256 KiB of log.
const logQueue = 4

// logBuffer is the size past which the loop hands its lines over without
// waiting for the flush interval.
const logBuffer = 64 << 10

func newLogWriter(w io.Writer, warn func(string)) *logWriter {
	l := &logWriter{w: w, queue: make(chan []byte, logQueue), warn: warn, done: make(chan struct{})}
	go l.write()
	return l
}

// Line adds a line (without its newline) to the buffer.
func (l *logWriter) Line(line []byte) {
	l.buf = append(append(l.buf, line...), '\n')
	if len(l.buf) >= logBuffer {
		l.Flush()
	}
}

// Flush hands the buffered lines to the writing goroutine, or drops them
// if it has logQueue buffers waiting already. It never blocks.
func (l *logWriter) Flush() {
	if len(l.buf) == 0 {
		return
	}
	select {
	case l.queue <- l.buf:
		l.buf = make([]byte, 0, logBuffer)
	default:
		l.drop(l.buf, "stdout is not keeping up")
		l.buf = l.buf[:0]
	}
}

func (l *logWriter) drop(b []byte, why string) {
	l.dropped.Add(int64(bytes.Count(b, []byte{'\n'})))
	l.once.Do(func() {
		l.warn(fmt.Sprintf("%s: log lines are being dropped (posts are still answered and stored)", why))
	})
}

// write is the goroutine that owns w.
func (l *logWriter) write() {
	defer close(l.done)
	for b := range l.queue {
		switch {
		case l.failed != nil:
			l.drop(b, "")
		default:
			if _, l.failed = l.w.Write(b); l.failed != nil {
				l.drop(b, fmt.Sprintf("writing the log failed (%v)", l.failed))
			}
		}
	}
}

// Close hands over the last lines and waits, at most wait, for them to be
// written: a stuck stdout must not hold up the server's exit. It reports
// how many lines were dropped in all, if any.
func (l *logWriter) Close(wait time.Duration) {
	l.Flush()
	close(l.queue)
	select {
	case <-l.done:
	case <-time.After(wait):
		l.dropped.Add(int64(len(l.queue))) // at least; the one in hand is not counted
	}
	if n := l.dropped.Load(); n > 0 {
		l.warn(display.Count(n, "log line", "log lines") + " dropped in all")
	}
}
