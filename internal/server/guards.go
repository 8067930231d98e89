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
	cuts     cutReports
	warn     func(string)
	fdWarned bool
}

// The rules of the servers' guards (see package guard).
var (
	// postRule: a request is answered as soon as it is whole, and a client
	// can have at most transport.RequestHWM requests and
	// transport.RequestRcvbuf bytes (doubled by the kernel) waiting, about
	// 400 KiB of 16 KiB posts. A connection that sends more without a reply
	// is sending a message that never ends, which libzmq would hold (32
	// times over) until the process is killed.
	postRule = guard.Rule{Stall: 512 << 10}
	// pubRule: a subscriber sends a subscription or two (a channel name
	// each, resent on reconnecting) and a heartbeat a second (9 bytes).
	// More is an endless message, or subscriptions by the thousand, which
	// libzmq keeps in a trie at about 30 bytes per byte of topic, or
	// subscribing and unsubscribing in a loop, which costs the server's
	// loop its time.
	pubRule = guard.Rule{Budget: 64 << 10, Rate: 16}
)

// startGuards starts watching post and pub (nil for none).
func startGuards(post, pub *transport.Listener, warn func(string)) (*guards, error) {
	g := &guards{cuts: cutReports{transport.NewLimited(warn, "cut off")}, warn: warn}
	if err := g.watch(post, postRule, "post"); err != nil {
		g.close()
		return nil, err
	}
	if err := g.watch(pub, pubRule, "publish"); err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

func (g *guards) watch(l *transport.Listener, rule guard.Rule, what string) error {
	if l == nil {
		return nil
	}
	w, err := watchAccepts(l, rule, what, g.cuts.reporter(what))
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
	rule, what := pubRule, "publish"
	for i, w := range g.watches {
		if w.sock == l {
			rule, what = w.rule, w.what
			w.close()
			g.watches = append(g.watches[:i], g.watches[i+1:]...)
			break
		}
	}
	l, err := transport.Reopen(l)
	if err == nil {
		err = g.watch(l, rule, what)
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
	rule   guard.Rule
	what   string // the port's name: "post", "publish"
	watch  *guard.Watch
	paused time.Time // when listening stopped; zero while listening
}

func watchAccepts(sock *transport.Listener, rule guard.Rule, what string, report func(guard.Cut)) (*acceptWatch, error) {
	mon, err := transport.Monitor(sock.Socket, zmq.EVENT_ACCEPT_FAILED|guard.Events)
	if err != nil {
		return nil, err
	}
	return &acceptWatch{sock: sock, rule: rule, what: what, watch: guard.StartWatch(mon, rule, report)}, nil
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
	return func(c guard.Cut) { r.Say(fmt.Sprintf("cut off %s on the %s port: %s", c.Peer, what, c)) }
}
