package scenario

import (
	"strings"
	"testing"
	"time"
)

// A script can tell: a piped client whose lines could not be posted (no
// server here) exits 1 and says how many, and at the end of its input it
// waits at most one post timeout for what is queued.
func TestPipedClientWhosePostsFailExits1(t *testing.T) {
	t.Parallel()
	port := itoa(freePort(t)) // nothing listens there
	c := start(t, "mc_client", "-timeout", "300ms", "-retries", "0", "127.0.0.1", port, itoa(freePort(t)), "dev", "ann")
	c.typeLine("one")
	c.typeLine("two")
	c.typeLine("three")
	c.stdin.Close()
	if code := c.wait(); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	// The first line's post times out as the grace period ends, so it is
	// reported either way: as no reply, or as not sent.
	c.err.waitFor(t, "mc_client", "lines not sent: the client stopped before posting them")
	c.err.waitFor(t, "mc_client", "mc_client: 3 of 3 lines not posted")
}

// At a terminal, Ctrl-C leaves at once, whatever is queued, and says how
// many lines were not sent; with a 10 s post timeout, waiting for the
// queue would take far longer than the deadline here.
func TestTerminalCtrlCLeavesAtOnce(t *testing.T) {
	t.Parallel()
	port := itoa(freePort(t))
	c := startTTY(t, nil, "mc_client", "-timeout", "10s", "127.0.0.1", port, itoa(freePort(t)), "dev", "ann")
	at := c.waitScreen(0, "ann@dev> ")
	c.typeKeys("one\rtwo\rthree\r")
	at = c.waitScreen(at, "three")
	c.typeKeys("\x03") // Ctrl-C
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C did not end the client within 5 s (each queued post would wait 10 s)")
	}
	if c.code != 1 {
		t.Errorf("exit %d after leaving lines unsent, want 1", c.code)
	}
	// "three" shows a moment before it is queued, so 2 or 3 are unsent.
	c.waitScreen(at, "lines not sent")
}

// At a terminal, Ctrl-D waits at most one post timeout for what is queued,
// then says what was dropped.
func TestTerminalCtrlDWaitsOneTimeoutAtMost(t *testing.T) {
	t.Parallel()
	port := itoa(freePort(t))
	c := startTTY(t, nil, "mc_client", "-timeout", "500ms", "-retries", "0", "127.0.0.1", port, itoa(freePort(t)), "dev", "ann")
	at := c.waitScreen(0, "ann@dev> ")
	c.typeKeys("one\rtwo\rthree\r")
	at = c.waitScreen(at, "three")
	c.typeKeys("\x04") // Ctrl-D on an empty line
	if code := c.wait(); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	c.waitScreen(at, "lines not sent")
	c.waitScreen(at, "3 of 3 lines not posted")
}

// A line typed before the prompt appears (while the client starts) is
// posted, not left in the prompt.
func TestTerminalTypeAheadIsPosted(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	c := startTTY(t, nil, "mc_client", s.args("dev", "ann")...)
	c.typeKeys("typed ahead\n") // at once, before the client has its terminal
	s.out.waitFor(t, "mc_server", "[dev] ann: typed ahead (")
	c.typeKeys("\x04")
	if code := c.wait(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

// The ALL client says it is read-only wherever it explains itself.
func TestALLClientSaysItIsReadOnly(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	piped := start(t, "mc_client", s.args("ALL", "eve")...)
	piped.err.waitFor(t, "mc_client", "eve on ALL via")
	never(t, []*lines{piped.err}, "press Enter to post")
	piped.err.waitFor(t, "mc_client", "read-only: it shows every channel, and nothing typed here is posted")

	c := startTTY(t, nil, "mc_client", s.args("ALL", "eve")...)
	at := c.waitScreen(0, "eve@ALL> ")
	c.typeKeys("/help\r")
	c.waitScreen(at, "channel ALL is read-only: it shows every channel, and nothing typed here is posted")
	if strings.Contains(c.screen(), "anything else is posted") || strings.Contains(c.screen(), "press Enter to post") {
		t.Errorf("the ALL client invites posting:\n%q", c.screen())
	}
	c.typeKeys("\x04")
	c.wait()
}

// At a terminal no input is cut: a pasted line past x/term's old 4,096
// characters is posted whole, and one over the body limit is refused with
// the same reason as on a pipe.
func TestTerminalLongLinesAreWholeOrRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	ann, at := ttyMember(t, s, "dev", "ann")
	long := strings.Repeat("0123456789", 1000) + "END" // 10,003 characters
	ann.typeKeys("\x1b[200~" + long + "\x1b[201~\r")
	// The server's log shortens it; what it stored is all of it.
	s.out.waitFor(t, "mc_server", "[dev] ann: "+long[:200]+"… (10003 bytes) (")
	if got := history(t, s, "dev", 1); len(got) != 1 || got[0] != long {
		t.Errorf("stored %d messages, the last %d bytes long; want the whole line", len(got), len(got[len(got)-1]))
	}

	tooLong := strings.Repeat("y", 17000)
	ann.typeKeys(tooLong + "\r")
	ann.waitScreen(at, "not sent: message is 17000 bytes long, the limit is 16384")
	piped := start(t, "mc_client", s.args("dev", "bob")...)
	piped.typeLine(tooLong)
	piped.err.waitFor(t, "mc_client", "not sent: message is 17000 bytes long, the limit is 16384")
	never(t, []*lines{s.out}, "yyyyyyyyyy")
}

// A client's start-up line says how it takes input: a person at a
// terminal presses Enter; a piped client posts each line of its input.
func TestStartUpLineSaysHowInputIsTaken(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	piped := start(t, "interactive_client", s.args("ann")...)
	piped.err.waitFor(t, "interactive_client", "ann via tcp://")
	piped.err.waitFor(t, "interactive_client", "posting each line of its input; Ctrl-D or Ctrl-C leaves")
	never(t, []*lines{piped.err}, "press Enter")

	c := startTTY(t, nil, "mc_client", s.args("dev", "bob")...)
	c.waitScreen(0, "bob on dev via tcp://")
	c.waitScreen(0, "type a line and press Enter to post")
	c.typeKeys("\x04")
	c.wait()
}
