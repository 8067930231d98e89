// Package client holds the two client sockets of zmqchat: a Poster that
// sends posts and waits for their replies (the ZeroMQ guide's Lazy Pirate),
// and a Subscriber that receives publications.
package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Defaults for a Poster.
const (
	DefaultTimeout = 2500 * time.Millisecond
	DefaultRetries = 1
)

// pollSlice bounds each wait for a reply, so that a cancelled context is
// noticed promptly.
const pollSlice = 100 * time.Millisecond

// ErrNoReply is returned (wrapped) when the server did not answer a post.
var ErrNoReply = errors.New("no reply")

// Poster posts messages to a server's post endpoint. It owns a REQ socket
// and is used by one goroutine at a time.
type Poster struct {
	ep      transport.Endpoint
	timeout time.Duration
	retries int
	sock    *zmq.Socket
	mon     *zmq.Socket // the events of sock's failed handshakes
	dealer  bool        // sock is a DEALER (a Pipeline's), not a REQ
}

// NewPoster returns a Poster for ep that waits o.Timeout for each reply and
// resends a post up to o.Retries times before giving up on it.
func NewPoster(ep transport.Endpoint, o Options) (*Poster, error) {
	p := &Poster{ep: ep, timeout: o.Timeout, retries: o.Retries}
	if err := p.dial(); err != nil {
		return nil, err
	}
	return p, nil
}

// dial makes the Poster's REQ socket, with a monitor of its handshake, so
// that a refused handshake is told at once, not after a timeout.
func (p *Poster) dial() error {
	dial := transport.DialRequest
	if p.dealer {
		dial = transport.DialDealer
	}
	sock, err := dial(p.ep, func(s *zmq.Socket) (err error) {
		p.mon, err = transport.Monitor(s, handshakeFailed)
		return err
	})
	if err != nil {
		p.closeMonitor()
		return err
	}
	p.sock = sock
	return nil
}

// Post sends m and blocks until the server answers, every attempt has timed
// out, or ctx is done. It returns nil on OK, a *msg.Error with the server's
// reason on ERR, and an error wrapping ErrNoReply when no reply came.
// Resending is safe: the server stores a post identical to a recent one
// only once.
func (p *Poster) Post(ctx context.Context, m msg.Message) error {
	reply, err := p.request(ctx, msg.EncodePost(m))
	if err != nil {
		return err
	}
	return msg.DecodeReply(reply)
}

// History asks the server for the n most recent messages of channel ("" in
// parts 1 to 3, ALL for every channel), oldest first. Errors are as Post's.
//
// A reply stops at msg.HistoryBytes (MORE), so History asks again for the
// older rest, leaving out what it has. Messages posted meanwhile shift
// what the server counts from, so a page may repeat the newest of the
// next older one: those are dropped.
func (p *Poster) History(ctx context.Context, channel string, n int) ([]msg.Message, error) {
	defer awaiting()() // decoding it grows memory too
	var got []msg.Message
	for more := true; more && len(got) < n; {
		reply, err := p.request(ctx, msg.EncodeHistory(msg.History{Channel: channel, Count: n - len(got), Skip: len(got)}))
		if err != nil {
			return nil, err
		}
		var page []msg.Message
		if page, more, err = msg.DecodeHistoryReply(reply); err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break // nothing fits: a server that cannot page
		}
		got = append(withoutRepeats(page, got), got...)
	}
	return got, nil
}

// Channels asks the server for its channels (CHANNELS). Errors are as
// Post's.
func (p *Poster) Channels(ctx context.Context) ([]msg.Channel, error) {
	reply, err := p.request(ctx, msg.EncodeChannels())
	if err != nil {
		return nil, err
	}
	cs, _, err := msg.DecodeChannelsReply(reply)
	return cs, err
}

// Here tells the server that h's session is present (HERE), and returns
// how many other sessions it has under the same name. Errors are as
// Post's.
func (p *Poster) Here(ctx context.Context, h msg.Here) (others int, err error) {
	reply, err := p.request(ctx, msg.EncodeHere(h))
	if err != nil {
		return 0, err
	}
	return msg.DecodeHereReply(reply)
}

// Leave tells the server that session is gone (LEAVE). Errors are as
// Post's.
func (p *Poster) Leave(ctx context.Context, session string) error {
	reply, err := p.request(ctx, msg.EncodeLeave(session))
	if err != nil {
		return err
	}
	return msg.DecodeReply(reply)
}

// Who asks the server who is on channel (WHO; ALL for every channel).
// Errors are as Post's.
func (p *Poster) Who(ctx context.Context, channel string) ([]msg.Present, error) {
	reply, err := p.request(ctx, msg.EncodeWho(channel))
	if err != nil {
		return nil, err
	}
	ps, _, err := msg.DecodeWhoReply(reply)
	return ps, err
}

// After asks the server for the messages of channel numbered after n
// (by n.All for every channel), oldest first, a page at a time, up to
// limit. Errors are as Post's.
func (p *Poster) After(ctx context.Context, channel string, n msg.Number, limit int) ([]msg.Message, error) {
	defer awaiting()()
	var got []msg.Message
	for more := true; more && len(got) < limit; {
		reply, err := p.request(ctx, msg.EncodeHistory(msg.History{Channel: channel, Count: min(msg.MaxHistory, limit-len(got)), After: &n}))
		if err != nil {
			return got, err
		}
		var page []msg.Message
		if page, more, err = msg.DecodeHistoryReply(reply); err != nil {
			return got, err
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		n = page[len(page)-1].Number
	}
	return got, nil
}

// withoutRepeats returns older without the messages that are also the
// first of newer.
func withoutRepeats(older, newer []msg.Message) []msg.Message {
	for len(older) > 0 && len(newer) > 0 && slices.Contains(newer, older[len(older)-1]) {
		older = older[:len(older)-1]
	}
	return older
}

// request sends frames and returns the reply, resending on a new socket
// after each timeout, up to the retries.
func (p *Poster) request(ctx context.Context, frames [][]byte) ([][]byte, error) {
	for attempt := 0; attempt <= p.retries; attempt++ {
		if p.sock == nil {
			// The last attempt timed out: a REQ socket that missed its reply
			// cannot send again, so it was closed and a new one is needed.
			if err := p.dial(); err != nil {
				return nil, err
			}
		}
		err := p.send(ctx, frames)
		var reply [][]byte
		if err == nil {
			reply, err = p.await(ctx)
		}
		if err != nil {
			p.reset()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, ErrNoReply) {
				continue
			}
			return nil, err
		}
		return reply, nil
	}
	tries := ""
	if p.retries > 0 {
		tries = fmt.Sprintf(" (%d attempts)", p.retries+1)
	}
	return nil, fmt.Errorf("%w from %s within %s%s: is the server running?", ErrNoReply, p.ep, p.timeout, tries)
}

// send sends frames once the socket can take them. A socket with no
// connection to send on (its handshake refused, or every endpoint down
// under ZMQ_IMMEDIATE) never can, and a plain send would wait for ever: this
// one waits as long as a reply would, and stops when ctx is done or the
// handshake is refused. A request not taken in time is ErrNoReply.
func (p *Poster) send(ctx context.Context, frames [][]byte) error {
	poller := zmq.NewPoller()
	poller.Add(p.sock, zmq.POLLOUT)
	poller.Add(p.mon, zmq.POLLIN)
	deadline := time.Now().Add(p.timeout)
	for {
		_, err := p.sock.SendMessageDontwait(frames)
		if zmq.AsErrno(err) != zmq.Errno(syscall.EAGAIN) {
			if err != nil {
				err = fmt.Errorf("send request to %s: %w", p.ep, err)
			}
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ErrNoReply
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		polled, err := poller.Poll(min(max(left, time.Millisecond), pollSlice))
		if err != nil {
			return fmt.Errorf("poll %s: %w", p.ep, err)
		}
		for _, pl := range polled {
			if pl.Socket == p.mon {
				if err := handshakeEvent(p.mon, p.ep); err != nil {
					return err
				}
			}
		}
	}
}

func (p *Poster) await(ctx context.Context) ([][]byte, error) {
	poller := zmq.NewPoller()
	poller.Add(p.sock, zmq.POLLIN)
	poller.Add(p.mon, zmq.POLLIN)
	deadline := time.Now().Add(p.timeout)
	defer awaiting()()
	peak, every := newPeak(maxReplyGrowth, false), pollSlice
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, ErrNoReply
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// zmq_poll counts whole milliseconds: less than one would spin.
		polled, err := poller.Poll(min(max(left, time.Millisecond), every))
		if err != nil {
			return nil, fmt.Errorf("poll %s: %w", p.ep, err)
		}
		var grew bool
		if grew, every = peak.grew(); grew && len(polled) == 0 {
			return nil, peak.cutOff(p.ep, "reply") // the caller closes the socket
		}
		every = min(every, pollSlice)
		for _, pl := range polled {
			if pl.Socket == p.mon {
				if err := handshakeEvent(p.mon, p.ep); err != nil {
					return nil, err
				}
				continue
			}
			reply, err := p.sock.RecvMessageBytes(0)
			if err != nil {
				return nil, fmt.Errorf("receive reply from %s: %w", p.ep, err)
			}
			return reply, nil
		}
	}
}

func (p *Poster) reset() {
	if p.sock != nil {
		p.sock.Monitor("", 0) // stop sending events before the receiver goes
		p.sock.Close()
		p.sock = nil
	}
	p.closeMonitor()
}

func (p *Poster) closeMonitor() {
	if p.mon != nil {
		p.mon.Close()
		p.mon = nil
	}
}

// Close closes the Poster's socket. It may be called more than once.
func (p *Poster) Close() { p.reset() }
