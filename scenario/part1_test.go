package scenario

import (
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestPart1PostIsRecorded(t *testing.T) {
	t.Parallel()
	s := startServer(t, "post_server", "127.0.0.1")
	// Posted verbatim, whatever the message holds.
	for _, body := range []string{
		"hello, world",
		`it's "quoted"`,
		"-n looks like a flag",
		"--",
		"tab\tseparated",
		"Zoë says 你好 🎉",
		"  leading and trailing spaces  ",
	} {
		p := run(t, "post_client", s.args("ann", body)...)
		if p.code != 0 {
			t.Fatalf("post_client %q exited %d:\n%s", body, p.code, p.err)
		}
		s.out.waitFor(t, "post_server", "ann: "+body+" (")
	}
	s.interrupt()
	s.out.waitFor(t, "post_server", "7 messages stored")
}

// Every program: a wrong command line exits 2 with a one-line reason and
// the usage.
func TestBadArguments(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		prog string
		args []string
		want string
	}{
		{"post_server", nil, "want 2 arguments"},
		{"post_server", []string{"127.0.0.1"}, "want 2 arguments"},
		{"post_server", []string{"127.0.0.1", "5555", "x"}, "want 2 arguments"},
		{"post_server", []string{"127.0.0.1", "http"}, "not a number"},
		{"post_server", []string{"127.0.0.1", "70000"}, "0 to 65535"},
		{"post_server", []string{"no such host.invalid", "5555"}, "neither an IP address nor a host name"},
		{"post_server", []string{"-bogus", "127.0.0.1", "5555"}, "flag provided but not defined"},
		{"post_client", []string{"127.0.0.1", "5555", "ann"}, "want 4 arguments"},
		{"post_client", []string{"127.0.0.1", "5555", "ann", "two", "words"}, "quote a message"},
		{"post_client", []string{"*", "5555", "ann", "hi"}, "only a server"},
		{"post_client", []string{"127.0.0.1", "0", "ann", "hi"}, "1 to 65535"},
		{"post_client", []string{"127.0.0.1", "5555", "a b", "hi"}, "username"},
		{"post_client", []string{"127.0.0.1", "5555", "", "hi"}, "username is empty"},
		{"post_client", []string{"127.0.0.1", "5555", "ann", ""}, "message is empty"},
		{"post_client", []string{"127.0.0.1", "5555", "ann", "bell\a"}, "control character"},
		{"post_client", []string{"-timeout", "0s", "127.0.0.1", "5555", "ann", "hi"}, "-timeout must be positive"},
		{"pub_server", []string{"127.0.0.1", "5555", "5555"}, "must differ"},
		{"pub_client", []string{"127.0.0.1"}, "want 2 arguments"},
		{"interactive_client", []string{"127.0.0.1", "5555", "5556"}, "want 4 arguments"},
		{"interactive_client", []string{"127.0.0.1", "5555", "5556", "a b"}, "username"},
		{"interactive_client", []string{"127.0.0.1", "5555", "5555", "ann"}, "must differ"},
		{"mc_client", []string{"127.0.0.1", "5555", "5556", "dev"}, "want 5 arguments"},
		{"mc_client", []string{"127.0.0.1", "5555", "5556", "d/v", "ann"}, "channel \"d/v\""},
		{"mc_client", []string{"127.0.0.1", "5555", "5556", "", "ann"}, "channel is empty"},
		{"mc_client", []string{"127.0.0.1", "5555", "5556", "dev", ""}, "username is empty"},
		{"mc_client", []string{"127.0.0.1", "5555", "5556", strings.Repeat("c", 33), "ann"}, "33 characters"},
		{"mc_server", []string{"127.0.0.1", "5555"}, "want 3 arguments"},
	} {
		p := run(t, tt.prog, tt.args...)
		stderr := p.err.String()
		// A message's content is wrong: its reason alone, without the usage.
		brief := strings.HasPrefix(tt.want, "message") || tt.want == "control character"
		if p.code != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "usage: "+tt.prog) == brief {
			t.Errorf("%s %q: exit %d, stderr:\n%s\nwant exit 2, %q and the usage unless it is about the message", tt.prog, tt.args, p.code, stderr, tt.want)
		}
		if first := strings.SplitN(stderr, "\n", 2)[0]; !strings.HasPrefix(first, tt.prog+": ") {
			t.Errorf("%s %q: first stderr line %q is not a one-line reason", tt.prog, tt.args, first)
		}
	}
	// -h is help, not an error.
	p := run(t, "post_client", "-h")
	if p.code != 0 || !strings.Contains(p.out.String(), "usage: post_client [flags] <ip> <port> <username> <message>") {
		t.Errorf("post_client -h: exit %d, stdout:\n%s", p.code, p.out)
	}
}

func TestPart1NoServer(t *testing.T) {
	t.Parallel()
	port := itoa(freePort(t)) // nothing listens there
	p := run(t, "post_client", "-timeout", "300ms", "-retries", "1", "127.0.0.1", port, "ann", "anyone there?")
	if p.code != 1 {
		t.Fatalf("post_client with no server exited %d, want 1", p.code)
	}
	p.err.waitFor(t, "post_client", "no reply from tcp://127.0.0.1:"+port+" within 300ms (2 attempts)")
}

func TestPart1Addresses(t *testing.T) {
	t.Parallel()
	cases := []struct{ bind, connect string }{
		{"localhost", "localhost"},
		{"*", "127.0.0.1"},
		{"127.0.0.1", "localhost"},
	}
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		l.Close()
		cases = append(cases, struct{ bind, connect string }{"::1", "::1"})
	} else {
		t.Logf("no IPv6 loopback here, ::1 not tried: %v", err)
	}
	for _, c := range cases {
		s := startServer(t, "post_server", c.bind)
		p := run(t, "post_client", c.connect, s.post, "ann", "via "+c.bind)
		if p.code != 0 {
			t.Fatalf("bind %s, connect %s: post_client exited %d:\n%s", c.bind, c.connect, p.code, p.err)
		}
		s.out.waitFor(t, "post_server", "ann: via "+c.bind)
		s.interrupt()
	}
}

func TestPart1PortInUse(t *testing.T) {
	t.Parallel()
	s := startServer(t, "post_server", "127.0.0.1")
	p := run(t, "post_server", "127.0.0.1", s.post)
	if p.code != 1 || !strings.Contains(p.err.String(), "in use") {
		t.Fatalf("second server on port %s: exit %d, stderr:\n%s\nwant exit 1 and 'in use'", s.post, p.code, p.err)
	}
	// The first is unharmed.
	mustOK(t, s, "", "ann", "still here")
}

func TestPart1RefusedPostExits1(t *testing.T) {
	t.Parallel()
	// mc_server refuses a post without a channel, which is all post_client sends.
	s := startServer(t, "mc_server", "127.0.0.1")
	p := run(t, "post_client", s.host, s.post, "ann", "no channel here")
	if p.code != 1 {
		t.Fatalf("refused post: exit %d, want 1", p.code)
	}
	p.err.waitFor(t, "post_client", "post_client: the server refused the message: no channel")
	if strings.Contains(p.out.String(), "posted") {
		t.Errorf("post_client claimed success:\n%s", p.out)
	}
}

func TestPart1BadRequestsAreAnswered(t *testing.T) {
	t.Parallel()
	s := startServer(t, "post_server", "127.0.0.1")
	mustERR(t, s, "unknown command", "HELLO")
	mustERR(t, s, "5 frames", "POST", "", "ann")
	mustERR(t, s, "no channels", post("dev", "ann", "hi")...)
	mustERR(t, s, "control character", post("", "ann", "\x1b[2J")...)
	mustOK(t, s, "", "ann", "after the bad ones")
	s.out.waitFor(t, "post_server", "ann: after the bad ones")
	s.interrupt()
	if n := s.out.count("ann:"); n != 1 {
		t.Fatalf("server logged %d messages, want only the valid one:\n%s", n, s.out)
	}
	s.out.waitFor(t, "post_server", "stopped; 1 message stored")
}

func TestServersStopOnSignals(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"post_server", "pub_server", "interactive_server", "mc_server"} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			s := startServer(t, name, "127.0.0.1")
			s.signal(sig)
			if code := s.wait(); code != 0 {
				t.Errorf("%s exited %d on %s, want 0", name, code, sig)
			}
		}
	}
}

// A stop signal that comes while a server is still starting, any time
// after its first package is initialised (package early, told apart from
// the Go runtime's own start-up by GODEBUG=inittrace=1), ends it with
// status 0 and its store intact; SIGUSR1 at that moment never kills, keyed
// or not.
func TestSignalsAtStartUp(t *testing.T) {
	t.Parallel()
	store := filepath.Join(t.TempDir(), "chat.db")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1} {
		for try := 0; try < 3; try++ {
			s := startEnv(t, []string{"GODEBUG=inittrace=1"}, "mc_server", "-store", store, "127.0.0.1", "0", "0")
			s.err.waitFor(t, "mc_server", "init github.com/zmqchat/zmqchat/internal/early ")
			s.signal(sig)
			if sig == syscall.SIGUSR1 {
				s.out.waitFor(t, "mc_server", "Ctrl-C stops") // it lived on, and serves
				s.signal(syscall.SIGTERM)
			}
			if code := s.wait(); code != 0 {
				t.Errorf("mc_server given %s as it started exited %d, want 0", sig, code)
			}
		}
	}
	// The store is intact: a server serves from it.
	s := startServerWith(t, "mc_server", "-store", store)
	mustOK(t, s, "dev", "ann", "after all that")
}
