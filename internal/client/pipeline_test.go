package client

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server/servertest"
)

// drain polls p until nothing is in flight, collecting the results.
func drain(t *testing.T, p *Pipeline) []Result {
	t.Helper()
	var got []Result
	deadline := time.Now().Add(servertest.Wait)
	for p.InFlight() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d posts still in flight", p.InFlight())
		}
		if err := p.Poll(10*time.Millisecond, func(r Result) { got = append(got, r) }); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// A pipeline keeps its window full and hands each post's end over in the
// order sent: stored ones OK, refused ones with the server's reason.
func TestPipelinePostsInOrderWithTheirReplies(t *testing.T) {
	s := servertest.Run(t, msg.MultiChannel)
	p, err := NewPipeline(s.Post, Options{Timeout: servertest.Wait}, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var got []Result
	for i := 0; i < 100; i++ {
		ch := "dev"
		if i%10 == 9 {
			ch = "ALL" // refused: read-only
		}
		for p.Full() {
			p.Poll(10*time.Millisecond, func(r Result) { got = append(got, r) })
		}
		if err := p.Send(msg.Message{Channel: ch, Username: "ann", Time: time.Now(), Body: fmt.Sprint("m", i)}); err != nil {
			t.Fatal(err)
		}
		if p.InFlight() > 8 {
			t.Fatalf("%d in flight, window 8", p.InFlight())
		}
	}
	got = append(got, drain(t, p)...)
	if len(got) != 100 {
		t.Fatalf("%d results, want 100", len(got))
	}
	for i, r := range got {
		if r.M.Body != fmt.Sprint("m", i) {
			t.Fatalf("result %d is for %q: out of order", i, r.M.Body)
		}
		refused := i%10 == 9
		if refused != (r.Err != nil) || refused && !strings.Contains(r.Err.Error(), "read-only") {
			t.Errorf("post %d: %v", i, r.Err)
		}
	}
	if n := s.Store().Len(); n != 90 {
		t.Errorf("stored %d, want 90", n)
	}
}

// Without retries a post that gets no reply ends at its timeout, and the
// reason says no more attempts than there were.
func TestPipelineWithoutRetries(t *testing.T) {
	f := newFakeServer(t) // answers nothing
	p, err := NewPipeline(f.ep, Options{Timeout: 200 * time.Millisecond}, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Send(msg.Message{Username: "ann", Time: time.Now(), Body: "hi"})
	f.receive(t)
	got := drain(t, p)
	if len(got) != 1 || !strings.HasSuffix(fmt.Sprint(got[0].Err), "within 200ms: is the server running?") {
		t.Errorf("results %v", got)
	}
}

// When replies stop, what is in flight is resent on a new socket, the same
// frames; past the retries each post ends with ErrNoReply.
func TestPipelineResendsThenGivesUp(t *testing.T) {
	f := newFakeServer(t)
	p, err := NewPipeline(f.ep, Options{Timeout: 300 * time.Millisecond, Retries: 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 3; i++ {
		p.Send(msg.Message{Username: "ann", Time: time.Now(), Body: fmt.Sprint("m", i)})
	}
	var first, second []string
	var ids []string
	for i := 0; i < 3; i++ {
		id, fr := f.receive(t)
		ids = append(ids, id)
		first = append(first, fmt.Sprint(fr))
	}
	results := make(chan []Result, 1)
	go func() { // the fake server is read meanwhile, in the test's goroutine
		var got []Result
		for deadline := time.Now().Add(servertest.Wait); p.InFlight() > 0 && time.Now().Before(deadline); {
			if p.Poll(10*time.Millisecond, func(r Result) { got = append(got, r) }) != nil {
				break
			}
		}
		results <- got
	}()
	for i := 0; i < 3; i++ {
		id, fr := f.receive(t)
		if id == ids[0] {
			t.Error("resent on the same connection")
		}
		second = append(second, fmt.Sprint(fr))
	}
	got := <-results
	if strings.Join(first, "|") != strings.Join(second, "|") {
		t.Errorf("resent frames differ:\n%q\n%q", first, second)
	}
	if len(got) != 3 {
		t.Fatalf("%d results, want 3", len(got))
	}
	for i, r := range got {
		if r.M.Body != fmt.Sprint("m", i) || !strings.Contains(fmt.Sprint(r.Err), "(2 attempts): is the server running?") {
			t.Errorf("result %d: %q, %v", i, r.M.Body, r.Err)
		}
	}
}
