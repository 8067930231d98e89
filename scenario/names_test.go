package scenario

import (
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/zmqchat/zmqchat/internal/proctest"
)

// Names follow PRECIS (RFC 8265) with one script per name, in clients and
// server alike; the normal form is what is stored and shown.
func TestNamesThatLieAreRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	for _, tt := range []struct{ channel, user, want string }{
		{"dev", "\u0430nn", "mixes scripts (Cyrillic, Latin)"},
		{"dev", "ann\u3164", "U+3164, which is invisible"},
		{"dev", "\u3164", "U+3164, which is invisible"},
		{"dev", "𝐚𝐧𝐧", "which a name may not have"},
		{"all", "ann", "looks like ALL"},
		{"\u0410LL", "ann", "mixes scripts"},
		{"ＡＬＬ", "ann", "read-only"},
	} {
		mustERR(t, s, tt.want, post(tt.channel, tt.user, "hi")...)
		if tt.want == "read-only" {
			continue // a client on ＡＬＬ is on ALL itself, read-only
		}
		p := run(t, "mc_client", s.args(tt.channel, tt.user)...)
		if p.code != 2 || !strings.Contains(p.err.String(), tt.want) {
			t.Errorf("mc_client on %q as %q: exit %d, stderr:\n%s", tt.channel, tt.user, p.code, p.err)
		}
	}
	// Real names in their own scripts are names; full width is folded.
	for _, user := range []string{"राहुल", "தமிழ்", "שָׁלוֹם", "O'Brien", "Nguye\u0302\u0303n", "ａｎｎ"} {
		mustOK(t, s, "dev", user, "hello from "+user)
	}
	for _, shown := range []string{"राहुल", "O'Brien", "Nguyễn", "ann"} {
		s.out.waitFor(t, "mc_server", "[dev] "+shown+": hello from ")
	}
	never(t, []*lines{s.out}, "[dev] ａｎｎ", "[dev] Nguye\u0302")
	// A client given a full-width name posts as its normal form.
	c := start(t, "mc_client", s.args("ｄｅｖ", "ｂｏｂ")...)
	c.typeLine("folded")
	s.out.waitFor(t, "mc_server", "[dev] bob: folded (")
	c.stdin.Close()
	c.wait()
}

// Invisible characters in a body are shown escaped, and at a terminal a
// body padded to the screen's width cannot put a line of its own, such as
// "bob: fake", at the start of a row.
func TestInvisibleAndPaddedBodies(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	listener := start(t, "pub_client", s.host, s.pub)
	ann, at := ttyMember(t, s, "dev", "ann")
	subscribed(t, s, "dev", listener)
	mustOK(t, s, "dev", "eve", "pay\u200bpal\U000e0041 is safe")
	listener.out.waitFor(t, "pub_client", `eve: pay\u200bpal\ue0041 is safe (`)

	padded := "x" + strings.Repeat(" ", 160) + "bob: wire me money"
	mustOK(t, s, "dev", "eve", padded)
	ann.waitScreen(at, "wire me money")
	escapes := regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	for _, line := range strings.Split(escapes.ReplaceAllString(ann.screen(), ""), "\n") {
		line = strings.TrimLeft(line, "\r")
		if strings.Contains(line, "wire me money") && !strings.HasPrefix(line, "  ") {
			t.Errorf("the padded part shows at the start of a row: %q", line)
		}
	}
}

// A subscriber pointed at something that is not a ZeroMQ server (a web
// server) never says "connected": the handshake fails, it says so and
// exits 1.
func TestSubscriberAtAWebServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			c.Close()
		}
	}()
	p := start(t, "pub_client", "127.0.0.1", itoa(ln.Addr().(*net.TCPAddr).Port))
	if code := p.wait(); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	p.err.waitFor(t, "pub_client", "the handshake with the server failed")
	never(t, []*lines{p.err}, "connected to")
}

// A subscriber's connection state is always right: fifty pub_clients
// started against a live server each say "connected" (its monitor is
// attached before it connects, so the event cannot slip past).
func TestFiftySubscriberStartUpsAllConnect(t *testing.T) {
	t.Parallel()
	s := startServer(t, "pub_server", "127.0.0.1")
	for batch := 0; batch < 5; batch++ {
		var subs []*proc
		for i := 0; i < 10; i++ {
			subs = append(subs, start(t, "pub_client", s.host, s.pub))
		}
		for _, p := range subs {
			p.err.waitFor(t, "pub_client", "connected to tcp://")
			p.interrupt()
		}
	}
}

// The client follows the terminal's size: shrunk (SIGWINCH), it folds a
// long message at the new width.
func TestTerminalFollowsItsSize(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	ann, at := ttyMember(t, s, "dev", "ann")
	if err := pty.Setsize(ann.pt, &pty.Winsize{Rows: 40, Cols: 40}); err != nil { // the kernel sends SIGWINCH
		t.Fatal(err)
	}
	// A resize arrives asynchronously; a probe line after it is folded
	// once it has been taken in.
	long := "0123456789012345678901234567890123456789XYZ"
	deadline := time.Now().Add(wait)
	for {
		from := at
		mustOK(t, s, "dev", "bob", long)
		at = ann.waitScreen(from, "XYZ")
		if strings.Contains(ann.screen()[from:at], "\n  ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a %d-character message was not folded at 40 columns:\n%q", len(long), ann.screen()[from:at])
		}
	}
}

// scripts/deps.sh, which make run and make test start with, says which Go
// is needed when there is none.
func TestDepsNamesTheGoItNeeds(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("bash", "scripts/deps.sh")
	cmd.Dir = proctest.ModuleRoot()
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "zmqchat needs Go 1.26") || !strings.Contains(string(out), "there is no go command") {
		t.Errorf("deps.sh without go: %v\n%s", err, out)
	}
}

// make run on a port that is taken says how to pick others; on free ports
// it serves until Ctrl-C, which stops the server cleanly and make with it,
// without make's "*** Interrupt". (One test: both build bin/.)
func TestMakeRun(t *testing.T) {
	t.Parallel()
	s := startServer(t, "post_server", "127.0.0.1")
	cmd := exec.Command("make", "--no-print-directory", "run", "POST_PORT="+s.post, "PUB_PORT=0")
	cmd.Dir = proctest.ModuleRoot()
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "make run: to serve on other ports: make run POST_PORT=6000 PUB_PORT=6001") {
		t.Errorf("make run on a taken port: %v\n%s", err, out)
	}

	store := filepath.Join(t.TempDir(), "chat.db")
	run := startTTY(t, nil, "/usr/bin/make", "-C", proctest.ModuleRoot(), "--no-print-directory", "run",
		"POST_PORT=0", "PUB_PORT=0", "STORE="+store)
	at := run.waitScreen(0, "mc_client 127.0.0.1 ")
	run.typeKeys("\x03") // Ctrl-C, to make, its shell and the server alike
	run.waitScreen(at, "mc_server: stopped; 0 messages stored")
	run.wait()
	select {
	case <-run.read: // all it printed, make's last words included
	case <-time.After(wait):
	}
	if strings.Contains(run.screen(), "Interrupt") {
		t.Errorf("make run ended with make's interrupt error:\n%q", run.screen())
	}
}
