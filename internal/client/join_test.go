package client

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// numbered is message n of the server numbered numbering, in channel dev
// (its nth there, and among all).
func numbered(numbering string, n uint64) msg.Message {
	return msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(int64(n), 0), Body: strconv.FormatUint(n, 10),
		Number: msg.Number{Numbering: numbering, Seq: n, All: n}}
}

// joined returns a Join of channel dev that records what it shows and
// says in shown, its fetches answered by the test.
func joined(recent int, shown *[]string) *Join {
	return NewJoin(joinConfig(recent, shown))
}

func joinConfig(recent int, shown *[]string) JoinConfig {
	return JoinConfig{
		Live: func(m msg.Message) { *shown = append(*shown, m.Body) },
		History: func(ms []msg.Message) {
			*shown = append(*shown, "[")
			for _, m := range ms {
				*shown = append(*shown, m.Body)
			}
			*shown = append(*shown, "]")
		},
		Warn:    func(s string) { *shown = append(*shown, "!"+s) },
		Channel: "dev", Recent: recent,
	}
}

// answers the ask that is out with ms, as Serve would, and has the
// subscribing goroutine take it.
func answers(t *testing.T, j *Join, ms ...msg.Message) ask {
	t.Helper()
	var a ask
	select {
	case a = <-j.asks:
	default:
		t.Fatal("no ask out")
	}
	j.answers <- answer{ask: a, ms: ms}
	j.Idle()
	return a
}

// Live messages that come while the history is awaited wait for it; those
// the history has are dropped by their numbers; the rest follow in order.
func TestJoinMergesHistoryAndLive(t *testing.T) {
	var shown []string
	j := joined(3, &shown)
	j.Live(numbered("A", 3)) // published after the history was read: in both
	j.Live(numbered("A", 4))
	if len(shown) != 0 {
		t.Fatalf("shown before the history: %v", shown)
	}
	if a := answers(t, j, numbered("A", 1), numbered("A", 2), numbered("A", 3)); a.recent != 3 {
		t.Fatalf("asked %+v, want the 3 most recent", a)
	}
	j.Live(numbered("A", 5))
	j.Live(numbered("A", 2)) // a late copy
	j.Live(numbered("A", 5))
	if got := strings.Join(shown, " "); got != "[ 1 2 3 ] 4 5" {
		t.Errorf("shown %q, want %q", got, "[ 1 2 3 ] 4 5")
	}
}

// A jump in the numbers holds what came and fetches what was missed, which
// is shown first; what the server no longer keeps is said, with its count.
func TestJoinRepairsGaps(t *testing.T) {
	var shown []string
	j := joined(0, &shown)
	j.Live(numbered("A", 1))
	j.Live(numbered("A", 4))
	j.Live(numbered("A", 5))
	if a := answers(t, j, numbered("A", 2), numbered("A", 3), numbered("A", 4)); a.after.Seq != 1 || a.after.Numbering != "A" {
		t.Fatalf("asked %+v, want what came after 1", a)
	}
	j.Live(numbered("A", 9))
	answers(t, j, numbered("A", 8), numbered("A", 9)) // 6 and 7 are gone
	if got := strings.Join(shown, " "); got != "1 2 3 4 5 !missed 2 messages of channel dev that the server no longer keeps 8 9" {
		t.Errorf("shown %q", got)
	}
}

// A connection made again fetches what came while it was down; a server
// that began a new numbering is said, and followed from its start.
func TestJoinResumes(t *testing.T) {
	var shown []string
	j := joined(0, &shown)
	h := j.Handlers(nil, nil)
	h.Connection(true)
	j.Live(numbered("A", 1))
	h.Connection(false)
	h.Connection(true)
	if a := answers(t, j, numbered("A", 2)); a.after.Seq != 1 {
		t.Fatalf("asked %+v on reconnecting, want what came after 1", a)
	}
	h.Welcome(msg.UnknownNumbering, 6666) // a relay's: changes nothing
	if j.waiting {
		t.Fatal("a relay's welcome was taken for a new numbering")
	}
	h.Welcome("B", 5555) // restarted without its store
	if a := answers(t, j, numbered("B", 1), numbered("B", 2)); a.after.Numbering != "B" || a.after.Seq != 0 {
		t.Fatalf("asked %+v after a new numbering, want B from its start", a)
	}
	j.Live(numbered("B", 2))
	j.Live(numbered("B", 3))
	want := "1 2 !the server began a new numbering (it was restarted without its store): what it had not shown here before is lost 1 2 3"
	if got := strings.Join(shown, " "); got != want {
		t.Errorf("shown %q, want %q", got, want)
	}
	// A tick past the last shown: the last messages were lost on the way.
	h.Tick(msg.Number{Numbering: "B", Seq: 5, All: 5})
	answers(t, j, numbered("B", 4), numbered("B", 5))
	h.Tick(msg.Number{Numbering: "B", Seq: 5, All: 5}) // nothing more
	if j.waiting {
		t.Error("a tick of the last shown asked again")
	}
	if got := strings.Join(shown[len(shown)-2:], " "); got != "4 5" {
		t.Errorf("after a tick: %q", got)
	}
	if port := <-j.post; port != 6666 {
		t.Errorf("post port %d from the welcome", port)
	}
}

// Without numbers (a server from before them) messages are shown as they
// come; a fetch that fails shows what is held, and says so; held messages
// are bounded.
func TestJoinWithoutNumbersOrFetches(t *testing.T) {
	var shown []string
	j := joined(0, &shown)
	j.Live(msg.Message{Body: "x"})
	j.Live(msg.Message{Body: "y"})
	j.Live(numbered("A", 1))
	j.Live(numbered("A", 3))
	<-j.asks
	j.answers <- answer{ask: ask{after: msg.Number{Numbering: "A", Seq: 1}}, err: errTest}
	j.Live(numbered("A", 4))
	want := "x y 1 !could not fetch what was missed: lost !missed 1 message of channel dev that the server no longer keeps 3 4"
	if got := strings.Join(shown, " "); got != want {
		t.Errorf("shown %q", got)
	}
	j = joined(0, &shown)
	j.Live(numbered("A", 1))
	for i := uint64(3); i < maxHeld+5; i++ {
		j.Live(numbered("A", i))
	}
	if len(j.held) != maxHeld {
		t.Errorf("held %d, want %d", len(j.held), maxHeld)
	}
}

var errTest = testError("lost")

type testError string

func (e testError) Error() string { return string(e) }

// With Mark, a Join first learns where the channel stands, and is ready
// only then: what came before is not shown, and all that came after is,
// even what never came live (a subscription that reached the server late,
// through a relay), found by the next message or a tick; a channel that
// was empty is followed from its first message.
func TestJoinMarkShowsAllAfterJoining(t *testing.T) {
	var shown []string
	cfg := joinConfig(0, &shown)
	cfg.Mark = true
	j := NewJoin(cfg)
	j.Handlers(nil, nil).Welcome(msg.UnknownNumbering, 5555) // a relay's
	select {
	case <-j.ready:
		t.Fatal("ready before the mark was answered")
	default:
	}
	if a := answers(t, j, numbered("A", 7)); !a.mark || a.recent != 1 {
		t.Fatalf("asked %+v, want the last message, as a mark", a)
	}
	select {
	case <-j.ready:
	default:
		t.Fatal("not ready once the mark was answered")
	}
	j.Live(numbered("A", 7))  // from before joining
	j.Live(numbered("A", 10)) // 8 and 9 never came live
	if a := answers(t, j, numbered("A", 8), numbered("A", 9), numbered("A", 10)); a.after.Seq != 7 {
		t.Fatalf("asked %+v, want what came after 7", a)
	}
	if got := strings.Join(shown, " "); got != "8 9 10" {
		t.Errorf("shown %q, want 8 9 10", got)
	}

	shown = nil
	j = NewJoin(cfg)
	answers(t, j) // an empty channel
	j.Live(numbered("B", 2))
	if a := answers(t, j, numbered("B", 1), numbered("B", 2)); a.after.Seq != 0 || a.after.Numbering != "B" {
		t.Fatalf("asked %+v, want B from its first", a)
	}
	if got := strings.Join(shown, " "); got != "1 2" {
		t.Errorf("shown %q, want 1 2", got)
	}

	// Nothing came live at all: a tick says what there is.
	shown = nil
	j = NewJoin(cfg)
	answers(t, j)
	j.Handlers(nil, nil).Tick(msg.Number{Numbering: "C", Seq: 2, All: 2})
	if a := answers(t, j, numbered("C", 1), numbered("C", 2)); a.after.Seq != 0 || a.after.Numbering != "C" {
		t.Fatalf("asked %+v after a tick, want C from its first", a)
	}
	if got := strings.Join(shown, " "); got != "1 2" {
		t.Errorf("shown %q after a tick, want 1 2", got)
	}
}
