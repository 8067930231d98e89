package scenario

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/zmqchat/zmqchat/internal/display"
)

// tty is a program running on a pseudo-terminal, as in a terminal window.
type tty struct {
	*program
	pt   *os.File // the terminal's master side: what the person types and sees
	out  *lines   // what it printed, by line, for subscribed()
	mu   sync.Mutex
	raw  []byte        // everything it printed, escapes and all
	more chan struct{} // closed and replaced when raw grows
	read chan struct{} // closed once all it printed has been read
}

func (p *tty) stdout() *lines { return p.out }

// startTTY starts program name on a new pseudo-terminal, as an xterm with
// colours allowed, plus the environment variables env.
func startTTY(t *testing.T, env []string, name string, args ...string) *tty {
	t.Helper()
	return startTTYWidth(t, 160, env, name, args...)
}

// startTTYWidth is startTTY on a terminal cols columns wide.
func startTTYWidth(t *testing.T, cols int, env []string, name string, args ...string) *tty {
	t.Helper()
	env = append([]string{"TERM=xterm", "NO_COLOR="}, env...)
	p := &tty{program: newProgram(t, name, args, env...), out: newLines(), more: make(chan struct{}), read: make(chan struct{})}
	var err error
	if p.pt, err = pty.StartWithAttrs(p.cmd, &pty.Winsize{Rows: 40, Cols: uint16(cols)}, &syscall.SysProcAttr{
		Setsid: true, Setctty: true, Pdeathsig: syscall.SIGKILL,
	}); err != nil {
		t.Fatalf("start %s on a pty: %v", name, err)
	}
	pr, pw := io.Pipe()
	go p.out.readFrom(pr)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := p.pt.Read(buf)
			if n > 0 {
				pw.Write(bytes.ReplaceAll(buf[:n], []byte("\r"), nil))
				p.mu.Lock()
				p.raw = append(p.raw, buf[:n]...)
				close(p.more)
				p.more = make(chan struct{})
				p.mu.Unlock()
			}
			if err != nil { // EIO once the program has exited
				pw.Close()
				close(p.read)
				return
			}
		}
	}()
	p.reap(func() {})
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		p.pt.Close()
		if t.Failed() {
			t.Logf("%s %s on a pty printed:\n%q", name, strings.Join(args, " "), p.screen())
		}
	})
	return p
}

func (p *tty) screen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.raw)
}

// typeKeys types s as a person would (no newline unless s has "\r").
func (p *tty) typeKeys(s string) {
	p.t.Helper()
	if _, err := p.pt.Write([]byte(s)); err != nil {
		p.t.Fatalf("type into %s: %v", p.name, err)
	}
}

// waitScreen waits until what the program printed since offset from
// contains s, and returns the offset just past it.
func (p *tty) waitScreen(from int, s string) int {
	p.t.Helper()
	return p.waitScreenWithin(from, s, wait)
}

// waitScreenWithin is waitScreen, waiting at most d.
func (p *tty) waitScreenWithin(from int, s string, d time.Duration) int {
	p.t.Helper()
	deadline := time.After(d)
	for {
		p.mu.Lock()
		raw, more := p.raw, p.more
		p.mu.Unlock()
		if from <= len(raw) {
			if i := bytes.Index(raw[from:], []byte(s)); i >= 0 {
				return from + i + len(s)
			}
		}
		select {
		case <-more:
		case <-p.done:
			// It has exited: what it printed last may still be on its way
			// from the terminal.
			select {
			case <-p.read:
			case <-time.After(wait):
			}
			if !strings.Contains(p.screen()[from:], s) {
				p.t.Fatalf("%s exited without printing %q", p.name, s)
			}
			return from + strings.Index(p.screen()[from:], s) + len(s)
		case <-deadline:
			p.t.Fatalf("%s did not print %q within %s", p.name, s, d)
		}
	}
}

// ttyMember starts mc_client for name on channel on a terminal, waits for
// its prompt and its subscription, and returns it and where on its screen
// the prompt ends.
func ttyMember(t *testing.T, s *server, channel, name string) (*tty, int) {
	t.Helper()
	p := startTTY(t, nil, "mc_client", s.args(channel, name)...)
	at := p.waitScreen(0, name+"@"+channel+"> ")
	subscribed(t, s, channel, p)
	return p, at
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestTerminalPartlyTypedLineSurvivesAnIncomingMessage(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	ann, at := ttyMember(t, s, "dev", "ann")

	ann.typeKeys("hel")
	at = ann.waitScreen(at, "hel")
	mustOK(t, s, "dev", "bob", "interrupting you")
	at = ann.waitScreen(at, "interrupting you")
	// Printed above the prompt, which comes back with the partial line on it.
	at = ann.waitScreen(at, "ann@dev> hel")
	ann.typeKeys("lo\r")
	s.out.waitFor(t, "mc_server", "[dev] ann: hello (")
	ann.waitScreen(at, " (you): hello ")

	ann.typeKeys("\x04") // Ctrl-D on an empty line
	if code := ann.wait(); code != 0 {
		t.Errorf("mc_client exited %d on Ctrl-D, want 0", code)
	}
}

func TestTerminalColours(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	colour := startTTY(t, nil, "mc_client", s.args("ALL", "eve")...)
	plain := startTTY(t, []string{"NO_COLOR=1"}, "mc_client", s.args("ALL", "fay")...)
	subscribed(t, s, "dev", colour, plain)

	mustOK(t, s, "dev", "bob", "colour me")
	mustOK(t, s, "dev", "cy", "and me")
	colour.waitScreen(0, "and me")
	plain.waitScreen(0, "and me")

	screen := colour.screen()
	bob := regexp.MustCompile(`\x1b\[1;(\d+)mbob\x1b\[0m: colour me`).FindStringSubmatch(screen)
	cy := regexp.MustCompile(`\x1b\[1;(\d+)mcy\x1b\[0m: and me`).FindStringSubmatch(screen)
	if bob == nil || cy == nil {
		t.Fatalf("usernames not coloured on a terminal:\n%q", screen)
	}
	if !strings.Contains(screen, "[\x1b[1;") {
		t.Errorf("the channel is not coloured on ALL:\n%q", screen)
	}
	if got := plain.screen(); sgr.MatchString(got) {
		t.Errorf("colours with NO_COLOR set: %q", sgr.FindString(got))
	} else if !strings.Contains(got, "[dev] bob: colour me (") {
		t.Errorf("NO_COLOR client did not show the plain line:\n%q", got)
	}
	colour.typeKeys("\x03") // Ctrl-C
	if code := colour.wait(); code != 0 {
		t.Errorf("mc_client exited %d on Ctrl-C, want 0", code)
	}
}

func TestTerminalCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	ann, at := ttyMember(t, s, "dev", "ann")

	ann.typeKeys("/help\r")
	at = ann.waitScreen(at, "/quit")
	// /channels: every channel posted to, with its count.
	mustOK(t, s, "ops", "bob", "on ops")
	mustOK(t, s, "ops", "bob", "on ops again")
	ann.typeKeys("/channels\r")
	at = ann.waitScreen(at, "channels:")
	at = ann.waitScreen(at, "ops              2 messages, the last ")
	ann.typeKeys("/nope and more\r")
	at = ann.waitScreen(at, "unknown command /nope: not posted")
	ann.typeKeys("//slash\r")
	s.out.waitFor(t, "mc_server", "[dev] ann: /slash (")
	ann.waitScreen(at, "(you): /slash ")
	ann.typeKeys("/quit\r")
	if code := ann.wait(); code != 0 {
		t.Errorf("mc_client exited %d on /quit, want 0", code)
	}
	if strings.Contains(s.out.String(), "help") || strings.Contains(s.out.String(), "nope") {
		t.Errorf("a command was posted:\n%s", s.out)
	}
}

// Two people named bob in open mode: each sees only the lines it posted
// itself marked as its own.
func TestTerminalOnlyOwnPostsAreMarkedYou(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	one, at1 := ttyMember(t, s, "dev", "bob")
	two, at2 := ttyMember(t, s, "dev", "bob")

	one.typeKeys("from the first bob\r")
	two.typeKeys("from the second bob\r")
	s.out.waitFor(t, "mc_server", "from the first bob (")
	s.out.waitFor(t, "mc_server", "from the second bob (")
	for _, c := range []struct {
		p          *tty
		at         int
		own, other string
	}{{one, at1, "first", "second"}, {two, at2, "second", "first"}} {
		c.p.waitScreen(c.at, " (you): from the "+c.own+" bob ")
		c.p.waitScreen(c.at, "m: from the "+c.other+" bob ") // after the name's colour
		if strings.Contains(c.p.screen()[c.at:], "(you): from the "+c.other) {
			t.Errorf("the %s bob marked the %s bob's line as its own", c.own, c.other)
		}
	}
}

// No row on the screen can start as if someone else said it, at any
// terminal width: a body padded with tabs, wide or combining characters to
// put "bob: never mind" at the start of a row is folded, its continuation
// indented, and no row is wider than the terminal (which would wrap it at
// column 0).
func TestTerminalNoRowPassesForAnotherSpeaker(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	csi := regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	for _, cols := range []int{40, 80, 120} {
		eve := startTTYWidth(t, cols, []string{"NO_COLOR=1"}, "mc_client", s.args("dev", "eve")...)
		eve.waitScreen(0, "eve@dev> ")
		subscribed(t, s, "dev", eve)
		spoof := ".bob: never mind, the code is 4711 (12:00)"
		for i, pad := range []string{
			strings.Repeat("\t", cols/8),      // tabs, counted as one column each by a naive fold
			strings.Repeat("日", cols/2-4),     // wide: two columns each
			strings.Repeat("e\u0301", cols-4), // combining: none for the accent
			"ok" + strings.Repeat("\t", 10),   // the issue's own example
		} {
			mustOK(t, s, "dev", "ann", fmt.Sprint(i, "ok", pad, spoof))
		}
		mustOK(t, s, "dev", "ann", "done")
		eve.waitScreen(0, "ann: done (")
		for _, row := range screenRows(csi.ReplaceAllString(eve.screen(), ""), cols) {
			if strings.HasPrefix(strings.TrimLeft(row, "."), "bob:") {
				t.Errorf("%d columns: a row starts as if bob said it: %q", cols, row)
			}
		}
		eve.typeKeys("\x04")
		eve.wait()
	}
}

// screenRows is how a terminal cols wide shows text (escapes taken out):
// a tab moves to the next stop, 8 columns apart, but never past the last
// column, and a line wider than the terminal wraps to column 0.
func screenRows(text string, cols int) []string {
	var rows []string
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }) {
		var row strings.Builder
		col := 0
		for _, r := range line {
			w := display.Columns(r)
			if r == '\t' {
				w = min(8-col%8, cols-1-col)
			}
			if col+w > cols {
				rows = append(rows, row.String())
				row.Reset()
				col = 0
			}
			if r == '\t' {
				row.WriteString(strings.Repeat(" ", w))
			} else {
				row.WriteRune(r)
			}
			col += w
		}
		rows = append(rows, row.String())
	}
	return rows
}
