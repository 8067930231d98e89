package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/keys"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server"
	"github.com/zmqchat/zmqchat/internal/server/servertest"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// request sends frames on a fresh REQ socket and returns the reply.
func request(t *testing.T, ep transport.Endpoint, frames ...string) []string {
	t.Helper()
	req, err := zmq.NewSocket(zmq.REQ)
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	req.SetLinger(0)
	req.SetRcvtimeo(servertest.Wait)
	if err := req.Connect(ep.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := req.SendMessage(frames); err != nil {
		t.Fatal(err)
	}
	reply, err := req.RecvMessage(0)
	if err != nil {
		t.Fatalf("no reply to %q: %v", frames, err)
	}
	return reply
}

func TestServeAnswersStoresLogsAndPublishes(t *testing.T) {
	s := servertest.Run(t, msg.MultiChannel)
	if s.Post.Port() == "0" || s.Pub.Port() == "0" || s.Post.Port() == s.Pub.Port() {
		t.Fatalf("bound %s and %s: want two real ports", s.Post, s.Pub)
	}
	sub, err := zmq.NewSocket(zmq.SUB)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	sub.SetLinger(0)
	sub.SetSubscribe("")
	sub.SetRcvtimeo(50 * time.Millisecond)
	if err := sub.Connect(s.Pub.URL); err != nil {
		t.Fatal(err)
	}
	tm := time.Now().Format(time.RFC3339Nano)
	// Until the subscription reaches the server, posts are not delivered.
	var got []string
	deadline := time.Now().Add(servertest.Wait)
	for n := 0; len(got) == 0; n++ {
		if time.Now().After(deadline) {
			t.Fatal("nothing published")
		}
		if r := request(t, s.Post, "POST", "dev", "probe", tm, "probe "+string(rune('a'+n%26))+tm); r[0] != "OK" {
			t.Fatalf("probe: %q", r)
		}
		got, _ = sub.RecvMessage(0) // empty after 50ms with nothing
	}
	if r := request(t, s.Post, "POST", "dev", "ann", tm, "hello"); len(r) != 1 || r[0] != "OK" {
		t.Fatalf("reply %q, want OK", r)
	}
	// The publication is the post's last four frames, exactly as sent, and
	// its number.
	sub.SetRcvtimeo(servertest.Wait)
	for len(got) < 2 || got[1] != "ann" {
		if got, err = sub.RecvMessage(0); err != nil {
			t.Fatalf("no publication: %v", err)
		}
	}
	if want := []string{"dev", "ann", tm, "hello", s.Store().Numbering() + " 2 2"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("published %q, want %q", got, want)
	}
	s.Log.WaitFor(t, "[dev] ann: hello (", 1)
	// A refusal: ERR with the reason, nothing stored.
	before := s.Store().Len()
	if r := request(t, s.Post, "POST", "ALL", "ann", tm, "hi"); len(r) != 2 || r[0] != "ERR" || !strings.Contains(r[1], "read-only") {
		t.Errorf("post to ALL: %q", r)
	}
	if s.Store().Len() != before {
		t.Errorf("a refused post was stored")
	}
}

// A second server on a bound port fails at Listen, with the hint.
func TestListenOnAPortInUse(t *testing.T) {
	s := servertest.Run(t, msg.SingleRoom)
	_, err := servertest.Listen(s.Post, nil, server.Config{Mode: msg.SingleRoom})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Listen on %s in use: %v", s.Post, err)
	}
	pub := s.Pub
	free, _ := transport.BindEndpoint("127.0.0.1", "0")
	if _, err := servertest.Listen(free, &pub, server.Config{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Listen with its pub port in use: %v", err)
	}
}

// Serve returns promptly once its context is done, its sockets closed (so
// a new server can bind the same port at once) and its log written out to
// the last line, though the last lines came faster than the log's flush
// interval.
func TestServeStopsFlushesAndFreesItsPorts(t *testing.T) {
	post, _ := transport.BindEndpoint("127.0.0.1", "0")
	log := servertest.NewLines()
	srv, err := servertest.Listen(post, nil, server.Config{Mode: msg.SingleRoom, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	req := dial(t, srv.PostEndpoint())
	for i := 0; i < 20; i++ {
		tm := time.Now().Format(time.RFC3339Nano)
		if r := roundTrip(t, req, "POST", "", "ann", tm, fmt.Sprint("last words ", i)); r[0] != "OK" {
			t.Fatalf("reply %q", r)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(servertest.Wait):
		t.Fatal("Serve went on after its context was done")
	}
	if n := log.Count("ann: last words "); n != 20 {
		t.Errorf("%d of 20 lines logged by the time Serve returned:\n%s", n, log)
	}
	if _, ok := srv.PubEndpoint(); ok {
		t.Errorf("a server without Pub says it publishes")
	}
	// libzmq's I/O thread lets go of the port a moment after the socket is
	// closed; a socket left open would hold it for good.
	var again *server.Server
	for deadline := time.Now().Add(servertest.Wait); again == nil; {
		if again, err = servertest.Listen(srv.PostEndpoint(), nil, server.Config{Mode: msg.SingleRoom}); err != nil && time.Now().After(deadline) {
			t.Fatalf("the port is still held after Serve returned: %v", err)
		}
	}
	go again.Serve(ctx) // ctx is done: it closes its sockets and returns
}

// A server kept busy writes its log as it goes, not only when idle: after
// ten posts, requests that log nothing keep it busy, and the ten lines
// appear meanwhile.
func TestBusyServerLogKeepsUp(t *testing.T) {
	s := servertest.Run(t, msg.SingleRoom)
	req := dial(t, s.Post)
	for i := 0; i < 10; i++ {
		roundTrip(t, req, "POST", "", "ann", time.Now().Format(time.RFC3339Nano), fmt.Sprint("busy ", i))
	}
	busy, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(busy)
		for {
			select {
			case <-stop:
				return
			default:
				roundTrip(t, req, "NOTHING")
			}
		}
	}()
	s.Log.WaitFor(t, "ann: busy ", 10)
	close(stop)
	<-busy
}

// serve starts Serve in the background and returns a function that stops
// it and returns its error.
func serve(t *testing.T, srv *server.Server) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(servertest.Wait):
			t.Fatal("Serve went on after its context was done")
			return nil
		}
	}
}

// postThree posts three messages from ann, m0 to m2, each answered.
func postThree(t *testing.T, srv *server.Server) {
	req := dial(t, srv.PostEndpoint())
	for i := 0; i < 3; i++ {
		roundTrip(t, req, "POST", "", "ann", time.Now().Format(time.RFC3339Nano), fmt.Sprint("m", i))
	}
}

// dial returns a REQ socket connected to ep, closed when the test ends.
func dial(t *testing.T, ep transport.Endpoint) *zmq.Socket {
	t.Helper()
	req, err := zmq.NewSocket(zmq.REQ)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { req.Close() })
	req.SetLinger(0)
	req.SetRcvtimeo(servertest.Wait)
	if err := req.Connect(ep.URL); err != nil {
		t.Fatal(err)
	}
	return req
}

// roundTrip sends frames on req and returns the reply.
func roundTrip(t *testing.T, req *zmq.Socket, frames ...string) []string {
	if _, err := req.SendMessage(frames); err != nil {
		t.Error(err)
		return nil
	}
	reply, err := req.RecvMessage(0)
	if err != nil {
		t.Errorf("no reply to %q: %v", frames, err)
	}
	return reply
}

// A keyed server over real CURVE sockets: a post is taken only under the
// name its key is bound to, and when a new list is put in force the
// publish socket is opened anew, so a removed subscriber is cut off.
func TestKeyedServe(t *testing.T) {
	dir := t.TempDir()
	serverKeys, _ := keys.Generate(filepath.Join(dir, "server"))
	alice, _ := keys.Generate(filepath.Join(dir, "alice"))
	allow := filepath.Join(dir, "allow")
	os.WriteFile(allow, []byte("alice "+alice.Public+"\n"), 0o644)
	list, err := keys.ReadAllowList(allow)
	if err != nil {
		t.Fatal(err)
	}
	gate := transport.NewGate(list, func(string) {})
	post, _ := transport.BindEndpoint("127.0.0.1", "0")
	post.Curve = &transport.Curve{Pair: serverKeys, Gate: gate}
	pub := post
	log := servertest.NewLines()
	srv, err := servertest.Listen(post, &pub, server.Config{Mode: msg.MultiChannel, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	client := func(typ zmq.Type, ep transport.Endpoint) *zmq.Socket {
		s, _ := zmq.NewSocket(typ)
		t.Cleanup(func() { s.Close() })
		s.SetLinger(0)
		s.SetRcvtimeo(servertest.Wait)
		s.ClientAuthCurve(serverKeys.Public, alice.Public, alice.Secret)
		if typ == zmq.SUB {
			s.SetSubscribe("")
		}
		if err := s.Connect(ep.URL); err != nil {
			t.Fatal(err)
		}
		return s
	}
	req := client(zmq.REQ, srv.PostEndpoint())
	tm := time.Now().Format(time.RFC3339Nano)
	if r := roundTrip(t, req, "POST", "dev", "alice", tm, "mine"); len(r) != 1 || r[0] != "OK" {
		t.Errorf("alice as alice: %q", r)
	}
	if r := roundTrip(t, req, "POST", "dev", "bob", tm, "not mine"); len(r) != 2 || r[1] != "you cannot post as bob: your key is alice's" {
		t.Errorf("alice as bob: %q", r)
	}
	pubEP, _ := srv.PubEndpoint()
	sub := client(zmq.SUB, pubEP)
	subGone := disconnects(t, sub, "inproc://keyed-serve-sub")
	reqGone := disconnects(t, req, "inproc://keyed-serve-req")
	os.WriteFile(allow, []byte("# nobody\n"), 0o644)
	empty, _ := keys.ReadAllowList(allow)
	gate.Replace(empty)
	// The server is kept busy meanwhile (never idle for a receive timeout):
	// the new list is put in force all the same, and alice's connections
	// on both sockets are closed. (Her requests in between are refused:
	// TestHandleKeyedChecksTheOwner.)
	req.SetRcvtimeo(50 * time.Millisecond)
	deadline := time.Now().Add(servertest.Wait)
	for !subGone() || !reqGone() {
		req.SendMessage("POST", "dev", "alice", tm, "keeping it busy")
		req.RecvMessage(0) // refused, or no reply once closed
		if time.Now().After(deadline) {
			t.Fatal("after alice's key was removed, her connections were not closed while the server was busy")
		}
	}
	// A new connection of hers gets nothing at all.
	again := client(zmq.REQ, srv.PostEndpoint())
	again.SetRcvtimeo(500 * time.Millisecond)
	again.SendMessage("HISTORY", "dev", "10")
	if r, err := again.RecvMessage(0); err == nil {
		t.Errorf("a removed key's new connection was answered: %q", r)
	}
}

// disconnects watches s's monitor and returns a function that reports,
// without waiting, whether s's connection has been closed.
func disconnects(t *testing.T, s *zmq.Socket, addr string) func() bool {
	t.Helper()
	if err := s.Monitor(addr, zmq.EVENT_DISCONNECTED); err != nil {
		t.Fatal(err)
	}
	mon, _ := zmq.NewSocket(zmq.PAIR)
	t.Cleanup(func() { s.Monitor("", 0); mon.Close() })
	if err := mon.Connect(addr); err != nil {
		t.Fatal(err)
	}
	gone := false
	return func() bool {
		for !gone {
			ev, _, _, err := mon.RecvEvent(zmq.DONTWAIT)
			if err != nil {
				break
			}
			gone = ev == zmq.EVENT_DISCONNECTED
		}
		return gone
	}
}

// The server's last log line says how many messages it stored; the store's
// budget is passed on, and reaching it is said through Warn.
func TestServeSummaryAndBudget(t *testing.T) {
	post, _ := transport.BindEndpoint("127.0.0.1", "0")
	log := servertest.NewLines()
	var mu sync.Mutex
	var warned []string
	warn := func(s string) { mu.Lock(); warned = append(warned, s); mu.Unlock() }
	st, err := server.OpenStore(server.StoreOptions{Budget: 1}, warn)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := servertest.Listen(post, nil, server.Config{Store: st, Mode: msg.SingleRoom, Log: log, Name: "post_server", Warn: warn})
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, srv)
	postThree(t, srv)
	stop()
	log.WaitFor(t, "post_server: stopped; 1 message stored", 1) // a budget of 1 byte keeps the newest
	mu.Lock()
	defer mu.Unlock()
	if len(warned) != 1 || !strings.Contains(warned[0], "the messages reached their budget of 0 MiB") {
		t.Errorf("warned %q", warned)
	}
}

// Without a budget in its Config, a server keeps the store's default, not
// none; without Warn, a log that fails costs lines and nothing else.
func TestListenDefaults(t *testing.T) {
	post, _ := transport.BindEndpoint("127.0.0.1", "0")
	srv, err := servertest.Listen(post, nil, server.Config{Mode: msg.SingleRoom, Log: failingWriter{}})
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, srv)
	postThree(t, srv)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := srv.Store().Len(); n != 3 {
		t.Errorf("%d messages held, want all 3", n)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

// A long body's log line shows its start and its length, not 16 KB; a
// server whose log is /dev/null builds no log lines at all.
func TestLogShortensLongBodiesAndSkipsDevNull(t *testing.T) {
	s := servertest.Run(t, msg.MultiChannel)
	tm := time.Now().Format(time.RFC3339Nano)
	long := strings.Repeat("é", 8000) // 16,000 bytes
	if r := request(t, s.Post, "POST", "dev", "ann", tm, long); r[0] != "OK" {
		t.Fatalf("reply %q", r)
	}
	s.Log.WaitFor(t, "… (16000 bytes)", 1)
	all := s.Log.All()
	line := all[len(all)-1]
	if len(line) > 300 || !strings.Contains(line, "[dev] ann: "+strings.Repeat("é", 100)+"… (") {
		t.Errorf("log line of %d bytes: %.80q…", len(line), line)
	}

	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	ep, _ := transport.BindEndpoint("127.0.0.1", "0")
	srv, err := servertest.Listen(ep, nil, server.Config{Mode: msg.SingleRoom, Log: null, Name: "post_server"})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Logging() {
		t.Error("a server logging to /dev/null builds its log lines")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv.Serve(ctx)
}
