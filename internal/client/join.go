package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// Join shows a channel's history and its live messages merged, each
// message once, in the server's order: the ZeroMQ guide's Clone pattern.
// The client subscribes first; once the subscription is up (Subscribed),
// it fetches the history and hands it to History. Live messages that
// arrive before the history is shown are held, and those the history
// already has are dropped. A client that asks for no history still waits
// for Up before it posts, so it sees its own first lines. It is safe for
// use by the subscribing and the fetching goroutines at once.
type Join struct {
	mu      sync.Mutex
	live    func(msg.Message)
	history func([]msg.Message)
	waiting bool             // history awaited: live messages are held
	held    []msg.Message    // meanwhile
	shown   map[identity]int // history messages a live one may repeat
	up      chan struct{}
	upOnce  sync.Once
	// The client's own posts on their way back through the subscription.
	expected map[identity]int
	echo     chan struct{} // a send for each that came back
}

// identity is what makes two messages the same message.
type identity struct {
	channel, username, body string
	sec                     int64
	nsec                    int
}

func identityOf(m msg.Message) identity {
	return identity{m.Channel, m.Username, m.Body, m.Time.Unix(), m.Time.Nanosecond()}
}

// maxHeld bounds the live messages held while the history is awaited;
// past it the oldest held are shown at once, history or not.
const maxHeld = 10000

// maxExpected bounds the client's own posts awaited back at once.
const maxExpected = 100000

// NewJoin returns a Join that shows live messages with live and the
// history with history. If wantHistory, live messages are held until
// History is called.
func NewJoin(live func(msg.Message), history func([]msg.Message), wantHistory bool) *Join {
	return &Join{live: live, history: history, waiting: wantHistory, up: make(chan struct{}),
		expected: make(map[identity]int), echo: make(chan struct{}, 1)}
}

// Expect notes a message the client is about to post, which is to come
// back through the subscription; Unexpect takes the note back if the post
// failed. (Noted before posting: the publication may arrive before the
// reply does.)
func (j *Join) Expect(m msg.Message) { j.expect(m, 1) }

// Unexpect takes back an Expect.
func (j *Join) Unexpect(m msg.Message) { j.expect(m, -1) }

func (j *Join) expect(m msg.Message, by int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if by > 0 && len(j.expected) >= maxExpected {
		return // echoes are not coming (the subscription is down): stop keeping count
	}
	id := identityOf(m)
	if j.expected[id] += by; j.expected[id] <= 0 {
		delete(j.expected, id)
	}
}

// AwaitEchoes waits, at most d, until every expected message has come
// back: a client whose input ended shows its own last lines before it
// leaves.
func (j *Join) AwaitEchoes(ctx context.Context, d time.Duration) {
	deadline := time.After(d)
	for {
		j.mu.Lock()
		n := len(j.expected)
		j.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-j.echo:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}

// Subscribed says the subscription is up; call it on the first connection
// (later ones change nothing).
func (j *Join) Subscribed() { j.upOnce.Do(func() { close(j.up) }) }

// Up is closed once the subscription is up.
func (j *Join) Up() <-chan struct{} { return j.up }

// Live shows a live message, or holds it while the history is awaited, or
// drops it if the history showed it.
func (j *Join) Live(m msg.Message) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if id := identityOf(m); j.expected[id] > 0 {
		if j.expected[id]--; j.expected[id] == 0 {
			delete(j.expected, id)
		}
		select {
		case j.echo <- struct{}{}:
		default:
		}
	}
	if j.waiting {
		if len(j.held) == maxHeld {
			j.live(j.held[0])
			j.held = j.held[1:]
		}
		j.held = append(j.held, m)
		return
	}
	if j.repeats(m) {
		return
	}
	j.live(m)
}

// repeats reports whether the history showed m (each shown message is
// matched once).
func (j *Join) repeats(m msg.Message) bool {
	id := identityOf(m)
	n, ok := j.shown[id]
	switch {
	case !ok:
		return false
	case n == 1:
		delete(j.shown, id)
	default:
		j.shown[id] = n - 1
	}
	return true
}

// History shows the history, oldest first (nil if it could not be had),
// then the live messages held meanwhile that it does not have; from then
// on live messages are shown as they come. Only the first call counts.
func (j *Join) History(ms []msg.Message) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.waiting {
		return
	}
	j.waiting = false
	if len(ms) > 0 {
		j.shown = make(map[identity]int, len(ms))
		for _, m := range ms {
			j.shown[identityOf(m)]++
		}
		j.history(ms)
	}
	held := j.held
	j.held = nil
	for _, m := range held {
		if !j.repeats(m) {
			j.live(m)
		}
	}
}

// Fetch waits (at most wait) for the subscription to be up, so that
// nothing the client posts from then on is missed by it, then, if n > 0,
// fetches the n most recent messages of channel with poster and shows
// them (see History). Live messages flow however it ends; the error says
// why no history was shown.
func (j *Join) Fetch(ctx context.Context, poster *Poster, channel string, n int, wait time.Duration) error {
	fetches.begun.Add(1)
	defer fetches.ended.Add(1)
	defer j.History(nil)
	select {
	case <-j.Up():
	case <-time.After(wait):
		if n == 0 {
			return nil
		}
		return fmt.Errorf("not connected to the server within %s", wait)
	case <-ctx.Done():
		return ctx.Err()
	}
	if n == 0 {
		return nil
	}
	ms, err := poster.History(ctx, channel, n)
	if err != nil {
		return err
	}
	j.History(ms)
	return nil
}

// Handlers returns the subscription's handlers that feed j: each
// publication goes through Live, and a connection made marks the
// subscription up, after report (if set) is told.
func (j *Join) Handlers(report func(up bool), malformed func(error)) Handlers {
	return Handlers{
		Deliver:   j.Live,
		Malformed: malformed,
		Connection: func(up bool) {
			if report != nil {
				report(up)
			}
			if up {
				j.Subscribed()
			}
		},
	}
}
