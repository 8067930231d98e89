package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Join shows what a subscription delivers in the server's order, each
// message once, and never loses one silently: the ZeroMQ guide's Clone
// pattern, by the numbers the server gives each message. It follows one
// numbering, a channel's (or, subscribed to everything, the server's):
// a message whose number jumps past the next is held while what came
// between is fetched; a repeat is dropped; after a lost connection it
// fetches what came after the last it showed. What the server no longer
// keeps, and a server that began a new numbering (restarted without its
// store), are said with warn.
//
// Its state belongs to the subscribing goroutine, which calls Live with
// each message and Idle between them (Handlers does both). The fetching is
// Serve's, in a goroutine of its own with a REQ socket of its own: they
// trade asks and answers by channel, one at a time.
type Join struct {
	cfg       JoinConfig
	numbering string        // followed; "" before the first numbered message
	last      uint64        // the number last shown, in the numbering
	waiting   bool          // an ask is out: live messages are held
	held      []msg.Message // meanwhile
	ups       int           // connections made
	idled     time.Time     // when Idle last ran
	asks      chan ask
	answers   chan answer
	post      chan int      // the post port, from the server's welcome
	up        chan struct{} // closed at the first welcome
	upOnce    sync.Once
	ready     chan struct{} // closed once where the Join starts is known
	readyOnce sync.Once
	fromStart bool // the channel was empty on joining: follow from its first
}

// JoinConfig says what a Join shows, and how.
type JoinConfig struct {
	Live    func(msg.Message)   // shows a message
	History func([]msg.Message) // shows the history asked for on joining
	Warn    func(string)        // says what was lost, on stderr
	// Channel is what HISTORY is asked for ("" in parts 1 to 3, ALL for
	// every channel); All says the subscription is to every channel, so
	// the server's numbers are followed rather than a channel's.
	Channel string
	All     bool
	// Recent is how many of the most recent messages to show on joining;
	// 0 shows live messages only, from the first that comes.
	Recent int
	// Mark, with Recent 0, first asks the server for its last message
	// (shown not) and shows everything after it: what is posted once the
	// Join is ready is shown even if the subscription reached the server
	// late (through a relay, whose welcome says only that the relay has
	// it).
	Mark bool
}

// ask is what the subscribing goroutine wants fetched: the recent most
// recent messages (on joining, if recent > 0), or what came after a
// number.
type ask struct {
	recent int
	mark   bool // recent is 1, to learn where the channel stands
	after  msg.Number
}

type answer struct {
	ask ask
	ms  []msg.Message
	err error
}

// asleep is how long between two calls of Idle (at least every 20 ms
// while the process runs) tells that it was stopped.
const asleep = 2 * time.Second

// maxHeld bounds the live messages held while a fetch is out; past it the
// oldest held are let go, to be fetched in turn.
const maxHeld = 10000

// maxRepair bounds what one fetch brings back (a page of at most 1,000
// messages at a time); the held messages then show the next jump, and the
// rest is fetched in turn.
const maxRepair = 100000

// NewJoin returns a Join; with cfg.Recent, live messages are held until
// the history has come.
func NewJoin(cfg JoinConfig) *Join {
	if cfg.Warn == nil {
		cfg.Warn = func(string) {}
	}
	j := &Join{cfg: cfg, asks: make(chan ask, 1), answers: make(chan answer, 1), post: make(chan int, 1),
		up: make(chan struct{}), ready: make(chan struct{})}
	switch {
	case cfg.Recent > 0:
		j.ask(ask{recent: cfg.Recent})
	case cfg.Mark:
		j.ask(ask{recent: 1, mark: true})
	}
	return j
}

// WaitUp waits, at most wait, for the Join to be ready: subscribed (the
// server's welcome, which it sends as it takes the subscription in) and,
// with history or a mark asked for, that answered; so that nothing posted
// from then on is missed.
func (j *Join) WaitUp(ctx context.Context, wait time.Duration) error {
	return waitFor(ctx, j.ready, wait)
}

// waitFor waits, at most wait, for c to be closed.
func waitFor(ctx context.Context, c <-chan struct{}, wait time.Duration) error {
	select {
	case <-c:
		return nil
	case <-time.After(wait):
		return fmt.Errorf("not connected to the server within %s", wait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handlers returns the subscription's handlers that feed j, with report
// (if set) told of connections and malformed of what could not be
// decoded.
func (j *Join) Handlers(report func(up bool), malformed func(error)) Handlers {
	return Handlers{
		Deliver:   j.Live,
		Idle:      j.Idle,
		Malformed: malformed,
		Welcome:   j.welcome,
		Tick:      j.tick,
		Connection: func(up bool) {
			if report != nil {
				report(up)
			}
			if up {
				j.connected()
			}
		},
	}
}

// Live shows a live message in its turn: at once if it is the next,
// held while a fetch is out, dropped if it was shown.
func (j *Join) Live(m msg.Message) {
	if j.Idle(); j.waiting {
		if len(j.held) == maxHeld {
			j.held = j.held[1:] // fetched again after: the server has it
		}
		j.held = append(j.held, m)
		return
	}
	j.next(m, true)
}

// Idle takes an answer to the ask that is out, if it has come: shows it,
// then the live messages held meanwhile.
func (j *Join) Idle() {
	now := time.Now()
	if slept := now.Sub(j.idled); !j.idled.IsZero() && slept > asleep && j.numbering != "" && !j.waiting {
		// The process was stopped (SIGSTOP, a laptop's lid): what came
		// meanwhile may have been dropped at the high-water mark.
		j.fetchAfter()
	}
	j.idled = now
	if !j.waiting {
		return
	}
	var a answer
	select {
	case a = <-j.answers:
	default:
		return
	}
	j.waiting = false
	if a.err != nil && !a.ask.mark {
		j.cfg.Warn(j.failed(a))
	}
	switch {
	case a.ask.mark:
		j.markAt(a.ms, a.err)
	case a.ask.recent > 0:
		j.showHistory(a.ms)
	default:
		for _, m := range a.ms {
			j.next(m, false)
		}
	}
	if a.ask.recent > 0 {
		j.readyOnce.Do(func() { close(j.ready) })
	}
	held := j.held
	j.held = nil
	for i, m := range held {
		// A gap left after a fetch that failed is what could not be had;
		// after one that worked, it is new, and fetched in turn.
		if j.next(m, a.err == nil); j.waiting {
			j.held = append(j.held, held[i+1:]...)
			return
		}
	}
}

// next shows m if it is the next in the numbering followed, drops it if it
// was shown, and otherwise, if mayFetch, holds it and asks for what came
// between; if not, says how many were skipped and shows it.
func (j *Join) next(m msg.Message, mayFetch bool) {
	if m.Number.Numbering == "" { // a server that does not number
		j.cfg.Live(m)
		return
	}
	n := j.number(m)
	if m.Number.Numbering != j.numbering {
		before := n - 1
		if j.fromStart {
			before, j.fromStart = 0, false
		}
		j.renumber(m.Number.Numbering, before)
	}
	switch {
	case n <= j.last:
		return
	case n > j.last+1 && mayFetch:
		j.held = append(j.held, m)
		j.fetchAfter()
		return
	case n > j.last+1:
		j.lost(n - j.last - 1)
	}
	j.last = n
	j.cfg.Live(m)
}

// number is m's number in what the Join follows.
func (j *Join) number(m msg.Message) uint64 {
	if j.cfg.All {
		return m.Number.All
	}
	return m.Number.Seq
}

// renumber follows a numbering met for the first time: from before the
// first message if it is the first ever, or from its start if the server
// began it anew.
func (j *Join) renumber(numbering string, before uint64) {
	if j.numbering != "" {
		j.cfg.Warn("the server began a new numbering (it was restarted without its store): what it had not shown here before is lost")
		before = 0
	}
	j.numbering, j.last = numbering, before
}

// markAt follows the numbering from the last of ms, the channel's last
// message on joining (shown not), or from the channel's first if it had
// none. Without an answer it follows from the first message that comes.
func (j *Join) markAt(ms []msg.Message, err error) {
	switch {
	case err != nil:
	case len(ms) == 0:
		j.fromStart = true
	case ms[len(ms)-1].Number.Numbering != "":
		last := ms[len(ms)-1]
		j.numbering, j.last = last.Number.Numbering, j.number(last)
	}
}

// showHistory shows the history asked for on joining, and follows the
// numbering from its last message.
func (j *Join) showHistory(ms []msg.Message) {
	if len(ms) == 0 {
		return
	}
	if last := ms[len(ms)-1]; last.Number.Numbering != "" {
		j.numbering, j.last = last.Number.Numbering, j.number(last)
	}
	j.cfg.History(ms)
}

// connected fetches, on each connection after the first, what came while
// the connection was down.
func (j *Join) connected() {
	if j.ups++; j.ups > 1 && j.numbering != "" && !j.waiting {
		j.fetchAfter()
	}
}

// welcome takes the server's welcome: the subscription is up; its post
// port, for Serve; and its numbering, which tells a server restarted
// without its store at once (a relay's welcome does not know it).
func (j *Join) welcome(numbering string, postPort int) {
	j.upOnce.Do(func() { close(j.up) })
	if j.cfg.Recent == 0 && !j.cfg.Mark {
		j.readyOnce.Do(func() { close(j.ready) })
	}
	select {
	case j.post <- postPort:
	default:
	}
	if j.numbering != "" && numbering != j.numbering && numbering != msg.UnknownNumbering && !j.waiting {
		j.renumber(numbering, 0)
		j.fetchAfter()
	}
}

// tick takes a channel's last number, which the server repeats while the
// channel was lately active: a number past the last shown means the last
// messages were lost on the way (past the high-water mark).
func (j *Join) tick(n msg.Number) {
	switch {
	case j.waiting:
	case j.numbering == "" && j.fromStart: // joined an empty channel: all of it is new
		j.numbering, j.fromStart = n.Numbering, false
		j.fetchAfter()
	case j.numbering == "":
	case n.Numbering != j.numbering:
		j.renumber(n.Numbering, 0)
		j.fetchAfter()
	case j.number(msg.Message{Number: n}) > j.last:
		j.fetchAfter()
	}
}

// fetchAfter asks for what came after the last message shown.
func (j *Join) fetchAfter() {
	j.ask(ask{after: msg.Number{Numbering: j.numbering, Seq: j.last, All: j.last}})
}

func (j *Join) ask(a ask) {
	j.waiting = true
	j.asks <- a // one at a time: never full
}

// lost says that n messages are skipped: the server no longer keeps them.
func (j *Join) lost(n uint64) {
	j.cfg.Warn(fmt.Sprintf("missed %s of %s that the server no longer keeps", display.Count(int(n), "message", "messages"), j.what()))
}

func (j *Join) failed(a answer) string {
	if a.ask.recent > 0 {
		return "no history shown: " + a.err.Error()
	}
	return "could not fetch what was missed: " + a.err.Error()
}

// what names what the Join follows, for a person.
func (j *Join) what() string {
	if j.cfg.All {
		return "the chat"
	}
	return "channel " + j.cfg.Channel
}

// Serve answers the Join's asks, in the calling goroutine, until ctx is
// done: on a REQ socket of its own to post, or, if post is nil, to the
// post port the server's welcome names on pub's host. It waits for the
// subscription to be up (at most wait for the history asked for on
// joining, which is then given up).
func (j *Join) Serve(ctx context.Context, post *transport.Endpoint, pub transport.Endpoint, opts Options, wait time.Duration) {
	var poster *Poster
	defer func() {
		if poster != nil {
			poster.Close()
		}
	}()
	for {
		var a ask
		select {
		case <-ctx.Done():
			return
		case a = <-j.asks:
		}
		if err := waitFor(ctx, j.up, wait); err != nil && ctx.Err() == nil {
			j.answers <- answer{ask: a, err: err}
			continue
		}
		var err error
		if poster == nil {
			if poster, err = j.dial(ctx, post, pub, opts); err != nil {
				j.answers <- answer{ask: a, err: err}
				continue
			}
		}
		j.answers <- j.fetch(ctx, poster, a)
	}
}

// dial makes Serve's poster, to post or to the port of the welcome.
func (j *Join) dial(ctx context.Context, post *transport.Endpoint, pub transport.Endpoint, opts Options) (*Poster, error) {
	if post == nil {
		select {
		case port := <-j.post:
			ep := pub.WithPort(port)
			post = &ep
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return NewPoster(*post, opts)
}

func (j *Join) fetch(ctx context.Context, poster *Poster, a ask) answer {
	var ms []msg.Message
	var err error
	if a.recent > 0 {
		ms, err = poster.History(ctx, j.cfg.Channel, a.recent)
	} else {
		ms, err = poster.After(ctx, j.cfg.Channel, a.after, maxRepair)
	}
	return answer{ask: a, ms: ms, err: err}
}
