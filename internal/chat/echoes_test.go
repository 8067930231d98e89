package chat

import (
	"context"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

func said(body string, sec int64) msg.Message {
	return msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(sec, 0), Body: body}
}

// The posts awaited back are bounded: with the subscription down none
// comes back, and the count stops growing instead of holding every line.
func TestEchoesAreBounded(t *testing.T) {
	e := newEchoes()
	for i := 0; i < maxExpected+10; i++ {
		e.expect(said("x", int64(i)))
	}
	if len(e.expected) != maxExpected {
		t.Errorf("%d awaited, want the bound %d", len(e.expected), maxExpected)
	}
	if !e.take(said("x", 0)) || len(e.expected) != maxExpected-1 {
		t.Errorf("an echo did not count: %d awaited", len(e.expected))
	}
}

// A message this client did not post is not its own, even under its own
// name (another client named ann, in open mode); its own is, once per post.
func TestEchoesAreOnlyWhatThisClientPosted(t *testing.T) {
	e := newEchoes()
	e.expect(said("mine", 1))
	if e.take(said("theirs", 2)) || len(e.expected) != 1 {
		t.Fatalf("someone else's message taken for an echo; awaiting %d", len(e.expected))
	}
	if !e.take(said("mine", 1)) || e.take(said("mine", 1)) {
		t.Error("want the echo taken once")
	}
	e.expect(said("failed", 3))
	e.forget(said("failed", 3))
	if len(e.expected) != 0 {
		t.Errorf("awaiting %d after a failed post was forgotten, want 0", len(e.expected))
	}
}

// await returns once every post is back, or at its deadline.
func TestEchoesAwait(t *testing.T) {
	e := newEchoes()
	e.expect(said("a", 1))
	go e.take(said("a", 1))
	done := make(chan struct{})
	go func() { e.await(context.Background(), time.Minute); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("await went on after the echo came back")
	}
	e.expect(said("b", 2))
	start := time.Now()
	e.await(context.Background(), 10*time.Millisecond)
	if time.Since(start) > 5*time.Second {
		t.Error("await did not stop at its deadline")
	}
}
