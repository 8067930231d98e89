package server

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/guard"
	"github.com/zmqchat/zmqchat/internal/transport"
)

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
	sock   *zmq.Socket
	watch  *guard.Watch
	ep     transport.Endpoint // as bound
	paused time.Time          // when listening stopped; zero while listening
}

func watchAccepts(sock *zmq.Socket, ep transport.Endpoint, rule guard.Rule, report func(guard.Cut)) (*acceptWatch, error) {
	mon, err := transport.Monitor(sock, zmq.EVENT_ACCEPT_FAILED|guard.Events)
	if err != nil {
		return nil, err
	}
	return &acceptWatch{sock: sock, watch: guard.StartWatch(mon, rule, report), ep: ep}, nil
}

// check stops listening at the descriptor limit, and listens again once
// relisten has passed. It reports whether listening stopped this time.
func (w *acceptWatch) check(now time.Time) (stopped bool) {
	if errno, ok := w.watch.AcceptFailed(); ok && outOfDescriptors(errno) && w.paused.IsZero() {
		if w.sock.Unbind(w.ep.URL) == nil {
			w.paused, stopped = now, true
		}
	}
	if !w.paused.IsZero() && now.Sub(w.paused) >= relisten {
		if w.sock.Bind(w.ep.URL) == nil {
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

// cutReports says on stderr who the guards cut off, at most once a
// second: an attacker who reconnects in a loop does not fill the
// terminal. The post and publish sockets' watches share it.
type cutReports struct {
	warn func(string)
	mu   sync.Mutex
	said time.Time // when a cut-off was last said
	held int       // cut off since, not said
}

// reporter returns the report function of a watch on the port named what.
func (r *cutReports) reporter(what string) func(guard.Cut) {
	return func(c guard.Cut) {
		r.mu.Lock()
		defer r.mu.Unlock()
		now := time.Now()
		if now.Sub(r.said) < time.Second {
			r.held++
			return
		}
		more := ""
		if r.held > 0 {
			more = fmt.Sprintf("; %d more cut off since the last said", r.held)
		}
		r.warn(fmt.Sprintf("cut off %s on the %s port: %s%s", c.Peer, what, c, more))
		r.said, r.held = now, 0
	}
}
