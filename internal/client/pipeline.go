package client

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// DefaultWindow is how many posts a Pipeline keeps in flight.
const DefaultWindow = 64

// Pipeline posts with up to a window of posts in flight, for scripts that
// post many lines: one DEALER socket speaking the REQ wire format, so a
// post does not wait for the reply to the one before. The server answers
// a connection's requests in order, so each reply is the oldest post's.
// When the oldest waits past the timeout, every post in flight is resent
// on a new socket, up to the retries: safe, because the server recognizes
// a resent post and stores it once. It is used by one goroutine.
type Pipeline struct {
	conn    Poster
	window  int
	flights []flight // oldest first
	peak    *peak    // since the last reply
}

type flight struct {
	m        msg.Message
	frames   [][]byte // the empty delimiter, then the POST
	deadline time.Time
	tries    int
}

// Result is how one post ended: Err is nil (OK), a *msg.Error with the
// server's reason, or an error wrapping ErrNoReply or ErrRefused.
type Result struct {
	M   msg.Message
	Err error
}

// NewPipeline returns a Pipeline to ep with o's timeout and retries and up
// to window posts in flight.
func NewPipeline(ep transport.Endpoint, o Options, window int) (*Pipeline, error) {
	p := &Pipeline{conn: Poster{ep: ep, timeout: o.Timeout, retries: o.Retries, dealer: true}, window: max(window, 1)}
	if err := p.conn.dial(); err != nil {
		return nil, err
	}
	return p, nil
}

// InFlight is how many posts await their reply; Full, whether the window
// is full.
func (p *Pipeline) InFlight() int { return len(p.flights) }
func (p *Pipeline) Full() bool    { return len(p.flights) >= p.window }

// Send sends m without waiting for its reply, which a later Poll hands
// over. The window must not be full.
func (p *Pipeline) Send(m msg.Message) error {
	f := flight{m: m, frames: append([][]byte{nil}, msg.EncodePost(m)...)}
	if err := p.send(&f); err != nil {
		return err
	}
	p.flights = append(p.flights, f)
	return nil
}

func (p *Pipeline) send(f *flight) error {
	if p.conn.sock == nil {
		if err := p.conn.dial(); err != nil {
			return err
		}
	}
	if err := p.conn.send(context.Background(), f.frames); err != nil {
		p.conn.reset()
		if errors.Is(err, ErrNoReply) {
			return fmt.Errorf("%w: no connection to %s took the post within %s", ErrNoReply, p.conn.ep, p.conn.timeout)
		}
		return err
	}
	f.deadline = time.Now().Add(p.conn.timeout)
	return nil
}

// Poll waits up to wait for replies and hands each post that ended to
// done, in the order sent: answered, refused, or out of retries. It
// resends what timed out.
func (p *Pipeline) Poll(wait time.Duration, done func(Result)) error {
	if len(p.flights) == 0 {
		return nil
	}
	poller := zmq.NewPoller()
	poller.Add(p.conn.sock, zmq.POLLIN)
	poller.Add(p.conn.mon, zmq.POLLIN)
	defer awaiting()()
	if p.peak == nil {
		p.peak = newPeak(maxReplyGrowth, false)
	}
	grew, every := p.peak.grew()
	// zmq_poll counts whole milliseconds: less than one would spin.
	polled, err := poller.Poll(max(min(wait, every, time.Until(p.flights[0].deadline)), time.Millisecond))
	if err != nil {
		return fmt.Errorf("poll %s: %w", p.conn.ep, err)
	}
	if grew && len(polled) == 0 {
		p.failAll(p.peak.cutOff(p.conn.ep, "reply"), done)
		p.peak = nil
		return nil
	}
	for _, pl := range polled {
		if pl.Socket == p.conn.mon {
			if err := handshakeEvent(p.conn.mon, p.conn.ep); err != nil {
				p.failAll(err, done)
			}
			return nil
		}
		if err := p.replies(done); err != nil {
			return err
		}
	}
	if len(p.flights) > 0 && time.Now().After(p.flights[0].deadline) {
		p.resend(done)
	}
	return nil
}

// replies hands over every reply waiting.
func (p *Pipeline) replies(done func(Result)) error {
	for len(p.flights) > 0 {
		reply, err := p.conn.sock.RecvMessageBytes(zmq.DONTWAIT)
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) {
				return nil
			}
			return fmt.Errorf("receive reply from %s: %w", p.conn.ep, err)
		}
		if len(reply) == 0 || len(reply[0]) != 0 {
			continue // not a reply to a REQ-style request: no delimiter
		}
		f := p.flights[0]
		p.flights = p.flights[1:]
		p.peak.read()
		done(Result{f.m, msg.DecodeReply(reply[1:])})
	}
	return nil
}

// resend, after the oldest post timed out: on a new socket (the old one
// may hold replies that will never come), every post in flight is sent
// again, in order, but those out of retries, which end with ErrNoReply.
func (p *Pipeline) resend(done func(Result)) {
	p.conn.reset()
	kept := p.flights[:0]
	for _, f := range p.flights {
		f.tries++
		if f.tries > p.conn.retries {
			tries := ""
			if p.conn.retries > 0 {
				tries = fmt.Sprintf(" (%d attempts)", p.conn.retries+1)
			}
			done(Result{f.m, fmt.Errorf("%w from %s within %s%s: is the server running?", ErrNoReply, p.conn.ep, p.conn.timeout, tries)})
			continue
		}
		if err := p.send(&f); err != nil {
			done(Result{f.m, err})
			continue
		}
		kept = append(kept, f)
	}
	p.flights = kept
}

// failAll ends every post in flight with err, and starts on a new socket.
func (p *Pipeline) failAll(err error, done func(Result)) {
	p.conn.reset()
	for _, f := range p.flights {
		done(Result{f.m, err})
	}
	p.flights = p.flights[:0]
}

// Close closes the Pipeline's socket; what is in flight is abandoned.
func (p *Pipeline) Close() { p.conn.reset() }
