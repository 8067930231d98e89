package server

import (
	"context"
	"fmt"
	"io"
	"os"
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
// context again (so how long a stop takes). The log is flushed when that
// much time has passed, not after every message, so that writing it never
// limits how fast posts are taken.
const FlushInterval = 20 * time.Millisecond

// Config says what a server listens on and how it behaves.
type Config struct {
	// Post is where requests are taken (ROUTER).
	Post transport.Endpoint
	// Pub is where stored messages are published (PUB); nil for part 1's
	// server, which only records.
	Pub *transport.Endpoint
	// Mode is which part's rules posts are checked by (see Handler).
	Mode msg.Mode
	// Log receives one line per stored message; nil for none. It is
	// written from a goroutine of its own: if it cannot keep up, or fails,
	// lines are dropped, never replies.
	Log io.Writer
	// Warn, if set, is told of trouble that does not stop the server (log
	// lines dropped), a line at a time.
	Warn func(string)
	// Name, if set, names the server in the log's last line, written when
	// it stops: "mc_server: stopped; 3 messages stored".
	Name string
	// Store keeps the messages; nil for a new store: in memory, or in
	// StoreFile.
	Store *store.Store
	// StoreFile, if not "", is the SQLite file the new store keeps every
	// message in (see store.Open), with StoreSync as its Sync.
	StoreFile string
	StoreSync bool
	// StoreBudget, if not 0, is the byte budget of the new store's memory
	// (see store.SetBudget); reaching it without a file is said once
	// through Warn.
	StoreBudget int64
}

// newStore makes the store cfg asks for.
func (cfg Config) newStore() (*store.Store, error) {
	if cfg.StoreFile != "" {
		return store.Open(cfg.StoreFile, store.Options{Sync: cfg.StoreSync, Budget: cfg.StoreBudget})
	}
	st := store.New(store.DefaultWindow)
	if cfg.StoreBudget > 0 {
		st.SetBudget(cfg.StoreBudget)
	}
	if cfg.Warn != nil {
		st.Evicting = func(budget int64) {
			cfg.Warn(fmt.Sprintf("the messages reached their budget of %d MiB: the oldest are dropped from here on (-store-mib sets it; -store FILE keeps them all)", budget>>20))
		}
	}
	return st, nil
}

// keyed reports whether the server's endpoints speak CurveZMQ.
func (cfg Config) keyed() bool { return cfg.Post.Curve != nil }

// Server is a bound zmqchat server. Its sockets belong to the goroutine
// that calls Serve.
type Server struct {
	handler  Handler
	post     *zmq.Socket
	pub      *zmq.Socket
	postEP   transport.Endpoint // as bound, with the port picked for port 0
	pubEP    transport.Endpoint
	log      *logWriter
	name     string
	line     []byte    // the log line being formatted, reused
	ticked   time.Time // when periodic last ran
	pubErr   error
	gate     *transport.Gate // keyed mode's allow-list; nil when plain
	gateGen  int64           // the gate's generation the PUB socket was bound under
	ownStore bool            // made by Listen, so closed by Serve
	batches  bool            // requests are taken in batches, on ROUTER
	watches  []*acceptWatch  // the post and pub sockets' accepts and guards
	warn     func(string)
	fdWarned bool
	cuts     *cutReports
	reqs     []Request  // the batch in hand
	envs     [][][]byte // each request's envelope: where its reply goes (none on REP)
}

// maxBatch bounds how many requests are taken (and posts stored) at once:
// enough that a store file's write per batch is shared by many posts,
// few enough that none waits long.
const maxBatch = 256

// Listen binds the server's sockets. A port in use is an error here, before
// anything is served.
func Listen(cfg Config) (*Server, error) {
	s := &Server{handler: Handler{Store: cfg.Store, Mode: cfg.Mode}, name: cfg.Name}
	if cfg.keyed() {
		s.gate = cfg.Post.Curve.Gate
		s.gateGen = s.gate.Generation()
		s.handler.Owner = s.gate.Name
	}
	var err error
	if s.handler.Store == nil {
		if s.handler.Store, err = cfg.newStore(); err != nil {
			return nil, err
		}
		s.ownStore = true
		if cfg.StoreFile != "" && cfg.Warn != nil {
			cfg.Warn(fmt.Sprintf("keeping every message in %s (%s there now)", cfg.StoreFile, s.Stored()))
		}
	}
	// A store file is written once per batch of posts, so a server with
	// one takes requests in batches (on ROUTER); one without, one at a
	// time (on REP), with fewer calls into libzmq per request.
	s.batches = s.handler.Store.Durable()
	if s.post, err = transport.ListenRequests(cfg.Post, s.batches); err == nil {
		s.postEP, err = transport.Bound(s.post, cfg.Post)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	if cfg.Pub != nil {
		if s.pub, err = transport.ListenPublish(*cfg.Pub); err == nil {
			s.pubEP, err = transport.Bound(s.pub, *cfg.Pub)
		}
		if err != nil {
			s.close()
			return nil, err
		}
	}
	s.warn = cfg.Warn
	if s.warn == nil {
		s.warn = func(string) {}
	}
	s.cuts = &cutReports{warn: s.warn}
	if err := s.watch(); err != nil {
		s.close()
		return nil, err
	}
	if cfg.Log != nil && !discards(cfg.Log) {
		// Handed over every FlushInterval at most, so that the log never
		// limits throughput yet is never far behind.
		warn := cfg.Warn
		if warn == nil {
			warn = func(string) {}
		}
		s.log = newLogWriter(cfg.Log, warn)
	}
	s.handler.Stored = s.stored
	return s, nil
}

// Logging reports whether the server writes a log line per message.
func (s *Server) Logging() bool { return s.log != nil }

// Store returns the server's message store.
func (s *Server) Store() *store.Store { return s.handler.Store }

// Stored says how many messages the store holds: "1 message", "2 messages".
func (s *Server) Stored() string {
	if n := s.Store().Len(); n != 1 {
		return fmt.Sprintf("%d messages", n)
	}
	return "1 message"
}

// PostEndpoint returns where the server takes posts, as bound: with port 0
// in the Config, the port the system picked.
func (s *Server) PostEndpoint() transport.Endpoint { return s.postEP }

// PubEndpoint returns where the server publishes, as bound, and false if it
// does not publish.
func (s *Server) PubEndpoint() (transport.Endpoint, bool) { return s.pubEP, s.pub != nil }

// watch starts watching the accepts of the post and pub sockets.
func (s *Server) watch() error {
	s.unwatch()
	for _, l := range []struct {
		sock *zmq.Socket
		ep   transport.Endpoint
		rule guard.Rule
		what string
	}{{s.post, s.postEP, postRule, "post"}, {s.pub, s.pubEP, pubRule, "publish"}} {
		if l.sock == nil {
			continue
		}
		w, err := watchAccepts(l.sock, l.ep, l.rule, s.cuts.reporter(l.what))
		if err != nil {
			return err
		}
		s.watches = append(s.watches, w)
	}
	return nil
}

func (s *Server) unwatch() {
	for _, w := range s.watches {
		w.close()
	}
	s.watches = nil
}

func (s *Server) close() {
	s.unwatch()
	if s.post != nil {
		s.post.Close()
	}
	if s.pub != nil {
		s.pub.Close()
	}
	if s.ownStore {
		s.handler.Store.Close()
	}
}

// Serve answers requests until ctx is done, then finishes the request in
// hand, closes the sockets and returns. It blocks; call it from the
// goroutine that is to own the sockets, once.
func (s *Server) Serve(ctx context.Context) (err error) {
	defer func() {
		stored := s.Stored() // counted before the store's file is closed
		s.close()
		if s.log != nil {
			if s.name != "" {
				s.log.Line(fmt.Appendf(nil, "%s: stopped; %s stored", s.name, stored))
			}
			s.log.Close(logCloseWait)
		}
	}()
	// One blocking receive, then whatever else has come meanwhile, up to
	// maxBatch; the receive timeout is the way out to look at ctx and
	// flush the log.
	if err := s.post.SetRcvtimeo(FlushInterval); err != nil {
		return fmt.Errorf("set receive timeout: %w", err)
	}
	for ctx.Err() == nil {
		if err := s.receive(); err != nil {
			// EAGAIN is the timeout. zmq4 retries EINTR itself, so a signal
			// such as SIGWINCH never ends the loop.
			if zmq.AsErrno(err) != zmq.Errno(syscall.EAGAIN) {
				return fmt.Errorf("receive request: %w", err)
			}
			if err := s.periodic(); err != nil {
				return err
			}
			continue
		}
		for i, reply := range s.handler.HandleAll(s.reqs) {
			if _, err := s.post.SendMessage(s.envs[i], reply); err != nil {
				return fmt.Errorf("send reply: %w", err)
			}
		}
		if s.pubErr != nil {
			return s.pubErr
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

// periodic does what waits for a pause, or for FlushInterval of work:
// hands the log's lines over, and puts a new allow-list in force.
func (s *Server) periodic() error {
	s.ticked = time.Now()
	s.flush()
	for _, w := range s.watches {
		if w.check(s.ticked) && !s.fdWarned {
			s.fdWarned = true
			s.warn(descriptorWarning())
		}
	}
	return s.checkGate()
}

// The rules of the servers' guards (see package guard).
var (
	// postRule: a request is answered as soon as it is whole, and a client
	// can have at most transport.RequestHWM requests and
	// transport.RequestRcvbuf bytes (doubled by the kernel) waiting, about
	// 400 KiB of 16 KiB posts. A connection that sends more without a reply
	// is sending a message that never ends, which libzmq would hold (32
	// times over) until the process is killed.
	postRule = guard.Rule{Stall: 512 << 10, Progress: guard.Replies}
	// pubRule: a subscriber sends a subscription or two (a channel name
	// each, resent on reconnecting) and a heartbeat a second (9 bytes).
	// More is an endless message, or subscriptions by the thousand, which
	// libzmq keeps in a trie at about 30 bytes per byte of topic, or
	// subscribing and unsubscribing in a loop, which costs the server's
	// loop its time.
	pubRule = guard.Rule{Budget: 64 << 10, Rate: 16}
)

// receive takes the next requests: one, waiting up to the receive
// timeout, then, with batches, those already there, up to maxBatch. A
// request comes on the ROUTER socket after its envelope (the route back,
// ending in an empty frame, as REQ and DEALER clients send it); in keyed
// mode it comes with the public key of its connection (its ZAP User-Id).
func (s *Server) receive() error {
	clear(s.reqs)
	clear(s.envs)
	s.reqs, s.envs = s.reqs[:0], s.envs[:0]
	flags := zmq.Flag(0)
	for len(s.reqs) < maxBatch {
		var frames [][]byte
		var meta map[string]string
		var err error
		if s.gate == nil {
			frames, err = s.post.RecvMessageBytes(flags)
		} else {
			frames, meta, err = s.post.RecvMessageBytesWithMetadata(flags, "User-Id")
		}
		if err != nil {
			if len(s.reqs) > 0 {
				return nil // nothing more there yet
			}
			return err
		}
		if !s.batches { // REP has taken the envelope off
			s.envs = append(s.envs, nil)
			s.reqs = append(s.reqs, Request{Frames: frames, Key: meta["User-Id"]})
			return nil
		}
		flags = zmq.DONTWAIT
		env, body, ok := splitEnvelope(frames)
		if !ok {
			continue // not from a REQ or DEALER client: there is no one to answer
		}
		s.envs = append(s.envs, env)
		s.reqs = append(s.reqs, Request{Frames: body, Key: meta["User-Id"]})
	}
	return nil
}

// splitEnvelope splits a message from the ROUTER socket into the envelope
// (through the first empty frame) and the request after it.
func splitEnvelope(frames [][]byte) (env, body [][]byte, ok bool) {
	for i, f := range frames {
		if len(f) == 0 {
			return frames[:i+1], frames[i+1:], i > 0
		}
	}
	return nil, nil, false
}

// checkGate, when a new allow-list is in force, opens the PUB socket
// anew: every subscriber is disconnected and reconnects by itself through
// the gate, so a removed key stops receiving. (What is published in that
// moment is missed.) Posts need no such step, since each is checked
// against the list in force.
func (s *Server) checkGate() error {
	if s.gate == nil || s.pub == nil || s.gate.Generation() == s.gateGen {
		return nil
	}
	s.gateGen = s.gate.Generation()
	s.unwatch() // the old socket's monitor goes with it
	pub, err := transport.ReopenPublish(s.pub, s.pubEP)
	s.pub = pub
	if err == nil {
		err = s.watch()
	}
	if err != nil {
		return fmt.Errorf("reopen the publish socket after the allow-list changed: %w", err)
	}
	return nil
}

func (s *Server) stored(m msg.Message, pub [][]byte) {
	if s.pub != nil {
		if _, err := s.pub.SendMessage(pub); err != nil {
			// PUB drops rather than blocks, so this is a broken socket.
			s.pubErr = fmt.Errorf("publish: %w", err)
		}
	}
	if s.log != nil {
		s.line = display.Append(s.line[:0], m, display.Style{ShowChannel: m.Channel != "", MaxBody: logBody})
		s.log.Line(s.line)
	}
}

// flush hands the log's buffered lines over to be written.
func (s *Server) flush() {
	if s.log != nil {
		s.log.Flush()
	}
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
