package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/guard"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/store"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// FlushInterval bounds how long a logged line may wait in the log's
// buffer, and how long the loop waits for a request before it looks at its
// context again (so how long a stop takes). The log is handed over when
// that much time has passed, not after every message, so that writing it
// never limits how fast posts are taken.
const FlushInterval = 20 * time.Millisecond

// Config says what a server serves on and how it behaves.
type Config struct {
	// Post is the ROUTER socket requests are taken on (transport.Listen):
	// REP's own socket underneath, so that the server sees the envelope of
	// a request a relay passed on.
	Post *transport.Listener
	// Pub is the PUB socket stored messages are published on; nil for
	// part 1's server, which only records.
	Pub *transport.Listener
	// Store keeps the messages (see OpenStore).
	Store store.Store
	// Handler's Mode: which part's rules posts are checked by.
	Mode msg.Mode
	// Log receives one line per stored message; nil for none. It is
	// written from a goroutine of its own: if it cannot keep up, or fails,
	// lines are dropped, never replies.
	Log io.Writer
	// Warn, if set, is told of trouble that does not stop the server (log
	// lines dropped, peers cut off), a line at a time.
	Warn func(string)
	// Name, if set, names the server in the log's last line, written when
	// it stops: "mc_server: stopped; 3 messages stored".
	Name string
	// Memory is the server's memory budget, in bytes (DefaultMemory if
	// 0): its connections may hold a quarter of it together (see rules).
	Memory int64
}

// DefaultMemory is a server's memory budget (-memory): 1 GiB, which a
// laptop has to spare. Its store takes three eighths, its connections a
// quarter (see rules), and the Go heap is held to five eighths.
const DefaultMemory = 1 << 30

// Server serves a Handler on a ROUTER socket and publishes what it stores
// on a PUB socket. Its sockets belong to the goroutine that calls Serve.
type Server struct {
	handler   Handler
	post      *transport.Listener
	recv      *transport.Receiver // post's, which Serve receives requests through
	pub       *transport.Listener
	publisher *transport.Publisher // pub's
	gate      *transport.Gate      // keyed mode's allow-list; nil when plain
	gateGen   int64                // the gate's generation the sockets were bound under
	guards    *guards
	log       *logWriter
	name      string
	line      []byte    // the log line being formatted, reused
	ticked    time.Time // when periodic last ran
	ticks     ticks
}

// New makes a server of cfg's sockets and store, which it owns from now
// on: Serve closes the sockets (New, if it fails). The store is the
// caller's to close, after Serve.
func New(cfg Config) (*Server, error) {
	warn := cfg.Warn
	if warn == nil {
		warn = func(string) {}
	}
	s := &Server{handler: Handler{Store: cfg.Store, Mode: cfg.Mode}, post: cfg.Post, pub: cfg.Pub,
		gate: cfg.Post.Gate(), name: cfg.Name}
	// In keyed mode a post is taken only from the key its username is
	// bound to, and a new list in force drops every subscriber, to come
	// back through it.
	if s.gate != nil {
		s.gateGen = s.gate.Generation()
		s.handler.Owner = s.gate.Name
	}
	memory := cfg.Memory
	if memory == 0 {
		memory = DefaultMemory
	}
	if err := s.welcome(); err != nil {
		s.close()
		return nil, err
	}
	var err error
	if s.guards, err = startGuards(s.post, s.pub, memory, warn); err != nil {
		s.close()
		return nil, err
	}
	if err := s.wrap(); err != nil {
		s.close()
		return nil, err
	}
	if cfg.Log != nil && !discards(cfg.Log) {
		s.log = newLogWriter(cfg.Log, warn)
	}
	return s, nil
}

// welcome has the publish socket greet each new subscriber with the
// numbering's identity and the post port (msg.Welcome): a subscriber
// given only the publish port learns where to ask for what it missed.
func (s *Server) welcome() error {
	if s.pub == nil {
		return nil
	}
	port, err := strconv.Atoi(s.post.At.Port())
	if err == nil {
		err = s.pub.SetXpubWelcomeMsg(string(msg.Welcome(s.handler.Store.Numbering(), port)))
	}
	if err != nil {
		return fmt.Errorf("set the publish port's welcome: %w", err)
	}
	return nil
}

// Logging reports whether the server writes a log line per message.
func (s *Server) Logging() bool { return s.log != nil }

// Store returns the server's message store.
func (s *Server) Store() store.Store { return s.handler.Store }

// Stored says how many messages the store holds: "1 message", "2 messages".
func (s *Server) Stored() string { return display.Count(s.Store().Len(), "message", "messages") }

// PostEndpoint returns where the server takes posts, as bound.
func (s *Server) PostEndpoint() transport.Endpoint { return s.post.At }

// PubEndpoint returns where the server publishes, as bound, and false if it
// does not publish.
func (s *Server) PubEndpoint() (transport.Endpoint, bool) {
	if s.pub == nil {
		return transport.Endpoint{}, false
	}
	return s.pub.At, true
}

func (s *Server) close() {
	if s.guards != nil {
		s.guards.close()
	}
	if s.recv != nil {
		s.recv.Close()
	}
	s.post.Close()
	if s.pub != nil {
		s.pub.Close()
	}
}

// Serve answers requests until ctx is done, then finishes the request in
// hand, closes the sockets and returns. It blocks; call it from the
// goroutine that is to own the sockets, once.
//
// Each turn: receive a request (waiting at most FlushInterval),
// handle it (check, store), publish what it stored on PUB, log it, reply.
func (s *Server) Serve(ctx context.Context) error {
	defer s.stop()
	if err := s.post.SetRcvtimeo(FlushInterval); err != nil {
		return fmt.Errorf("set receive timeout: %w", err)
	}
	for ctx.Err() == nil {
		frames, from, err := s.receive()
		switch {
		case zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN): // the timeout: a pause
		case err != nil:
			return fmt.Errorf("receive request: %w", err)
		case from.envelope == nil: // not a request
		default:
			if err := s.answer(s.handle(frames, from), from); err != nil {
				return err
			}
		}
		// A busy server is never idle: what it does when idle is done every
		// FlushInterval meanwhile.
		if time.Since(s.ticked) >= FlushInterval {
			if err := s.periodic(); err != nil {
				return err
			}
		}
	}
	return nil
}

// peer is where a request came from: its connection's descriptor (libzmq's
// "__fd" property; -1 if it has none) and, in keyed mode, public key (its
// ZAP User-Id); the envelope its reply goes back by; and in keyed mode
// whose request it is, by key, which differs from the connection's when a
// relay passed it on (see author).
type peer struct {
	fd       int
	key      string
	envelope [][]byte
	author   string
	refused  error // why the envelope is not believed
}

// receive takes the next request and where it came from, its frames good
// until the next. A signal such as SIGWINCH never ends the wait. A
// message without the empty frame that ends a request's envelope (which
// REQ and the clients' DEALER put there) is no request: receive returns
// it with no envelope, to be dropped, as REP would drop it.
func (s *Server) receive() ([][]byte, peer, error) {
	var from peer
	frames, p, err := s.recv.Receive()
	from.fd, from.key = p.FD, p.User
	switch {
	case errors.Is(err, transport.ErrTooManyFrames):
		return nil, from, nil
	case err != nil:
		return nil, from, err
	}
	end := slices.IndexFunc(frames, func(f []byte) bool { return len(f) == 0 })
	if end < 1 {
		return nil, from, nil
	}
	from.envelope = frames[:end+1]
	if s.gate != nil {
		from.author, from.refused = s.author(from.key, frames[1:end])
	}
	return frames[end+1:], from, nil
}

// author returns, in keyed mode, the key of whoever sent a request that
// came on a connection with key, passed on by way of hops: the routing ids
// that relays put before it, outermost first. Each relay's ZAP handler has
// checked that a routing id starts with its peer's key
// (transport.KeyOfRoutingID), so a hop is believed only if the connection
// it came on is a listed relay's.
func (s *Server) author(key string, hops [][]byte) (string, error) {
	for _, id := range hops {
		if !s.gate.Relay(key) {
			return "", errNotRelay
		}
		next, ok := transport.KeyOfRoutingID(id)
		if !ok {
			return "", errUnkeyedHop
		}
		key = next
	}
	return key, nil
}

var (
	errNotRelay   = &msg.Error{Reason: "only a relay on the server's allow-list may pass on others' requests"}
	errUnkeyedHop = &msg.Error{Reason: "a relay passed on a request without its sender's key: a keyed client's routing id starts with its public key"}
)

// handle answers a request. HISTORY is refused to a client with more than
// maxUnread bytes of replies it has not read: each reply is held for it
// until it does.
func (s *Server) handle(frames [][]byte, from peer) Result {
	if from.refused != nil {
		return refuse(from.refused)
	}
	if len(frames) > 0 && string(frames[0]) == msg.CmdHistory {
		if n := s.guards.ledger.Unread(from.fd); n > maxUnread {
			return refuse(&msg.Error{Reason: fmt.Sprintf("read the replies you asked for first: %s of them are waiting", guard.Size(n))})
		}
	}
	return s.handler.Handle(frames, from.author)
}

// maxUnread is how many bytes of replies a client may leave unread and
// still be given history: two full replies.
const maxUnread = 2 * msg.HistoryBytes

// publish sends frames on the publish socket.
func (s *Server) publish(frames [][]byte) error {
	if err := s.publisher.Send(frames); err != nil {
		// PUB drops rather than blocks, so this is a broken socket.
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// announce publishes notices of who joined or left.
func (s *Server) announce(notices []msg.Notice) error {
	for _, n := range notices {
		if s.pub == nil {
			return nil
		}
		if err := s.publish(n.Frames()); err != nil {
			return err
		}
	}
	return nil
}

// answer publishes and logs what r stored, then sends its reply, and
// enters it in the ledger.
func (s *Server) answer(r Result, to peer) error {
	if r.Pub != nil && s.pub != nil {
		if err := s.publish(r.Pub); err != nil {
			return err
		}
	}
	if err := s.announce(r.Notices); err != nil {
		return err
	}
	if r.Pub != nil {
		s.ticks.published(r.Message, time.Now())
	}
	if r.Pub != nil && s.log != nil {
		m := r.Message
		s.line = display.Append(s.line[:0], m, display.Style{ShowChannel: m.Channel != "", MaxBody: logBody})
		s.log.Line(s.line)
	}
	if err := s.recv.Send(to.envelope, r.Reply); err != nil {
		return fmt.Errorf("send reply: %w", err)
	}
	size := 0
	for _, f := range r.Reply {
		size += len(f)
	}
	s.guards.ledger.Served(to.fd, size, to.key)
	return nil
}

// stop closes the sockets and writes the log's last line.
func (s *Server) stop() {
	stored := s.Stored()
	s.close()
	if s.log != nil {
		if s.name != "" {
			s.log.Line(fmt.Appendf(nil, "%s: stopped; %s stored", s.name, stored))
		}
		s.log.Close(logCloseWait)
	}
}

// periodic does what waits for a pause, or for FlushInterval of work:
// hands the log's lines over, lets the guards act, forgets the clients
// gone quiet, welcomes subscribers, and puts a new allow-list in force.
func (s *Server) periodic() error {
	s.ticked = time.Now()
	if s.log != nil {
		s.log.Flush()
	}
	s.guards.check(s.ticked)
	if err := s.announce(s.handler.Expire(s.ticked)); err != nil {
		return err
	}
	if s.pub != nil {
		if err := s.ticks.send(s.ticked, s.publish); err != nil {
			return err
		}
		// libzmq attaches a new subscriber, and sends it the welcome, only
		// when the socket's own thread next calls into it: asking for its
		// events does, so a subscriber is welcomed within FlushInterval
		// even while nothing is published.
		if err := s.publisher.TakeIn(); err != nil {
			return fmt.Errorf("publish socket: %w", err)
		}
	}
	return s.checkGate()
}

// checkGate, when a new allow-list is in force, opens the post and
// publish sockets anew: every peer is disconnected and reconnects by
// itself through the gate, so a removed key gets nothing more on either.
// (Requests waiting unread, and what is published, in that moment are
// missed; clients resend a post that got no reply.) Meanwhile each request
// is checked against the list in force.
func (s *Server) checkGate() error {
	if s.gate == nil || s.gate.Generation() == s.gateGen {
		return nil
	}
	s.gateGen = s.gate.Generation()
	s.recv.Close()
	s.recv = nil
	for _, l := range []**transport.Listener{&s.post, &s.pub} {
		if *l == nil {
			continue
		}
		reopened, err := s.guards.reopen(*l)
		if err != nil {
			return fmt.Errorf("reopen %s after the allow-list changed: %w", (*l).At, err)
		}
		*l = reopened
	}
	if err := s.welcome(); err != nil {
		return err
	}
	if err := s.wrap(); err != nil {
		return err
	}
	return s.post.SetRcvtimeo(FlushInterval)
}

// wrap makes the Receiver of the post socket and the Publisher of the
// publish socket, which the loop uses them through.
func (s *Server) wrap() error {
	var err error
	if s.recv, err = transport.NewReceiver(s.post.Socket); err == nil && s.pub != nil {
		s.publisher, err = transport.NewPublisher(s.pub.Socket)
	}
	return err
}

// logBody is the most of a body a log line shows; a longer one is
// shortened, with its length said.
const logBody = 200

// discards reports whether w is /dev/null: a log nobody reads is not
// written, nor its lines built.
func discards(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	null, err2 := os.Stat(os.DevNull)
	return err == nil && err2 == nil && os.SameFile(fi, null)
}

// logCloseWait bounds how long a stopping server waits for its last log
// lines to be written: a stuck stdout must not keep it from stopping.
const logCloseWait = 300 * time.Millisecond

// StoreOptions say where a server keeps its messages (the -store,
// -store-mib and -sync flags).
type StoreOptions struct {
	File   string // an SQLite file; "" for memory only
	Sync   bool   // with File: each post flushed to the disk before its reply
	Budget int64  // the memory the messages may take, in bytes; 0 for the default
}

// OpenStore opens the store opts ask for: an SQLite file, or memory only,
// whose reaching its budget is said once through warn.
func OpenStore(opts StoreOptions, warn func(string)) (store.Store, error) {
	if opts.File != "" {
		f, err := store.Open(opts.File, store.Options{Sync: opts.Sync, Budget: opts.Budget, Warn: warn})
		if err != nil {
			return nil, err
		}
		warn(fmt.Sprintf("keeping every message in %s (%s there now)", opts.File, display.Count(f.Len(), "message", "messages")))
		return f, nil
	}
	m := store.New(store.DefaultWindow)
	if opts.Budget > 0 {
		m.SetBudget(opts.Budget)
	}
	m.Evicting = func(budget int64) {
		warn(fmt.Sprintf("the messages reached their budget of %d MiB: the oldest are dropped from here on (-store-mib sets it; -store FILE keeps them all)", budget>>20))
	}
	return m, nil
}
