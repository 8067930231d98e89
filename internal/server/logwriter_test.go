package server

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines collects what a logWriter writes; it can be made to block.
type lines struct {
	mu      sync.Mutex
	text    strings.Builder
	blocked chan struct{} // while open, Write waits
	wrote   chan struct{} // if set, closed at the first write
	once    sync.Once
}

func (l *lines) Write(p []byte) (int, error) {
	if l.blocked != nil {
		<-l.blocked
	}
	if l.wrote != nil {
		l.once.Do(func() { close(l.wrote) })
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

func TestLogWriterWritesInOrderAndSaysNothing(t *testing.T) {
	out := &lines{}
	var said []string
	l := newLogWriter(out, func(s string) { said = append(said, s) })
	for i := 0; i < 3; i++ {
		l.Line([]byte(fmt.Sprint("line ", i)))
		l.Flush()
	}
	l.Close(time.Second)
	if out.String() != "line 0\nline 1\nline 2\n" || said != nil {
		t.Errorf("wrote %q, said %q", out.String(), said)
	}
}

// A buffer that fills is handed over without waiting for Flush.
func TestLogWriterHandsOverAFullBuffer(t *testing.T) {
	out := &lines{wrote: make(chan struct{})}
	l := newLogWriter(out, func(string) {})
	line := []byte(strings.Repeat("x", 1000))
	for i := 0; i < logBuffer/len(line)+1; i++ {
		l.Line(line)
	}
	select {
	case <-out.wrote:
	case <-time.After(5 * time.Second):
		t.Error("a full buffer was not written without a Flush")
	}
	l.Close(time.Second)
}

// With stdout stuck, lines are dropped, never waited for: Flush and Close
// return, and the dropping is said once, with the total at Close.
func TestLogWriterDropsWhenStuck(t *testing.T) {
	out := &lines{blocked: make(chan struct{})}
	defer close(out.blocked)
	var mu sync.Mutex
	var said []string
	l := newLogWriter(out, func(s string) { mu.Lock(); said = append(said, s); mu.Unlock() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			l.Line([]byte("a line nobody reads"))
			l.Flush()
		}
		l.Close(50 * time.Millisecond)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the log writer waited for a stuck stdout")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(said) != 2 || !strings.Contains(said[0], "stdout is not keeping up") || !strings.Contains(said[1], "log lines dropped in all") {
		t.Errorf("said %q", said)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// A write that fails costs that line and all after it, said once.
func TestLogWriterAfterAFailedWrite(t *testing.T) {
	var said []string
	l := newLogWriter(failing{}, func(s string) { said = append(said, s) })
	for i := 0; i < 3; i++ {
		l.Line([]byte("x"))
		l.Flush()
	}
	l.Close(time.Second)
	if len(said) != 2 || !strings.Contains(said[0], "writing the log failed (no space left on device)") || said[1] != "3 log lines dropped in all" {
		t.Errorf("said %q", said)
	}
	var one []string
	l = newLogWriter(failing{}, func(s string) { one = append(one, s) })
	l.Line([]byte("x"))
	l.Close(time.Second)
	if len(one) != 2 || one[1] != "1 log line dropped in all" {
		t.Errorf("said %q", one)
	}

}
