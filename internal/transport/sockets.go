package transport

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// Socket options, set here and nowhere else.
const (
	// MaxMsgSize caps every incoming ZeroMQ message. It is far above the
	// 16 KiB body limit, so an over-long body still reaches the server and
	// gets a clear ERR, while an absurd frame is dropped by libzmq (with the
	// connection) before it is ever allocated in full.
	MaxMsgSize = 1 << 20
	// MaxSubscriptionSize caps what a PUB socket takes in: subscriptions,
	// whose topic is a channel name (at most 32 characters, 128 bytes of
	// UTF-8), and the handshake's commands (CurveZMQ's INITIATE is about
	// 300 bytes; libzmq's cap applies to them too). libzmq keeps each
	// subscription in a trie with a node per byte, so an unbounded one
	// would cost the server memory in proportion (and libzmq's own SUB
	// crashes tearing down a topic of megabytes); and when a subscriber
	// goes, libzmq 4.3 walks the whole trie to take its topics out, with
	// an allocation per node.
	MaxSubscriptionSize = 512
	// HWM bounds the messages queued for one peer (libzmq's default, made
	// explicit). A subscriber that stops reading loses messages past it
	// instead of slowing the server or growing its memory: at most HWM
	// messages of at most 16 KiB each, 16 MiB, per frozen subscriber.
	HWM = 1000
	// RequestHWM and RequestRcvbuf bound what a server takes in from one
	// client ahead of its replies: at most RequestHWM whole requests
	// queued, and RequestRcvbuf bytes (which the kernel doubles) waiting in
	// the connection. A client that keeps many posts in flight waits for
	// replies all the same; a server's guard counts on this bound (see
	// rules in internal/server).
	RequestHWM    = 16
	RequestRcvbuf = 64 << 10
	// SubscriptionHWM bounds the subscriptions a PUB socket takes in from
	// one subscriber at a time. libzmq takes them in from the server's own
	// goroutine, whenever it publishes, all there are: with a queue of
	// HWM, one publish could take in thousands and hold the server's loop
	// that long (subscribers churning in a loop cut a person's posts to a
	// twentieth of their pace). The server's guard bounds the rest (see
	// rules in internal/server). A subscriber cut off leaves what waits
	// in its queue to be taken in, and then taken out again with a walk
	// of the trie: a queue of 4 keeps that short.
	SubscriptionHWM = 4
	// Linger lets a server's last reply leave before the process exits,
	// without letting a dead peer hold the exit up.
	Linger = 200 * time.Millisecond
	// HeartbeatIvl and HeartbeatTimeout make a client notice a connection
	// to a server that died silently (a server that was killed or froze, a
	// cable pulled) and reconnect. Only clients send heartbeats: a ZMTP 3.0
	// peer (the pure-Go zmq4, say) does not answer ZMTP 3.1 PINGs, and a
	// server that sent them would drop it; libzmq answers a client's PINGs
	// whatever its own settings.
	HeartbeatIvl     = 1 * time.Second
	HeartbeatTimeout = 3 * time.Second
	// KeepaliveIdle, KeepaliveIntvl and KeepaliveCnt are how servers find
	// peers that are gone without a word (a host that went down): TCP
	// keepalive, answered by the peer's kernel, whatever its ZeroMQ. A dead
	// peer is dropped within Idle + Intvl×Cnt, 30 s. A live peer that stops
	// reading is bounded by HWM instead.
	KeepaliveIdle  = 15 * time.Second
	KeepaliveIntvl = 5 * time.Second
	KeepaliveCnt   = 3
	// HandshakeIvl bounds a client's ZMTP handshake: a peer that accepts
	// the connection and then says nothing (not a ZeroMQ server) is given
	// up on, and reported, after it.
	HandshakeIvl = 5 * time.Second
	// ReconnectIvl and ReconnectIvlMax pace reconnection to a missing server.
	ReconnectIvl    = 100 * time.Millisecond
	ReconnectIvlMax = 1 * time.Second
	// ZAPDomain is the ZAP domain of the servers' sockets; see StartAuth.
	ZAPDomain = "zmqchat"
)

// Shutdown stops the ZAP handler and terminates the default context, which
// waits (at most Linger) for the closed sockets' last messages to leave.
// Every socket must be closed first; it is for a server's main, at exit.
func Shutdown() {
	done := make(chan struct{})
	go func() {
		stopAuth()
		zmq.Term()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * Linger):
	}
}

// Listener is a server socket and the endpoint it is bound to, with the
// port the system picked for port 0.
type Listener struct {
	*zmq.Socket
	At Endpoint
}

// Gate returns the allow-list the socket's peers are let in by, or nil
// when it is plain (not keyed).
func (l *Listener) Gate() *Gate {
	if l.At.Curve == nil {
		return nil
	}
	return l.At.Curve.Gate
}

// Listen binds a server socket of type t on ep: ROUTER, where a server or
// relay takes requests (REQ and DEALER clients speak to it), or PUB,
// where a server publishes, or a relay's XPUB, which stands for it (REP
// too, for tests). A REP or ROUTER socket takes in at most RequestHWM requests from one client ahead
// of their replies; a PUB or XPUB socket takes in subscriptions only,
// capped at MaxSubscriptionSize each.
func Listen(t zmq.Type, ep Endpoint) (*Listener, error) {
	var s *zmq.Socket
	var err error
	switch t {
	case zmq.REP, zmq.ROUTER:
		s, err = listen(t, ep, MaxMsgSize, RequestHWM, RequestRcvbuf)
		if err == nil && t == zmq.ROUTER {
			// A keyed client's routing id is its own (RoutingID): back
			// after a cut, it takes the id over from the connection the
			// server has not yet seen die, rather than be refused.
			if err = s.SetRouterHandover(true); err != nil {
				s.Close()
			}
		}
	case zmq.PUB, zmq.XPUB:
		s, err = listen(t, ep, MaxSubscriptionSize, SubscriptionHWM, -1)
	default:
		return nil, fmt.Errorf("listen: a server has no %s socket", t)
	}
	if err != nil {
		return nil, err
	}
	l := &Listener{Socket: s, At: ep}
	if l.At.URL, err = s.GetLastEndpoint(); err != nil {
		s.Close()
		return nil, fmt.Errorf("bound endpoint of %s: %w", ep, err)
	}
	return l, nil
}

// listen binds a server socket that drops (with the connection) any
// incoming message over maxIn bytes, and queues at most rcvhwm messages
// from one peer, with the kernel's receive buffer set to rcvbuf bytes (-1
// leaves it to the kernel).
func listen(t zmq.Type, ep Endpoint, maxIn int64, rcvhwm, rcvbuf int) (*zmq.Socket, error) {
	if err := StartAuth(); err != nil {
		return nil, fmt.Errorf("start ZAP handler: %w", err)
	}
	s, err := zmq.NewSocket(t)
	if err != nil {
		return nil, fmt.Errorf("new %s socket: %w", t, err)
	}
	err = setAll(
		s.SetLinger(Linger),
		s.SetMaxmsgsize(maxIn),
		s.SetSndhwm(HWM),
		s.SetRcvhwm(rcvhwm),
		s.SetRcvbuf(rcvbuf),
		s.SetIpv6(ep.IPv6),
		s.SetTcpKeepalive(1),
		s.SetTcpKeepaliveIdle(int(KeepaliveIdle/time.Second)),
		s.SetTcpKeepaliveIntvl(int(KeepaliveIntvl/time.Second)),
		s.SetTcpKeepaliveCnt(KeepaliveCnt),
		serverAuth(s, ep.Curve),
	)
	if err == nil {
		err = s.Bind(ep.URL)
		if zmq.AsErrno(err) == zmq.EADDRINUSE {
			err = fmt.Errorf("%w: is another server running there? stop it or pick another port", err)
		}
		if err != nil {
			err = fmt.Errorf("bind %s: %w", ep, err)
		}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Reopen closes a server socket, which drops every peer (in libzmq 4.3,
// unbinding would leave their connections up), and binds a new one of the
// same type on the same endpoint; the peers reconnect by themselves,
// through ZAP again. libzmq lets go of the port a moment after the close,
// so binding is retried for up to a second.
func Reopen(old *Listener) (*Listener, error) {
	t, err := old.GetType()
	if err != nil {
		return nil, fmt.Errorf("reopen %s: %w", old.At, err)
	}
	old.SetLinger(0)
	old.Close()
	for try := 0; try < 100; try++ {
		var l *Listener
		if l, err = Listen(t, old.At); err == nil {
			return l, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil, err
}

// serverAuth sets how a server socket's peers are let in: CurveZMQ and
// the Gate's allow-list when keyed, otherwise NULL through the plain ZAP
// domain.
func serverAuth(s *zmq.Socket, c *Curve) error {
	if c == nil {
		return s.ServerAuthNull(ZAPDomain)
	}
	return s.ServerAuthCurve(c.Gate.domain, c.Secret)
}

// DialRequest connects a REQ socket to a server's post endpoint. A REQ
// socket that missed a reply is stuck, so callers close it and dial anew.
// beforeConnect is as for DialSubscribe.
func DialRequest(ep Endpoint, beforeConnect func(*zmq.Socket) error) (*zmq.Socket, error) {
	return dial(zmq.REQ, ep, beforeConnect)
}

// DialDealer connects a DEALER socket to a server's post endpoint, for a
// client that keeps several requests in flight; it speaks the REQ wire
// format by putting an empty delimiter frame before each request.
// beforeConnect is as for DialSubscribe.
func DialDealer(ep Endpoint, beforeConnect func(*zmq.Socket) error) (*zmq.Socket, error) {
	return dial(zmq.DEALER, ep, beforeConnect)
}

// DialUpstream connects a relay's socket to the server (or relay) it
// stands for: a DEALER to its post endpoint, which passes requests on, or
// an XSUB to its publish endpoint, which passes subscriptions up and
// publications down. beforeConnect is as for DialSubscribe.
func DialUpstream(t zmq.Type, ep Endpoint, beforeConnect func(*zmq.Socket) error) (*zmq.Socket, error) {
	if t != zmq.DEALER && t != zmq.XSUB {
		return nil, fmt.Errorf("dial upstream: a relay has no %s socket upstream", t)
	}
	return dial(t, ep, beforeConnect)
}

// DialSubscribe connects a SUB socket to a server's publish endpoint,
// subscribed to topic ("" for everything). ZeroMQ matches topics by prefix,
// so the caller still compares the topic frame exactly. beforeConnect, if
// not nil, is called with the socket before it connects: a monitor attached
// there sees the first connection too.
func DialSubscribe(ep Endpoint, topic string, beforeConnect func(*zmq.Socket) error) (*zmq.Socket, error) {
	return dial(zmq.SUB, ep, func(s *zmq.Socket) error {
		if err := s.SetSubscribe(topic); err != nil || beforeConnect == nil {
			return err
		}
		return beforeConnect(s)
	})
}

// dial makes a client socket of type t to ep; setup, if not nil, is
// called with it before it connects.
func dial(t zmq.Type, ep Endpoint, setup func(*zmq.Socket) error) (*zmq.Socket, error) {
	s, err := zmq.NewSocket(t)
	if err != nil {
		return nil, fmt.Errorf("new %s socket: %w", t, err)
	}
	err = setAll(
		s.SetLinger(0),
		s.SetMaxmsgsize(MaxMsgSize),
		s.SetSndhwm(HWM),
		s.SetRcvhwm(HWM),
		s.SetIpv6(ep.IPv6),
		s.SetHeartbeatIvl(HeartbeatIvl),
		s.SetHeartbeatTimeout(HeartbeatTimeout),
		s.SetReconnectIvl(ReconnectIvl),
		s.SetReconnectIvlMax(ReconnectIvlMax),
		s.SetHandshakeIvl(HandshakeIvl),
		clientAuth(s, ep.Curve),
	)
	if err == nil && len(ep.Also) > 0 && t != zmq.SUB && t != zmq.XSUB {
		// Requests go only to the endpoints that are up, not queued for
		// one that is gone; with none up, a send gives up after a while.
		// Not for subscribers, which send only subscriptions (libzmq sends
		// them again on each connection): under ZMQ_IMMEDIATE, a subscriber
		// of two endpoints sometimes aborted on libzmq 4.3's assertion
		// "!_more" (fq.cpp) as its connections came up (docs/testing.md).
		err = setAll(s.SetImmediate(true), s.SetSndtimeo(ReconnectIvlMax))
	}
	if err == nil && setup != nil {
		err = setAll(setup(s))
	}
	for _, url := range append([]string{ep.URL}, ep.Also...) {
		if err == nil {
			if err = s.Connect(url); err != nil {
				err = fmt.Errorf("connect %s: %w", url, err)
			}
		}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// clientAuth makes a client socket speak CurveZMQ when keyed, named by
// its key (RoutingID) for relays to pass its requests on by.
func clientAuth(s *zmq.Socket, c *Curve) error {
	if c == nil {
		return nil
	}
	return setAll(s.SetIdentity(RoutingID(c.Public)), s.ClientAuthCurve(c.Server, c.Public, c.Secret))
}

func setAll(errs ...error) error {
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("set socket options: %w", err)
	}
	return nil
}

var monitors atomic.Int64

// Monitor returns a socket on which sock's events arrive. Attach it before
// sock connects (or binds), or the first events may come before it. To
// close it: sock.Monitor("", 0), then the monitor socket's Close.
func Monitor(sock *zmq.Socket, events zmq.Event) (*zmq.Socket, error) {
	addr := fmt.Sprintf("inproc://zmqchat-monitor-%d", monitors.Add(1))
	if err := sock.Monitor(addr, events); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	mon, err := zmq.NewSocket(zmq.PAIR)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	mon.SetLinger(0)
	if err := mon.Connect(addr); err != nil {
		mon.Close()
		return nil, fmt.Errorf("monitor: %w", err)
	}
	return mon, nil
}
