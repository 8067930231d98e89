package chat

import (
	"context"
	"sync"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// echoes counts the client's own posts on their way back through its
// subscription: what it shows as its own, and what it waits for at the end
// of its input, so that a person sees their last lines. The poster notes a
// post before sending it (the publication may come before the reply),
// and takes the note back if the post failed.
type echoes struct {
	mu       sync.Mutex
	expected map[msg.Key]int
	back     chan struct{} // a send for each that came back
}

// maxExpected bounds the posts awaited back at once: with the
// subscription down none comes back, and the count stops growing.
const maxExpected = 100000

func newEchoes() *echoes {
	return &echoes{expected: make(map[msg.Key]int), back: make(chan struct{}, 1)}
}

// expect notes m, about to be posted.
func (e *echoes) expect(m msg.Message) { e.add(m.Key(), 1) }

// forget takes back an expect, for a post that failed.
func (e *echoes) forget(m msg.Message) { e.add(m.Key(), -1) }

func (e *echoes) add(k msg.Key, by int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if by > 0 && len(e.expected) >= maxExpected {
		return
	}
	if e.expected[k] += by; e.expected[k] <= 0 {
		delete(e.expected, k)
	}
}

// take reports whether m, received, is one of the client's own posts,
// and counts it as back.
func (e *echoes) take(m msg.Message) bool {
	k := m.Key()
	e.mu.Lock()
	n := e.expected[k]
	if n == 1 {
		delete(e.expected, k)
	} else if n > 1 {
		e.expected[k] = n - 1
	}
	e.mu.Unlock()
	if n > 0 {
		select {
		case e.back <- struct{}{}:
		default:
		}
	}
	return n > 0
}

// await waits, at most d, until every expected post has come back.
func (e *echoes) await(ctx context.Context, d time.Duration) {
	deadline := time.After(d)
	for {
		e.mu.Lock()
		n := len(e.expected)
		e.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-e.back:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}
