package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/keys"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server/servertest"
	"github.com/zmqchat/zmqchat/internal/transport"
)

func newPoster(t *testing.T, ep transport.Endpoint, o Options) *Poster {
	t.Helper()
	p, err := NewPoster(ep, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestPostIsStoredAndRefusalsCarryTheReason(t *testing.T) {
	s := servertest.Run(t, msg.MultiChannel)
	p := newPoster(t, s.Post, Options{Timeout: servertest.Wait})
	if err := p.Post(context.Background(), msg.Message{Channel: "dev", Username: "ann", Time: time.Now(), Body: "hi"}); err != nil {
		t.Fatalf("post: %v", err)
	}
	s.Log.WaitFor(t, "[dev] ann: hi (", 1)
	err := p.Post(context.Background(), msg.Message{Channel: "ALL", Username: "ann", Time: time.Now(), Body: "hi"})
	if !msg.IsInvalid(err) || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("post to ALL: %v, want the server's read-only reason", err)
	}
	// The same socket goes on working after an ERR.
	if err := p.Post(context.Background(), msg.Message{Channel: "dev", Username: "ann", Time: time.Now(), Body: "again"}); err != nil {
		t.Fatalf("post after ERR: %v", err)
	}
}

// fakeServer is a ROUTER socket standing in for a server that can leave a
// request unanswered, as a server that died mid-request does.
type fakeServer struct {
	sock *zmq.Socket
	ep   transport.Endpoint
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	sock, err := zmq.NewSocket(zmq.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	sock.SetLinger(0)
	if err := sock.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	url, _ := sock.GetLastEndpoint()
	t.Cleanup(func() { sock.Close() })
	return &fakeServer{sock: sock, ep: transport.Endpoint{URL: url}}
}

// receive returns the next request: the peer's routing id and the frames.
func (f *fakeServer) receive(t *testing.T) (id string, frames []string) {
	t.Helper()
	f.sock.SetRcvtimeo(servertest.Wait)
	msg, err := f.sock.RecvMessage(0)
	if err != nil {
		t.Fatalf("fake server: no request: %v", err)
	}
	return msg[0], msg[2:] // id, empty delimiter, frames
}

func (f *fakeServer) reply(t *testing.T, id string, frames ...string) {
	t.Helper()
	if _, err := f.sock.SendMessage(append([]string{id, ""}, frames...)); err != nil {
		t.Fatal(err)
	}
}

// A post whose reply is lost is resent byte for byte (the time is not
// stamped again, or the server could not tell a resend), and on a new
// socket, since a REQ socket that missed its reply cannot send again.
func TestPostResendsTheSameFramesOnANewSocket(t *testing.T) {
	f := newFakeServer(t)
	p := newPoster(t, f.ep, Options{Timeout: 500 * time.Millisecond, Retries: 1})
	m := msg.Message{Username: "ann", Time: time.Now(), Body: "hello"}
	done := make(chan error, 1)
	go func() { done <- p.Post(context.Background(), m) }()

	id1, first := f.receive(t) // left unanswered
	id2, second := f.receive(t)
	f.reply(t, id2, "OK")
	if err := <-done; err != nil {
		t.Fatalf("post: %v", err)
	}
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("the resend differs:\n first %q\nsecond %q", first, second)
	}
	if id1 == id2 {
		t.Errorf("the resend came on the same connection (%q): the REQ socket was not rebuilt", id1)
	}
}

func TestPostGivesUpAfterItsRetries(t *testing.T) {
	f := newFakeServer(t) // answers nothing
	for _, tt := range []struct {
		retries int
		want    string
	}{
		{0, "within 300ms: is the server running?"},
		{1, "within 300ms (2 attempts): is the server running?"},
	} {
		p := newPoster(t, f.ep, Options{Timeout: 300 * time.Millisecond, Retries: tt.retries})
		err := p.Post(context.Background(), msg.Message{Username: "ann", Time: time.Now(), Body: "hi"})
		if !errors.Is(err, ErrNoReply) || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("retries %d: %v, want ErrNoReply ending %q", tt.retries, err, tt.want)
		}
		for i := 0; i <= tt.retries; i++ {
			f.receive(t) // every attempt reached the server
		}
	}
}

// A request on a socket that has no connection to send on gives up within
// its timeout: libzmq's own send would wait for ever. Two ways to have
// none: every endpoint down under ZMQ_IMMEDIATE (a client given -also),
// and a keyed server that refused the key (libzmq then drops the
// connection's pipe, most times: the test waits for a Poster that got
// there).
func TestPostGivesUpWhenNoConnectionTakesIt(t *testing.T) {
	down := transport.Endpoint{URL: "tcp://127.0.0.1:" + freePort(t), Also: []string{"tcp://127.0.0.1:" + freePort(t)}}
	p := newPoster(t, down, Options{Timeout: 300 * time.Millisecond})
	if err := postWithin(p, servertest.Wait); !errors.Is(err, ErrNoReply) {
		t.Errorf("a post with every endpoint down: %v, want ErrNoReply", err)
	}
	refused := refusingServer(t)
	for attempt := 1; ; attempt++ {
		p := newPoster(t, refused, Options{Timeout: 300 * time.Millisecond})
		if !pipeDropped(t, p) {
			if attempt == 20 {
				t.Fatal("in 20 attempts, libzmq never dropped a refused connection's pipe")
			}
			continue
		}
		if err := postWithin(p, servertest.Wait); !errors.Is(err, ErrNoReply) {
			t.Errorf("a post after the key was refused: %v, want ErrNoReply", err)
		}
		return
	}
}

// pipeDropped waits for p's handshake to be refused, then up to a second
// for its socket to have no connection to send on.
func pipeDropped(t *testing.T, p *Poster) bool {
	t.Helper()
	p.mon.SetRcvtimeo(servertest.Wait)
	if ev, _, _, err := p.mon.RecvEvent(0); err != nil || ev&handshakeFailed == 0 {
		t.Fatalf("no refused handshake: %v %v", ev, err)
	}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if ev, err := p.sock.GetEvents(); err == nil && ev&zmq.POLLOUT == 0 {
			return true
		}
	}
	return false
}

// postWithin posts with p, and returns its error, or one saying it had
// not returned within d.
func postWithin(p *Poster, d time.Duration) error {
	done := make(chan error, 1)
	go func() {
		done <- p.Post(context.Background(), msg.Message{Username: "ann", Time: time.Now(), Body: "hi"})
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("the post waited past %s", d)
	}
}

// freePort returns a port nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// refusingServer listens in keyed mode, with an allow-list of one key, and
// returns an endpoint to it with another key: one it refuses.
func refusingServer(t *testing.T) transport.Endpoint {
	t.Helper()
	dir := t.TempDir()
	server, err1 := keys.Generate(filepath.Join(dir, "server"))
	listed, err2 := keys.Generate(filepath.Join(dir, "listed"))
	eve, err3 := keys.Generate(filepath.Join(dir, "eve"))
	err4 := os.WriteFile(filepath.Join(dir, "allow"), []byte("ann "+listed.Public+"\n"), 0o644)
	list, err5 := keys.ReadAllowList(filepath.Join(dir, "allow"))
	if err := errors.Join(err1, err2, err3, err4, err5, transport.StartAuth()); err != nil {
		t.Fatal(err)
	}
	ep := transport.Endpoint{URL: "tcp://127.0.0.1:*"}
	ep.Curve = &transport.Curve{Pair: server, Gate: transport.NewGate(list, func(string) {})}
	l, err := transport.Listen(zmq.ROUTER, ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return transport.Endpoint{URL: l.At.URL, Curve: &transport.Curve{Pair: eve, Server: server.Public}}
}

// Cancelling a post that waits for its reply ends it promptly, well before
// its timeout.
func TestPostStopsWhenCancelled(t *testing.T) {
	f := newFakeServer(t)
	p := newPoster(t, f.ep, Options{Timeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Post(ctx, msg.Message{Username: "ann", Time: time.Now(), Body: "hi"}) }()
	f.receive(t)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled post: %v, want context.Canceled", err)
		}
	case <-time.After(servertest.Wait):
		t.Fatal("a cancelled post went on waiting")
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, o := range []Options{{Timeout: 0}, {Timeout: -time.Second}, {Timeout: time.Second, Retries: -1}} {
		if o.Check() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if err := (Options{Timeout: time.Millisecond}).Check(); err != nil {
		t.Errorf("1ms, 0 retries refused: %v", err)
	}
}

// subscription runs Subscribe in the background and collects what it hands
// over.
type subscription struct {
	delivered chan msg.Message
	malformed chan error
	up        chan bool
	done      chan error
}

func subscribe(t *testing.T, ep transport.Endpoint, sub Subscription) *subscription {
	t.Helper()
	s := &subscription{delivered: make(chan msg.Message, 100), malformed: make(chan error, 100), up: make(chan bool, 100), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		s.done <- Subscribe(ctx, ep, sub, Handlers{
			Deliver:    func(m msg.Message) { s.delivered <- m },
			Malformed:  func(err error) { s.malformed <- err },
			Connection: func(up bool) { s.up <- up },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("Subscribe: %v", err)
		}
	})
	return s
}

func (s *subscription) waitUp(t *testing.T, want bool) {
	t.Helper()
	select {
	case up := <-s.up:
		if up != want {
			t.Fatalf("connection report %v, want %v", up, want)
		}
	case <-time.After(servertest.Wait):
		t.Fatalf("no connection report (want %v) within %s", want, servertest.Wait)
	}
}

// A subscriber to dev gets dev and never devops, though ZeroMQ's prefix
// match brings both to its socket; one on ALL gets both.
func TestSubscriberMatchesTheChannelExactly(t *testing.T) {
	s := servertest.Run(t, msg.MultiChannel)
	dev := subscribe(t, s.Pub, Subscription{Channel: "dev"})
	all := subscribe(t, s.Pub, Subscription{All: true})
	dev.waitUp(t, true)
	all.waitUp(t, true)
	p := newPoster(t, s.Post, Options{Timeout: servertest.Wait})
	// Probes until both subscriptions have reached the server: what is
	// published before that is not delivered (the slow joiner).
	deadline := time.After(servertest.Wait)
	for allSeen, devSeen := false, false; !allSeen || !devSeen; {
		p.Post(context.Background(), msg.Message{Channel: "dev", Username: "probe", Time: time.Now(), Body: "probe"})
		select {
		case <-all.delivered:
			allSeen = true
		case <-dev.delivered:
			devSeen = true
		case <-time.After(20 * time.Millisecond): // then probe again
		case <-deadline:
			t.Fatal("no probe arrived")
		}
	}
	for _, ch := range []string{"devops", "dev"} {
		if err := p.Post(context.Background(), msg.Message{Channel: ch, Username: "ann", Time: time.Now(), Body: "on " + ch}); err != nil {
			t.Fatal(err)
		}
	}
	got := func(s *subscription, want int) []string {
		var bodies []string
		for len(bodies) < want {
			select {
			case m := <-s.delivered:
				if m.Username == "ann" {
					bodies = append(bodies, m.Channel+":"+m.Body)
				}
			case <-time.After(servertest.Wait):
				t.Fatalf("got %q, want %d messages", bodies, want)
			}
		}
		return bodies
	}
	if b := got(all, 2); fmt.Sprint(b) != "[devops:on devops dev:on dev]" {
		t.Errorf("ALL got %q", b)
	}
	// devops was published first, so had it got through it would be first.
	if b := got(dev, 1); fmt.Sprint(b) != "[dev:on dev]" {
		t.Errorf("dev got %q", b)
	}
}

// A publication that is not five frames, or has a bad time, is reported
// and dropped; the next good one still arrives.
func TestSubscriberReportsMalformedPublicationsAndLostConnections(t *testing.T) {
	pub, err := zmq.NewSocket(zmq.PUB)
	if err != nil {
		t.Fatal(err)
	}
	pub.SetLinger(0)
	if err := pub.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	url, _ := pub.GetLastEndpoint()
	s := subscribe(t, transport.Endpoint{URL: url}, Subscription{All: true})
	s.waitUp(t, true)
	now := time.Now().Format(time.RFC3339Nano)
	for len(s.delivered) == 0 { // until the subscription has arrived
		pub.SendMessage("", "ann", "noon", "bad time")
		pub.SendMessage("", "ann", "three frames")
		pub.SendMessage("", "ann", now, "good")
		select {
		case m := <-s.delivered:
			s.delivered <- m
		case <-time.After(20 * time.Millisecond):
		}
	}
	if m := <-s.delivered; m.Body != "good" {
		t.Errorf("delivered %+v", m)
	}
	var reasons []string
	for len(reasons) < 2 {
		select {
		case err := <-s.malformed:
			reasons = append(reasons, err.Error())
		case <-time.After(servertest.Wait):
			t.Fatalf("malformed reports: %q, want 2", reasons)
		}
	}
	joined := strings.Join(reasons, "\n")
	if !strings.Contains(joined, "dropped a malformed publication") || !strings.Contains(joined, "3 frames") || !strings.Contains(joined, "RFC 3339") {
		t.Errorf("malformed reports:\n%s", joined)
	}
	pub.Close()
	s.waitUp(t, false)
}

func TestReportConnection(t *testing.T) {
	var said []string
	report := ReportConnection(transport.Endpoint{URL: "tcp://127.0.0.1:1"}, func(s string) { said = append(said, s) })
	for _, up := range []bool{false, true, true, false, false, true} {
		report(up)
	}
	want := []string{
		"connected to tcp://127.0.0.1:1",
		"lost the connection to tcp://127.0.0.1:1; waiting for the server to come back",
		"connected to tcp://127.0.0.1:1",
	}
	if fmt.Sprint(said) != fmt.Sprint(want) {
		t.Errorf("said %q, want %q", said, want)
	}
}

// Every start-up reports the connection: the monitor is attached before
// the socket connects, so the first event cannot slip past it. Fifty start
// at once, twice over, since a busy machine is where the event came first.
func TestSubscriberNeverMissesItsFirstConnection(t *testing.T) {
	s := servertest.Run(t, msg.SingleRoom)
	for round := 0; round < 2; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		up := make(chan bool, 200)
		done := make(chan error, 50)
		for i := 0; i < 50; i++ {
			go func() {
				done <- Subscribe(ctx, s.Pub, Subscription{All: true}, Handlers{
					Deliver:    func(msg.Message) {},
					Connection: func(u bool) { up <- u },
				})
			}()
		}
		deadline := time.After(servertest.Wait)
		for n := 0; n < 50; n++ {
			select {
			case u := <-up:
				if !u {
					t.Fatalf("a first report is a loss")
				}
			case <-deadline:
				t.Fatalf("round %d: %d of 50 subscribers reported their connection", round, n)
			}
		}
		cancel()
		for i := 0; i < 50; i++ {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Only Deliver is required: a subscriber without the other handlers (no
// monitor, no malformed reports) delivers all the same.
func TestSubscriberWithOnlyDeliver(t *testing.T) {
	s := servertest.Run(t, msg.SingleRoom)
	delivered := make(chan msg.Message, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Subscribe(ctx, s.Pub, Subscription{All: true}, Handlers{Deliver: func(m msg.Message) { delivered <- m }})
	}()
	p := newPoster(t, s.Post, Options{Timeout: servertest.Wait})
	deadline := time.After(servertest.Wait)
	for got := false; !got; {
		p.Post(context.Background(), msg.Message{Username: "ann", Time: time.Now(), Body: "hi"})
		select {
		case <-delivered:
			got = true
		case <-time.After(20 * time.Millisecond): // then post again
		case <-deadline:
			t.Fatal("nothing delivered")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
