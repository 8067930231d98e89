package client

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Subscription says which publications a Subscriber delivers.
type Subscription struct {
	// Channel is the one channel delivered, compared exactly ("" for the
	// single-room servers of parts 1 to 3).
	Channel string
	// All delivers every channel, whatever Channel says.
	All bool
}

// Handlers receive what a subscription brings. Only Deliver is required.
// They are called from the subscribing goroutine, one at a time.
type Handlers struct {
	// Deliver gets each matching publication.
	Deliver func(msg.Message)
	// Malformed gets an error for each publication that could not be decoded.
	Malformed func(error)
	// Connection is told when the connection to the server comes up and
	// when it is lost (libzmq then reconnects by itself).
	Connection func(up bool)
	// Idle, if set, is called after each wait for messages, whether any
	// came or not (at least every 20 ms).
	Idle func()
	// Welcome, if set, gets the server's welcome on each connection: its
	// numbering, and its post port.
	Welcome func(numbering string, postPort int)
	// Tick, if set, gets the last number of a channel delivered, which the
	// server repeats while the channel was lately active (msg.Tick).
	Tick func(msg.Number)
	// Notice, if set, gets each notice of someone joining or leaving a
	// channel delivered (msg.Notice); otherwise they are skipped.
	Notice func(msg.Notice)
}

// Subscribe connects to a server's publish endpoint and hands what arrives
// to h until ctx is done or a socket fails. Its sockets are made, used and
// closed in the calling goroutine. A server that goes away is reconnected
// to by libzmq, and heartbeats make a silently dead connection noticed.
func Subscribe(ctx context.Context, ep transport.Endpoint, sub Subscription, h Handlers) error {
	topic := sub.Channel
	if sub.All {
		topic = ""
	}
	sock, mon, err := dialSubscriber(ep, topic, h.Connection != nil)
	if err != nil {
		return err
	}
	defer mon.Close()
	defer sock.Close()
	defer sock.Monitor("", 0) // stop sending events before the receiver goes
	poller := zmq.NewPoller()
	poller.Add(sock, zmq.POLLIN)
	poller.Add(mon, zmq.POLLIN)
	peak, every := newPeak(maxGrowth, true), pollEvery

	for ctx.Err() == nil {
		// zmq4 retries a poll that a signal (SIGWINCH, say) interrupted.
		polled, err := poller.Poll(every)
		if err != nil {
			return fmt.Errorf("poll %s: %w", ep, err)
		}
		var grew bool
		if grew, every = peak.grew(); grew && len(polled) == 0 {
			// Closing the socket (deferred) drops the connection and what
			// libzmq held of the message.
			return peak.cutOff(ep, "message")
		}
		if h.Idle != nil {
			h.Idle()
		}
		for _, p := range polled {
			if p.Socket == mon {
				if err := connectionEvent(mon, ep, h.Connection); err != nil {
					return err
				}
				continue
			}
			if err := receive(sock, sub, h); err != nil {
				return fmt.Errorf("receive from %s: %w", ep, err)
			}
			peak.read()
		}
	}
	return nil
}

// dialSubscriber connects a SUB socket to ep, subscribed to topic (and,
// for one channel, to the server's welcome, which says the subscription
// is in place), with a monitor of its handshakes (and, if connections, of
// its connections made and lost) attached before it connects, or the
// first connection's event could come before the monitor and be missed.
func dialSubscriber(ep transport.Endpoint, topic string, connections bool) (sock, mon *zmq.Socket, err error) {
	events := handshakeFailed
	if connections {
		events |= zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED
	}
	sock, err = transport.DialSubscribe(ep, topic, func(s *zmq.Socket) (err error) {
		if topic != "" {
			if err := s.SetSubscribe(msg.WelcomeTopic); err != nil {
				return err
			}
		}
		mon, err = transport.Monitor(s, events)
		return err
	})
	if err != nil {
		if mon != nil {
			mon.Close()
		}
		return nil, nil, err
	}
	return sock, mon, nil
}

// ErrCutOff is returned (wrapped) when the server sent what no zmqchat
// server sends, and the subscriber hung up on it.
var ErrCutOff = errors.New("cut off the server")

// receive hands over every publication waiting on sock.
func receive(sock *zmq.Socket, sub Subscription, h Handlers) error {
	for {
		frames, err := sock.RecvMessageBytes(zmq.DONTWAIT)
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) {
				return nil
			}
			return err
		}
		if numbering, port, ok := msg.DecodeWelcome(frames); ok {
			if h.Welcome != nil {
				h.Welcome(numbering, port)
			}
			continue
		}
		// Subscriptions match a prefix: "dev" also brings "devops".
		if !sub.All && string(frames[0]) != sub.Channel {
			continue
		}
		if _, n, ok := msg.DecodeTick(frames); ok {
			if h.Tick != nil {
				h.Tick(n)
			}
			continue
		}
		if n, ok := msg.DecodeNotice(frames); ok {
			if h.Notice != nil {
				h.Notice(n)
			}
			continue
		}
		m, err := msg.DecodePub(frames)
		if err != nil {
			if h.Malformed != nil {
				h.Malformed(fmt.Errorf("dropped a malformed publication: %w", err))
			}
			continue
		}
		h.Deliver(m)
	}
}

// handshakeFailed are the events of a handshake that failed: a keyed
// client whose key the server refused or that has the wrong server key, a
// plain client at a keyed server, or a peer that is not a ZeroMQ server.
const handshakeFailed = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH

// ErrRefused is returned (wrapped) when the handshake with the server
// fails; in keyed mode also when a message fails its authentication
// (libzmq reports both alike): the connection was tampered with.
var ErrRefused = errors.New("the handshake with the server failed")

// handshakeEvent reads an event from mon and returns ErrRefused, with what
// to check, if it says the handshake with ep failed.
func handshakeEvent(mon *zmq.Socket, ep transport.Endpoint) error {
	ev, _, _, err := mon.RecvEvent(0)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	if ev&handshakeFailed != 0 {
		return refusal(ep)
	}
	return nil
}

// refusal says what a failed handshake with ep most likely means.
func refusal(ep transport.Endpoint) error {
	if ep.Curve != nil {
		return fmt.Errorf("%w at %s: check the server's public key (-server-key), and that your public key is on its allow-list; if both are right, something on the way altered the traffic", ErrRefused, ep)
	}
	return fmt.Errorf("%w at %s: is it a zmqchat server, and is it in keyed mode (then give -keys and -server-key)?", ErrRefused, ep)
}

func connectionEvent(mon *zmq.Socket, ep transport.Endpoint, report func(up bool)) error {
	ev, _, _, err := mon.RecvEvent(0)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	switch {
	case ev&handshakeFailed != 0:
		return refusal(ep)
	case report == nil:
	case ev == zmq.EVENT_HANDSHAKE_SUCCEEDED:
		report(true)
	case ev == zmq.EVENT_DISCONNECTED:
		report(false)
	}
	return nil
}

// ReportConnection returns a Handlers.Connection that tells a person, by
// say, that the subscription to ep is connected, lost, or back. With
// several endpoints (ep.Also) it is lost only when every connection is.
func ReportConnection(ep transport.Endpoint, say func(string)) func(up bool) {
	live, wasUp := 0, false
	return func(up bool) {
		if up {
			live++
		} else if live > 0 {
			live--
		}
		switch {
		case live > 0 && !wasUp:
			say("connected to " + ep.String())
		case live == 0 && wasUp:
			say("lost the connection to " + ep.String() + "; waiting for the server to come back")
		}
		wasUp = live > 0
	}
}
