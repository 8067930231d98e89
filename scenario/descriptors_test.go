package scenario

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// At its file descriptor limit a server says so once on stderr (with what
// to raise), does not spin on the connections it cannot take, keeps
// serving the ones it has, and takes new ones again once descriptors are
// free.
func TestOutOfFileDescriptors(t *testing.T) {
	t.Parallel()
	s := startUnderLimit(t)
	early := dialPost(t, s, wait)
	defer early.Close()
	mustReply(t, early, "before")
	crowd := crowdOut(t, s)
	defer func() {
		for _, c := range crowd {
			c.Close()
		}
	}()

	before := cpuTicks(t, s.cmd.Process.Pid)
	<-time.After(time.Second) // a measurement window, not a wait for something
	if used := cpuTicks(t, s.cmd.Process.Pid) - before; used > 30 {
		t.Errorf("at the limit the server used %d ticks of CPU in 1 s (a core is 100): it spins", used)
	}
	mustReply(t, early, "during") // the connection it had is served

	for _, c := range crowd {
		c.Close()
	}
	crowd = nil
	// Descriptors are free again: a new client gets in (libzmq retries
	// the refused connection by itself).
	late := dialPost(t, s, 2*wait)
	defer late.Close()
	mustReply(t, late, "after")
	if n := s.err.count("out of file descriptors"); n != 1 {
		t.Errorf("said %d times, want once", n)
	}
}

// A server stopped while it is out of file descriptors stops cleanly, with
// its summary: nothing it does on the way out may need a descriptor it
// cannot have. (The Go runtime opens its epoll descriptor the first time a
// goroutine waits on a timer: a guard that waited on a ticker died of
// "netpollinit failed" mid-run in TestOutOfFileDescriptors.)
func TestStopsCleanlyOutOfFileDescriptors(t *testing.T) {
	t.Parallel()
	s := startUnderLimit(t)
	mustOK(t, s, "dev", "ann", "before")
	crowd := crowdOut(t, s)
	defer func() {
		for _, c := range crowd {
			c.Close()
		}
	}()
	s.interrupt()
	s.out.waitFor(t, "mc_server", "mc_server: stopped; 1 message stored")
}

// startUnderLimit starts mc_server with a file descriptor limit of 64.
func startUnderLimit(t *testing.T) *server {
	t.Helper()
	p := start(t, "/bin/sh", "-c", `ulimit -n 64 && exec "$0" "$@"`, filepath.Join(binDir, "mc_server"), "127.0.0.1", "0", "0")
	s, err := serving(p, "127.0.0.1")
	if err != nil {
		t.Fatalf("mc_server did not start: %v\n%s", err, p.err)
	}
	return s
}

// crowdOut connects more clients to s than it has descriptors for, and
// waits until it says it ran out.
func crowdOut(t *testing.T, s *server) []*zmq.Socket {
	t.Helper()
	var crowd []*zmq.Socket
	for i := 0; i < 80; i++ {
		c, err := zmq.NewSocket(zmq.DEALER)
		if err != nil {
			t.Fatal(err)
		}
		c.SetLinger(0)
		c.Connect("tcp://" + net.JoinHostPort(s.host, s.post))
		crowd = append(crowd, c)
	}
	s.err.waitFor(t, "mc_server", "out of file descriptors (the limit of 64): new connections are refused for now and the open ones served; raise it (ulimit -n) to take more clients")
	return crowd
}

// mustReply posts body on req and fails unless the reply is OK.
func mustReply(t testing.TB, req *zmq.Socket, body string) {
	t.Helper()
	if _, err := req.SendMessage(post("dev", "ann", body)); err != nil {
		t.Fatal(err)
	}
	r, err := req.RecvMessage(0)
	if err != nil || len(r) != 1 || r[0] != "OK" {
		t.Fatalf("post %q: %q, %v", body, r, err)
	}
}
