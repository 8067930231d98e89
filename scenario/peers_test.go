package scenario

import (
	"context"
	"net"
	"testing"
	"time"

	gozmq "github.com/go-zeromq/zmq4"
)

// A client on the pure-Go ZeroMQ implementation (ZMTP 3.0, which does not
// answer ZMTP 3.1 heartbeats) stays connected while idle, then posts, gets
// OK, and receives its own post: servers find dead peers with TCP
// keepalive, and send no PINGs that such a peer would not answer.
func TestNonLibzmqPeerStaysConnected(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	defer cancel()
	req := gozmq.NewReq(ctx)
	defer req.Close()
	sub := gozmq.NewSub(ctx)
	defer sub.Close()
	for _, d := range []struct {
		sock gozmq.Socket
		port string
	}{{req, s.post}, {sub, s.pub}} {
		if err := d.sock.Dial("tcp://" + net.JoinHostPort(s.host, d.port)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sub.SetOption(gozmq.OptionSubscribe, "dev"); err != nil {
		t.Fatal(err)
	}
	// Idle for longer than libzmq's heartbeat timeout (the servers dropped
	// such a peer after about 4 s): a measured wait, not a hope.
	<-time.After(10 * time.Second)

	got := make(chan []string, 1)
	go func() {
		m, err := sub.Recv()
		for err == nil && len(m.Frames) == 1 { // the server's welcome: this zmq4 does not filter it
			m, err = sub.Recv()
		}
		if err != nil {
			return
		}
		frames := make([]string, len(m.Frames))
		for i, f := range m.Frames {
			frames[i] = string(f)
		}
		got <- frames
	}()
	frames := post("dev", "gopher", "hello from a pure-Go peer")
	msg := make([][]byte, len(frames))
	for i, f := range frames {
		msg[i] = []byte(f)
	}
	if err := req.Send(gozmq.NewMsgFrom(msg...)); err != nil {
		t.Fatalf("send after idling: %v", err)
	}
	reply, err := req.Recv()
	if err != nil || len(reply.Frames) != 1 || string(reply.Frames[0]) != "OK" {
		t.Fatalf("reply after idling: %q, %v; want OK", reply.Frames, err)
	}
	select {
	case f := <-got:
		if len(f) != 5 || f[0] != "dev" || f[1] != "gopher" || f[3] != "hello from a pure-Go peer" {
			t.Errorf("received %q", f)
		}
	case <-time.After(wait):
		t.Fatal("the pure-Go subscriber never received its post")
	}
}
