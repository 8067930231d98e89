package scenario

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// A flood of 16 KB posts from a few sockets, each keeping 16 in flight,
// does not crowd out a person: the server takes one request from each
// connection in turn (libzmq's fair queueing), so a post typed at a
// normal pace is answered within a few of the flood's, well under half a
// second. The flood is bounded in count and time and stops by itself.
func TestFloodLeavesAPersonTheirShare(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	const flooders, inFlight = 4, 16
	body := strings.Repeat("f", 16000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent [flooders]int
	for f := 0; f < flooders; f++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := zmq.NewSocket(zmq.DEALER)
			if err != nil {
				t.Error(err)
				return
			}
			defer d.Close()
			d.SetLinger(0)
			d.SetRcvtimeo(wait)
			d.Connect("tcp://" + net.JoinHostPort(s.host, s.post))
			send := func(i int) error {
				_, err := d.SendMessage("", post("flood", fmt.Sprint("flooder", f), fmt.Sprint(i, body)))
				return err
			}
			n := 0
			for ; n < inFlight; n++ {
				send(n)
			}
			deadline := time.After(20 * time.Second) // a bound, should stop never come
			for {
				select {
				case <-stop:
					sent[f] = n
					return
				case <-deadline:
					return
				default:
				}
				if _, err := d.RecvMessage(0); err != nil {
					return
				}
				if n < 20000 {
					send(n)
					n++
				}
			}
		}()
	}
	// The person: a post every 100 ms, ten of them, each timed.
	req := dialPost(t, s, wait)
	defer req.Close()
	var slowest time.Duration
	for i := 0; i < 10; i++ {
		<-time.After(100 * time.Millisecond) // the pace of a person, not a wait for something
		t0 := time.Now()
		mustReply(t, req, fmt.Sprint("typed ", i))
		slowest = max(slowest, time.Since(t0))
	}
	close(stop)
	wg.Wait()
	total := 0
	for _, n := range sent {
		total += n
	}
	t.Logf("the flood sent %d posts of 16 KB; the person's slowest reply took %s", total, slowest)
	if total < flooders*inFlight*2 {
		t.Fatalf("the flood sent only %d posts: it did not flood", total)
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("under the flood a person's post took %s to be answered, want well under 500ms", slowest)
	}
	s.signal(syscall.SIGTERM)
	s.wait()
}
