package scenario

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chatter starts an interactive_client for name against s.
func chatter(t *testing.T, s *server, name string, flags ...string) *proc {
	t.Helper()
	return start(t, "interactive_client", append(flags, s.args(name)...)...)
}

func TestPart3ThreeClientsSeeEveryLine(t *testing.T) {
	t.Parallel()
	s := startServer(t, "interactive_server", "127.0.0.1")
	names := []string{"ann", "bob", "cy"}
	var clients []*proc
	var outs []output
	for _, n := range names {
		c := chatter(t, s, n)
		clients = append(clients, c)
		outs = append(outs, c)
	}
	subscribed(t, s, "", outs...)

	for i, c := range clients {
		c.typeLine("hi, I am " + names[i])
		c.typeLine("")      // ignored
		c.typeLine("   \t") // whitespace only: ignored too
		c.typeLine("crlf from " + names[i] + "\r")
	}
	for _, c := range clients {
		for _, n := range names {
			c.out.waitFor(t, c.name, n+": hi, I am "+n+" (")
		}
	}
	// A CRLF line loses its \r (it would show as \x0d).
	s.out.waitCount(t, "interactive_server", ": crlf from ", 3)
	for _, n := range names {
		s.out.waitFor(t, "interactive_server", n+": crlf from "+n+" (")
	}
	// Only those lines were posted: empty and blank ones are ignored.
	s.out.waitCount(t, "interactive_server", ": hi, I am ", 3)
	blank := regexp.MustCompile(`^\w+: \s*\(`)
	for _, line := range strings.Split(s.out.String(), "\n") {
		if blank.MatchString(line) || strings.Contains(line, `\x0d`) {
			t.Errorf("server stored %q", line)
		}
	}
	for _, c := range clients {
		c.stdin.Close() // end of input
		if code := c.wait(); code != 0 {
			t.Errorf("interactive_client exited %d at end of input, want 0", code)
		}
	}
	if n := s.out.count(": hi, I am "); n != 3 {
		t.Errorf("server stored %d lines, want 3:\n%s", n, s.out)
	}
}

func TestPart3BurstArrivesCompleteAndInOrder(t *testing.T) {
	t.Parallel()
	s := startServer(t, "interactive_server", "127.0.0.1")
	idle := chatter(t, s, "idle")
	subscribed(t, s, "", idle)

	// The sender types 20 lines at once and ends its input: every line read
	// before the end is posted before it exits.
	sender := chatter(t, s, "fast")
	var burst strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&burst, "burst line %02d\n", i)
	}
	if _, err := sender.stdin.Write([]byte(burst.String())); err != nil {
		t.Fatal(err)
	}
	sender.stdin.Close()
	if code := sender.wait(); code != 0 {
		t.Fatalf("sender exited %d:\n%s", code, sender.err)
	}

	idle.out.waitCount(t, "idle client", "fast: burst line", 20)
	var got []string
	for _, line := range strings.Split(idle.out.String(), "\n") {
		if strings.HasPrefix(line, "fast: burst line") {
			got = append(got, line[len("fast: "):len("fast: burst line 00")])
		}
	}
	if len(got) != 20 {
		t.Fatalf("idle client shows %d burst lines, want 20:\n%s", len(got), idle.out)
	}
	for i, g := range got {
		if want := fmt.Sprintf("burst line %02d", i+1); g != want {
			t.Fatalf("burst line %d is %q, want %q: order lost\n%s", i+1, g, want, idle.out)
		}
	}
	// Not a terminal: plain lines, no prompt, no colour, nothing else.
	plain := regexp.MustCompile(`^[^\x1b]+: [^\x1b]+ \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)$`)
	for _, line := range strings.Split(strings.TrimSuffix(idle.out.String(), "\n"), "\n") {
		if !plain.MatchString(line) {
			t.Errorf("piped client printed %q, not a plain chat line", line)
		}
	}
	idle.interrupt()
}

func TestPart3ClientRecoversFromALostServer(t *testing.T) {
	t.Parallel()
	// Ports that a server had: it is stopped before the client starts.
	first := startServer(t, "interactive_server", "127.0.0.1")
	first.interrupt()
	post, pub := first.post, first.pub
	// No server yet: the post times out, the client says so and keeps going.
	c := start(t, "interactive_client", "-timeout", "300ms", "-retries", "0", "127.0.0.1", post, pub, "ann")
	c.typeLine("into the void")
	c.err.waitFor(t, "interactive_client", "no reply from tcp://127.0.0.1:"+post+" within 300ms")
	if c.exited() {
		t.Fatalf("client exited after a lost post:\n%s", c.err)
	}

	s, err := startServerOn(t, "interactive_server", "127.0.0.1", post, pub)
	if err != nil {
		t.Fatalf("restart on the ports it had: %v", err)
	}
	// A fresh REQ socket: the next line goes through, and the subscription
	// reconnects by itself.
	for i := 0; c.out.count("ann: back again") == 0; i++ {
		if i == 50 {
			t.Fatalf("the client never got a post through to the new server:\n%s", c.err)
		}
		c.typeLine("back again")
		waitChange(c.out, 200*time.Millisecond)
	}
	s.out.waitFor(t, "interactive_server", "ann: back again")
	c.stdin.Close()
	// The line lost to the void makes the exit status 1, and stderr says
	// how many lines were not posted, so a script can tell.
	if code := c.wait(); code != 1 {
		t.Errorf("exit %d, want 1: a line was not posted", code)
	}
	c.err.waitFor(t, "interactive_client", "lines not posted")
}
