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
// it fetches the history (Fetch) and hands it over (History). Live
// messages that arrive before the history is shown are held, and those the
// history already has are dropped.
//
// Its state belongs to the subscribing goroutine, which calls Live with
// each message and Idle between them (Handlers does both): History only
// hands the history over, so the merge needs no lock and the show
// functions run in that one goroutine, in order.
type Join struct {
	live    func(msg.Message)
	history func([]msg.Message)
	waiting bool               // history awaited: live messages are held
	held    []msg.Message      // meanwhile
	shown   map[msg.Key]int    // history messages a live one may repeat
	fetched chan []msg.Message // from the fetching goroutine
	up      chan struct{}
	upOnce  sync.Once
}

// maxHeld bounds the live messages held while the history is awaited;
// past it the oldest held are shown at once, history or not.
const maxHeld = 10000

// NewJoin returns a Join that shows live messages with live and the
// history with history. If wantHistory, live messages are held until the
// history has come.
func NewJoin(live func(msg.Message), history func([]msg.Message), wantHistory bool) *Join {
	return &Join{live: live, history: history, waiting: wantHistory, up: make(chan struct{}),
		fetched: make(chan []msg.Message, 1)}
}

// Subscribed says the subscription is up; call it on the first connection
// (later ones change nothing).
func (j *Join) Subscribed() { j.upOnce.Do(func() { close(j.up) }) }

// Up is closed once the subscription is up.
func (j *Join) Up() <-chan struct{} { return j.up }

// History hands over the history, oldest first (nil if it could not be
// had), from any goroutine; the subscribing goroutine shows it at its next
// Live or Idle. Only the first call counts.
func (j *Join) History(ms []msg.Message) {
	select {
	case j.fetched <- ms:
	default: // one is there already
	}
}

// Idle shows the history if it has come, then the live messages held
// meanwhile that it does not have; from then on live messages are shown as
// they come.
func (j *Join) Idle() {
	if !j.waiting {
		return
	}
	var ms []msg.Message
	select {
	case ms = <-j.fetched:
	default:
		return
	}
	j.waiting = false
	if len(ms) > 0 {
		j.shown = make(map[msg.Key]int, len(ms))
		for _, m := range ms {
			j.shown[m.Key()]++
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

// Live shows a live message, or holds it while the history is awaited, or
// drops it if the history showed it.
func (j *Join) Live(m msg.Message) {
	if j.Idle(); j.waiting {
		if len(j.held) == maxHeld {
			j.live(j.held[0])
			j.held = j.held[1:]
		}
		j.held = append(j.held, m)
		return
	}
	if !j.repeats(m) {
		j.live(m)
	}
}

// repeats reports whether the history showed m (each shown message is
// matched once).
func (j *Join) repeats(m msg.Message) bool {
	k := m.Key()
	n, ok := j.shown[k]
	switch {
	case !ok:
		return false
	case n == 1:
		delete(j.shown, k)
	default:
		j.shown[k] = n - 1
	}
	return true
}

// Fetch waits (at most wait) for the subscription to be up, so that
// nothing the client posts from then on is missed by it, then, if n > 0,
// fetches the n most recent messages of channel with poster and hands them
// over (see History). Live messages flow however it ends; the error says
// why no history was shown.
func (j *Join) Fetch(ctx context.Context, poster *Poster, channel string, n int, wait time.Duration) error {
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
// publication goes through Live, Idle runs between them, and a connection
// made marks the subscription up, after report (if set) is told.
func (j *Join) Handlers(report func(up bool), malformed func(error)) Handlers {
	return Handlers{
		Deliver:   j.Live,
		Idle:      j.Idle,
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
