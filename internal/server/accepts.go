package server

import (
	"fmt"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/transport"
)

// relisten is how long a server that ran out of file descriptors waits
// before it listens again.
const relisten = time.Second

// acceptWatch watches one listening socket's accepts. At the file
// descriptor limit every accept fails, and libzmq tries again at once,
// for ever: a core spins on a connection it cannot take. So at the first
// such failure the server stops listening on that endpoint (in libzmq 4.3
// the connections it has stay up and are served), and listens again after
// relisten, and so on while the limit lasts. Its monitor is read from the
// loop's goroutine, which owns the socket.
type acceptWatch struct {
	sock   *zmq.Socket
	mon    *zmq.Socket
	ep     transport.Endpoint // as bound
	paused time.Time          // when listening stopped; zero while listening
}

func watchAccepts(sock *zmq.Socket, ep transport.Endpoint) (*acceptWatch, error) {
	mon, err := transport.Monitor(sock, zmq.EVENT_ACCEPT_FAILED)
	if err != nil {
		return nil, err
	}
	return &acceptWatch{sock: sock, mon: mon, ep: ep}, nil
}

// check reads the events that came, stops listening at the descriptor
// limit, and listens again once relisten has passed. It reports whether
// listening stopped this time.
func (w *acceptWatch) check(now time.Time) (stopped bool) {
	for {
		ev, _, errno, err := w.mon.RecvEvent(zmq.DONTWAIT)
		if err != nil {
			break
		}
		if ev == zmq.EVENT_ACCEPT_FAILED && outOfDescriptors(errno) && w.paused.IsZero() {
			if w.sock.Unbind(w.ep.URL) == nil {
				w.paused, stopped = now, true
			}
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
	w.mon.Close()
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
