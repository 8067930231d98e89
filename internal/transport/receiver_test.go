package transport

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// receiving returns a ROUTER on a free loopback port and its Receiver,
// both closed when the test ends.
func receiving(t *testing.T) (*Listener, *Receiver) {
	ep, _ := BindEndpoint("127.0.0.1", "0")
	return receivingOn(t, ep)
}

// receivingOn is receiving, on ep (keyed, say).
func receivingOn(t *testing.T, ep Endpoint) (*Listener, *Receiver) {
	t.Helper()
	router, err := Listen(zmq.ROUTER, ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { router.Close() })
	r, err := NewReceiver(router.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close) // before the socket's
	return router, r
}

// dealerTo connects a DEALER to router, closed before it; both wait up
// to 5 s to receive.
func dealerTo(t *testing.T, router *Listener) *zmq.Socket {
	t.Helper()
	dealer, err := DialDealer(Endpoint{URL: router.At.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dealer.Close() })
	router.SetRcvtimeo(5 * time.Second)
	dealer.SetRcvtimeo(5 * time.Second)
	return dealer
}

// A Receiver takes whole messages, empty frames and large ones as they
// were sent, with the peer's descriptor; drops a message of too many
// frames and goes on; gives up when the socket's timeout says; and once
// warm allocates nothing.
func TestReceiver(t *testing.T) {
	router, r := receiving(t)
	dealer := dealerTo(t, router)

	big := strings.Repeat("x", 20000)
	dealer.SendMessage("", "POST", "dev", "", big)
	frames, peer, err := r.Receive()
	if err != nil || len(frames) != 6 || len(frames[0]) == 0 || len(frames[1]) != 0 || string(frames[2]) != "POST" ||
		string(frames[3]) != "dev" || len(frames[4]) != 0 || string(frames[5]) != big || peer.FD < 0 || peer.User != "" {
		t.Fatalf("Receive: %d frames, %+v, %v", len(frames), peer, err)
	}
	many := make([]string, 40)
	dealer.SendMessage("", many)
	dealer.SendMessage("", "after")
	if _, _, err := r.Receive(); !errors.Is(err, ErrTooManyFrames) {
		t.Errorf("a message of 41 frames: %v", err)
	}
	if frames, _, err := r.Receive(); err != nil || string(frames[len(frames)-1]) != "after" {
		t.Errorf("the message after it: %q, %v", frames, err)
	}
	router.SetRcvtimeo(50 * time.Millisecond)
	if _, _, err := r.Receive(); zmq.AsErrno(err) != zmq.Errno(syscall.EAGAIN) {
		t.Errorf("nothing to receive: %v, want EAGAIN", err)
	}
	router.SetRcvtimeo(5 * time.Second)
	for range 101 {
		dealer.SendMessage("", "POST", "dev", "ann", "2026-12-06T07:00:00Z", "hello")
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := r.Receive(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Receive allocates %.1f times a message", n)
	}
}

// A Receiver sends its replies on its own socket, the envelope first and
// an empty frame among them, with no allocation.
func TestReceiverSendsRepliesWithoutAllocating(t *testing.T) {
	router, r := receiving(t)
	dealer := dealerTo(t, router)
	dealer.SendMessage("", "POST")
	frames, _, err := r.Receive()
	if err != nil || len(frames) != 3 {
		t.Fatalf("Receive: %q, %v", frames, err)
	}
	envelope, reply := frames[:2], [][]byte{[]byte("OK"), {}}
	if err := r.Send(envelope, reply); err != nil {
		t.Fatal(err)
	}
	if got, err := dealer.RecvMessage(0); err != nil || len(got) != 3 || got[0] != "" || got[1] != "OK" || got[2] != "" {
		t.Fatalf("the dealer got %q, %v", got, err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := r.Send(envelope, reply); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Send allocates %.1f times a reply", n)
	}
}

// libzmq gives EINTR when a signal comes in the middle of a call, even
// between the frames of a message: the Receiver and the Publisher retry,
// as zmq4 does, while signals rain on the process (SIGURG, which Go
// itself sends threads to preempt them).
func TestReceiverAndPublisherRideOutSignals(t *testing.T) {
	router, r := receiving(t)
	pub, err := Listen(zmq.PUB, Endpoint{URL: "tcp://127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	p, err := NewPublisher(pub.Socket)
	if err != nil {
		t.Fatal(err)
	}
	router.SetRcvtimeo(5 * time.Second)

	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				syscall.Kill(syscall.Getpid(), syscall.SIGURG)
			}
		}
	}()
	const n = 20000
	sent := make(chan error, 1)
	go func() { // the dealer's own goroutine
		dealer, err := DialDealer(Endpoint{URL: router.At.URL}, nil)
		if err != nil {
			sent <- err
			return
		}
		defer dealer.Close()
		dealer.SetSndtimeo(time.Second) // past a failure, nobody receives
		for range n {
			dealer.SendMessage("", "POST", "dev", "ann", "2026-12-06T07:00:00Z", "hello")
		}
		<-stop
		sent <- nil
	}()
	defer func() {
		close(stop)
		if err := <-sent; err != nil {
			t.Error(err)
		}
	}()
	frame := [][]byte{[]byte("dev"), []byte("hello")}
	for i := range n {
		frames, _, err := r.Receive()
		if err != nil || len(frames) != 7 || string(frames[6]) != "hello" {
			t.Fatalf("message %d: %d frames, %v", i, len(frames), err)
		}
		if err := p.Send(frame); err != nil {
			t.Fatalf("publication %d: %v", i, err)
		}
	}
}

// A client that comes back with the routing id of a connection the server
// still holds (a keyed client after a cut, its id its key's) is served:
// the ROUTER hands the id over.
func TestRouterHandsARoutingIDOver(t *testing.T) {
	router, r := receiving(t)
	router.SetRcvtimeo(2 * time.Second)
	for i, text := range []string{"first", "back again"} {
		d, err := DialDealer(Endpoint{URL: router.At.URL}, func(s *zmq.Socket) error { return s.SetIdentity("alice-key 1234") })
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close() // the first stays connected
		d.SetRcvtimeo(2 * time.Second)
		d.SendMessage("", text)
		frames, _, err := r.Receive()
		if err != nil || string(frames[0]) != "alice-key 1234" || string(frames[2]) != text {
			t.Fatalf("connection %d: %q, %v", i+1, frames, err)
		}
		router.SendMessage(frames[0], "", "OK "+text)
		if reply, err := d.RecvMessage(0); err != nil || reply[1] != "OK "+text {
			t.Fatalf("connection %d: reply %q, %v", i+1, reply, err)
		}
	}
}
