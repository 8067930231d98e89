package server

import (
	"fmt"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/guard"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// guards are the server's defences against hostile peers, which the loop
// calls when it has a moment (check) and when it stops (close): a watch on
// each listening socket, whose guard cuts off the connections that break
// the socket's rule (see package guard; on Linux only), and which stops
// listening while the process is out of file descriptors.
type guards struct {
	watches  []*acceptWatch
	rules    map[string]guard.Rule // by port: "post", "publish"
	ledger   *guard.Ledger         // the requests served on the post socket
	cuts     cutReports
	warn     func(string)
	fdWarned bool
}

// The rules of the servers' guards (see package guard), with the memory
// budget's share the connections of each port may hold together.
func rules(memory int64) map[string]guard.Rule {
	conns := uint64(memory) / 4
	return map[string]guard.Rule{
		// A request is answered as soon as it is whole, and a client can
		// have at most transport.RequestHWM requests and
		// transport.RequestRcvbuf bytes (doubled by the kernel) waiting,
		// about 400 KiB of 16 KiB posts. A connection that sends more
		// without a whole request is sending a message that never ends,
		// which libzmq would hold (32 times over) until the process is
		// killed.
		// The estimate of what a poster holds takes every byte for an empty
		// frame, 32 times over, when busy clients' bytes are mostly whole
		// posts: the Total is kept only once memory is half used.
		"post": {Stall: 512 << 10, Total: conns / 4 * 3, Full: memory / 2},
		// A subscriber sends its hello (the greeting and handshake, about
		// 700 bytes with CurveZMQ), a subscription or two (a channel name
		// each, resent on reconnecting) and a heartbeat a second (9 bytes,
		// 42 with CurveZMQ). More is an endless message, or subscriptions
		// by the hundred, which libzmq keeps in a trie at about 30 bytes
		// per byte of topic and walks whole each time a subscriber goes;
		// or subscribing and unsubscribing in a loop, which costs the
		// server's loop its time. What they send is what libzmq will hold,
		// so the Total is kept whatever the memory.
		"publish": {Budget: 2 << 10, Rate: 64, Total: conns / 4},
	}
}

// startGuards starts watching post and pub (nil for none), whose
// connections may hold a share of memory, the server's budget.
func startGuards(post, pub *transport.Listener, memory int64, warn func(string)) (*guards, error) {
	g := &guards{rules: rules(memory), ledger: guard.NewLedger(), cuts: cutReports{transport.NewLimited(warn, "cut off")}, warn: warn}
	if err := g.watch(post, "post"); err != nil {
		g.close()
		return nil, err
	}
	if err := g.watch(pub, "publish"); err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

func (g *guards) watch(l *transport.Listener, what string) error {
	if l == nil {
		return nil
	}
	var ledger *guard.Ledger
	if what == "post" {
		ledger = g.ledger
	}
	w, err := watchAccepts(l, g.rules[what], ledger, what, g.cuts.reporter(what))
	if err == nil {
		g.watches = append(g.watches, w)
	}
	return err
}

// check stops or starts listening as file descriptors run out or come
// back, and says so the first time.
func (g *guards) check(now time.Time) {
	for _, w := range g.watches {
		if w.check(now) && !g.fdWarned {
			g.fdWarned = true
			g.warn(descriptorWarning())
		}
	}
}

// reopen closes l and binds a new socket in its place (see
// transport.Reopen), watched as the old one was.
func (g *guards) reopen(l *transport.Listener) (*transport.Listener, error) {
	what := "publish"
	for i, w := range g.watches {
		if w.sock == l {
			what = w.what
			w.close()
			g.watches = append(g.watches[:i], g.watches[i+1:]...)
			break
		}
	}
	if what == "post" {
		g.ledger = guard.NewLedger() // the old connections' accounts go with them
	}
	l, err := transport.Reopen(l)
	if err == nil {
		err = g.watch(l, what)
	}
	return l, err
}

func (g *guards) close() {
	for _, w := range g.watches {
		w.close()
	}
	g.watches = nil
}

// relisten is how long a server that ran out of file descriptors waits
// before it listens again.
const relisten = time.Second

// acceptWatch watches one listening socket's connections, through its
// monitor, which a guard.Watch reads in a goroutine of its own.
//
// Its guard cuts off the connections that break the socket's rule.
//
// And at the file descriptor limit every accept fails, and libzmq tries
// again at once, for ever: a core spins on a connection it cannot take.
// So at the first such failure the server stops listening on that
// endpoint (in libzmq 4.3 the connections it has stay up and are served),
// and listens again after relisten, and so on while the limit lasts. That
// is done from the loop's goroutine, which owns the socket.
type acceptWatch struct {
	sock   *transport.Listener
	what   string // the port's name: "post", "publish"
	watch  *guard.Watch
	paused time.Time // when listening stopped; zero while listening
}

func watchAccepts(sock *transport.Listener, rule guard.Rule, ledger *guard.Ledger, what string, report func(guard.Cut)) (*acceptWatch, error) {
	mon, err := transport.Monitor(sock.Socket, zmq.EVENT_ACCEPT_FAILED|guard.Events)
	if err != nil {
		return nil, err
	}
	return &acceptWatch{sock: sock, what: what, watch: guard.StartWatch(mon, rule, ledger, report)}, nil
}

// check stops listening at the descriptor limit, and listens again once
// relisten has passed. It reports whether listening stopped this time.
func (w *acceptWatch) check(now time.Time) (stopped bool) {
	if errno, ok := w.watch.AcceptFailed(); ok && outOfDescriptors(errno) && w.paused.IsZero() {
		if w.sock.Unbind(w.sock.At.URL) == nil {
			w.paused, stopped = now, true
		}
	}
	if !w.paused.IsZero() && now.Sub(w.paused) >= relisten {
		if w.sock.Bind(w.sock.At.URL) == nil {
			w.paused = time.Time{}
		} else {
			w.paused = now // no descriptor for it yet either
		}
	}
	return stopped
}

func outOfDescriptors(errno int) bool {
	return syscall.Errno(errno) == syscall.EMFILE || syscall.Errno(errno) == syscall.ENFILE
}

func (w *acceptWatch) close() {
	w.sock.Monitor("", 0)
	w.watch.Stop()
}

// descriptorWarning is what a server says, once, the first time it runs out
// of file descriptors.
func descriptorWarning() string {
	limit := "the limit"
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		limit = fmt.Sprint("the limit of ", lim.Cur)
	}
	return fmt.Sprintf("out of file descriptors (%s): new connections are refused for now and the open ones served; raise it (ulimit -n) to take more clients", limit)
}

// cutReports says on stderr who the guards cut off (at most a line a
// second, see transport.Limited); the post and publish sockets' watches
// share it.
type cutReports struct{ *transport.Limited }

// reporter returns the report function of a watch on the port named what.
func (r cutReports) reporter(what string) func(guard.Cut) {
	return func(c guard.Cut) {
		peer := c.Peer
		if c.Key != "" {
			peer += " (key " + c.Key + ")"
		}
		r.Say(fmt.Sprintf("cut off %s on the %s port: %s", peer, what, c))
	}
}
