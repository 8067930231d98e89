package client

import (
	"strings"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

func said(body string, sec int64) msg.Message {
	return msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(sec, 0), Body: body}
}

// Live messages that come while the history is awaited wait for it; those
// the history has are shown once; the rest follow in the order they came.
func TestJoinMergesHistoryAndLive(t *testing.T) {
	var shown []string
	live := func(m msg.Message) { shown = append(shown, m.Body) }
	history := func(ms []msg.Message) {
		shown = append(shown, "[")
		for _, m := range ms {
			shown = append(shown, m.Body)
		}
		shown = append(shown, "]")
	}
	j := NewJoin(live, history, true)
	select {
	case <-j.Up():
		t.Fatal("up before subscribed")
	default:
	}
	j.Subscribed()
	j.Subscribed() // a reconnection changes nothing
	<-j.Up()
	j.Live(said("c", 3)) // published after the history was read: in both
	j.Live(said("d", 4))
	if len(shown) != 0 {
		t.Fatalf("shown before the history: %v", shown)
	}
	j.History([]msg.Message{said("a", 1), said("b", 2), said("c", 3)})
	if len(shown) != 0 {
		t.Fatalf("shown from the fetching goroutine: %v", shown)
	}
	j.Idle() // the subscribing goroutine shows it
	j.Live(said("e", 5))
	j.Live(said("b", 2)) // a late copy of a history message
	j.Live(said("b", 2)) // but a second one is a new message
	j.History([]msg.Message{said("z", 9)})
	j.Idle()
	if got := strings.Join(shown, " "); got != "[ a b c ] d e b" {
		t.Errorf("shown %q, want %q", got, "[ a b c ] d e b")
	}
}

// Without history, live messages are shown as they come; with history
// that could not be had (nil), the held ones are shown then.
func TestJoinWithoutHistory(t *testing.T) {
	var shown []string
	live := func(m msg.Message) { shown = append(shown, m.Body) }
	none := func([]msg.Message) { t.Fatal("history shown") }
	NewJoin(live, none, false).Live(said("x", 1))
	j := NewJoin(live, none, true)
	j.Live(said("y", 2))
	j.History(nil)
	j.Live(said("z", 3))
	if got := strings.Join(shown, " "); got != "x y z" {
		t.Errorf("shown %q", got)
	}
	// Held messages are bounded: past maxHeld the oldest go out at once.
	shown = nil
	j = NewJoin(live, none, true)
	for i := 0; i < maxHeld+2; i++ {
		j.Live(said("h", int64(i)))
	}
	if len(shown) != 2 || len(j.held) != maxHeld {
		t.Errorf("shown %d, held %d; want 2, %d", len(shown), len(j.held), maxHeld)
	}
}
