// Package scenario runs the real zmqchat programs as separate processes on
// free loopback ports, types into their standard input and reads their
// output, as a person with several terminals would. Every wait has a
// deadline; no test sleeps a fixed time.
package scenario

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/proctest"
)

// wait is the deadline for anything a test waits on. It is generous: a
// race-enabled build on a busy 2-core machine is slow, and a deadline only
// guards against a hang; it does not measure speed.
const wait = 15 * time.Second

// binDir holds the programs, built with the race detector under -race;
// plainDir holds mc_server built without it.
var binDir, plainDir string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		if os.Getenv("ZMQCHAT_HUGE_SUBSCRIBE") != "" || os.Getenv("ZMQCHAT_CHURN") != "" {
			return m.Run() // a child that needs no programs
		}
		dir, err := os.MkdirTemp("", "zmqchat-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		// With -race the programs' own goroutines are checked too.
		if err := proctest.Build(dir, raceEnabled, "./part1/...", "./part2/...", "./part3/...", "./part4/...", "./cmd/keygen", "./cmd/relay"); err != nil {
			fmt.Fprintln(os.Stderr, "building the programs:", err)
			return 1
		}
		binDir, plainDir = dir, dir
		if raceEnabled {
			// Memory is measured on the server as it ships: the race
			// detector's own memory would be counted in its.
			plainDir = filepath.Join(dir, "plain")
			if err := proctest.Build(plainDir, false, "./part4/mc_server"); err != nil {
				fmt.Fprintln(os.Stderr, "building the programs:", err)
				return 1
			}
		}
		return m.Run()
	}())
}

// ---- processes ----

// program is a started program: what a piped one (proc) and one on a
// terminal (tty) share.
type program struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited and code is set
	code int
}

// newProgram prepares program name with args, in this process's
// environment plus env.
func newProgram(t testing.TB, name string, args []string, env ...string) *program {
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(binDir, name)
	}
	cmd := exec.Command(path, args...)
	// A race-enabled program otherwise sleeps a second at exit.
	cmd.Env = append(append(os.Environ(), "GORACE=atexit_sleep_ms=0 halt_on_error=1"), env...)
	return &program{t: t, name: name, cmd: cmd, done: make(chan struct{})}
}

// reap records the exit status once the program has ended and before has
// returned (Wait closes the pipes, so their readers must finish first).
func (p *program) reap(before func()) {
	go func() {
		before()
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
}

// wait waits for the program to exit and returns its exit status.
func (p *program) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(wait):
		// A Go program dumps its goroutines on SIGQUIT: the log then says
		// where it was stuck.
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
		}
		p.t.Fatalf("%s did not exit within %s", p.name, wait)
		return -1
	}
}

// exited reports whether the program has exited.
func (p *program) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *program) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
}

// interrupt sends SIGINT, as Ctrl-C would, and checks the program exits 0.
func (p *program) interrupt() {
	p.t.Helper()
	p.signal(syscall.SIGINT)
	if code := p.wait(); code != 0 {
		p.t.Errorf("%s exited %d after SIGINT, want 0", p.name, code)
	}
}

// proc is a running program with its standard streams on pipes.
type proc struct {
	*program
	stdin io.WriteCloser
	out   *lines
	err   *lines
}

// start starts program name with args; it is killed when the test ends if
// it is still running.
func start(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	return startEnv(t, nil, name, args...)
}

// startEnv is start with env added to the program's environment.
func startEnv(t testing.TB, env []string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{program: newProgram(t, name, args, env...), out: newLines(), err: newLines()}
	// Its own process group, killed whole at cleanup; and killed with this
	// process should it die before cleanup runs.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); p.out.readFrom(stdout) }()
	go func() { defer readers.Done(); p.err.readFrom(stderr) }()
	p.reap(readers.Wait)
	t.Cleanup(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if strings.Contains(p.err.String(), "DATA RACE") {
			t.Errorf("%s reported a data race", name)
		}
		if t.Failed() {
			t.Logf("%s %s\n--- stdout:\n%s--- stderr:\n%s", name, strings.Join(args, " "), p.out, p.err)
		}
	})
	return p
}

// run runs program name to its end and returns it.
func run(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	p := start(t, name, args...)
	p.stdin.Close()
	p.wait()
	return p
}

// typeLine writes line and a newline to the program's standard input.
func (p *proc) typeLine(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("type into %s: %v", p.name, err)
	}
}

// ---- output ----

// lines collects a stream's lines and lets tests wait for one.
type lines struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	all     []string
	closed  bool
}

func newLines() *lines { return &lines{changed: make(chan struct{})} }

func (l *lines) readFrom(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		l.add(sc.Text())
	}
	io.Copy(io.Discard, r)
	l.close()
}

// add appends a line and wakes whoever waits.
func (l *lines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, line)
	close(l.changed)
	l.changed = make(chan struct{})
}

// close marks the stream ended and wakes whoever waits.
func (l *lines) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *lines) snapshot() ([]string, bool, chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.all...), l.closed, l.changed
}

func (l *lines) String() string {
	all, _, _ := l.snapshot()
	if len(all) == 0 {
		return ""
	}
	return strings.Join(all, "\n") + "\n"
}

// count returns how many lines contain s.
func (l *lines) count(s string) int {
	all, _, _ := l.snapshot()
	n := 0
	for _, line := range all {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// waitFor waits until a line contains s, and returns that line.
func (l *lines) waitFor(t testing.TB, what, s string) string {
	t.Helper()
	return l.waitMatch(t, what, s, func(line string) bool { return strings.Contains(line, s) })
}

func (l *lines) waitMatch(t testing.TB, what, desc string, match func(string) bool) string {
	t.Helper()
	line, err := l.await(match)
	if err != nil {
		t.Fatalf("%s: no line matching %q: %v; it printed:\n%s", what, desc, err, l)
	}
	return line
}

// await waits until a line matches, the stream ends, or the deadline passes.
func (l *lines) await(match func(string) bool) (string, error) {
	deadline := time.After(wait)
	for {
		all, closed, changed := l.snapshot()
		for _, line := range all {
			if match(line) {
				return line, nil
			}
		}
		if closed {
			return "", io.EOF
		}
		select {
		case <-changed:
		case <-deadline:
			return "", fmt.Errorf("none within %s", wait)
		}
	}
}

// waitCount waits until n lines contain s.
func (l *lines) waitCount(t testing.TB, what, s string, n int) {
	t.Helper()
	deadline := time.After(wait)
	for {
		all, closed, changed := l.snapshot()
		got := 0
		for _, line := range all {
			if strings.Contains(line, s) {
				got++
			}
		}
		if got >= n {
			return
		}
		if closed {
			t.Fatalf("%s ended with %d of %d lines containing %q", what, got, n, s)
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s printed %d of %d lines containing %q within %s", what, got, n, s, wait)
		}
	}
}

// ---- servers and ports ----

// freePort returns a loopback TCP port that nothing listened on a moment
// ago and that no other test in this process was given: where a client is
// to find no server. Servers bind port 0 instead (see startServer).
func freePort(t testing.TB) int {
	t.Helper()
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// server is a running zmqchat server and its ports.
type server struct {
	*proc
	host      string
	post, pub string
}

// startServer starts server program name on host, port 0 (so the system
// picks free ports, and no other process can take them in between), and
// reads the ports it bound from its banner.
func startServer(t testing.TB, name, host string) *server {
	t.Helper()
	post, pub := "0", ""
	if name != "post_server" {
		pub = "0"
	}
	s, err := startServerOn(t, name, host, post, pub)
	if err != nil {
		t.Fatalf("%s did not start: %v\n%s", name, err, s.err)
	}
	return s
}

// bannerPorts matches the ports in a server's banner, "taking posts on
// tcp://127.0.0.1:PORT[, publishing on tcp://127.0.0.1:PORT]".
var bannerPorts = regexp.MustCompile(`taking posts on tcp://\S+:(\d+)(?:, publishing on tcp://\S+:(\d+))?;`)

// startServerOn starts server program name on host and the given ports (pub
// empty for post_server), waits until it says it is listening, and takes
// the ports it names there.
func startServerOn(t testing.TB, name, host, post, pub string, flags ...string) (*server, error) {
	t.Helper()
	args := append(flags, host, post)
	if pub != "" {
		args = append(args, pub)
	}
	return serving(start(t, name, args...), host)
}

// serving waits until server p says it is listening on host, and takes
// the ports it names there.
func serving(p *proc, host string) (*server, error) {
	s := &server{proc: p, host: host}
	line, err := s.out.await(bannerPorts.MatchString)
	if err != nil {
		s.wait()
		return s, err
	}
	m := bannerPorts.FindStringSubmatch(line)
	s.post, s.pub = m[1], m[2]
	return s, nil
}

// startServerWith starts server program name with flags on loopback and
// free ports, as startServer does.
func startServerWith(t testing.TB, name string, flags ...string) *server {
	t.Helper()
	pub := "0"
	if name == "post_server" {
		pub = ""
	}
	s, err := startServerOn(t, name, "127.0.0.1", "0", pub, flags...)
	if err != nil {
		t.Fatalf("%s did not start: %v\n%s", name, err, s.err)
	}
	return s
}

// args returns the server's address and ports as a client's first
// arguments: host, post port and, for a publishing server, pub port.
func (s *server) args(extra ...string) []string {
	a := []string{s.host, s.post}
	if s.pub != "" {
		a = append(a, s.pub)
	}
	return append(a, extra...)
}

// ---- raw ZeroMQ peers ----

// rawPost sends frames to a post endpoint on its own REQ socket and returns
// the reply: a real ZeroMQ peer that does not go through zmqchat's client.
func rawPost(t testing.TB, host, port string, frames ...string) []string {
	t.Helper()
	reply, err := rawRequest(host, port, wait, frames...)
	if err != nil {
		t.Fatalf("request %.60q: %v", frames, err)
	}
	return reply
}

// rawRequest sends frames on a new REQ socket and waits up to timeout for
// the reply.
func rawRequest(host, port string, timeout time.Duration, frames ...string) ([]string, error) {
	req, err := zmq.NewSocket(zmq.REQ)
	if err != nil {
		return nil, err
	}
	defer req.Close()
	req.SetLinger(0)
	if err := req.Connect("tcp://" + net.JoinHostPort(host, port)); err != nil {
		return nil, err
	}
	if _, err := req.SendMessage(frames); err != nil {
		return nil, err
	}
	poller := zmq.NewPoller()
	poller.Add(req, zmq.POLLIN)
	polled, err := poller.Poll(timeout)
	if err != nil {
		return nil, err
	}
	if len(polled) == 0 {
		return nil, fmt.Errorf("no reply within %s", timeout)
	}
	return req.RecvMessage(0)
}

// dialPost returns a REQ socket connected to s's post port, which waits
// at most timeout for each reply; it is closed by the caller.
func dialPost(t testing.TB, s *server, timeout time.Duration) *zmq.Socket {
	req, err := zmq.NewSocket(zmq.REQ)
	if err != nil {
		t.Error(err)
		return nil
	}
	req.SetLinger(0)
	req.SetRcvtimeo(timeout)
	if err := req.Connect("tcp://" + net.JoinHostPort(s.host, s.post)); err != nil {
		t.Error(err)
	}
	return req
}

// post is a valid post request's frames.
func post(channel, user, body string) []string {
	return []string{"POST", channel, user, time.Now().Format(time.RFC3339Nano), body}
}

// mustOK posts and fails the test unless the reply is OK.
func mustOK(t testing.TB, s *server, channel, user, body string) {
	t.Helper()
	if r := rawPost(t, s.host, s.post, post(channel, user, body)...); len(r) != 1 || r[0] != "OK" {
		t.Fatalf("post %q to %q: reply %q, want OK", body, channel, r)
	}
}

// mustERR sends frames and fails the test unless the reply is ERR with a
// reason containing want.
func mustERR(t testing.TB, s *server, want string, frames ...string) {
	t.Helper()
	r := rawPost(t, s.host, s.post, frames...)
	if len(r) != 2 || r[0] != "ERR" || !strings.Contains(r[1], want) {
		t.Fatalf("request %q: reply %q, want ERR containing %q", frames, r, want)
	}
}

// subscribed waits until each subscriber shows messages posted on channel:
// ZeroMQ subscriptions take a moment to reach the publisher, and what is
// published before that is not delivered (the "slow joiner"). It posts
// probes until every subscriber has printed one.
func subscribed(t testing.TB, s *server, channel string, subs ...output) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tag := fmt.Sprintf("probe-%s-%d-", channel, probes.Add(1))
	for n := 1; ; n++ {
		mustOK(t, s, channel, "probe", fmt.Sprint(tag, n))
		ready := 0
		for _, p := range subs {
			if p.stdout().count(tag) > 0 {
				ready++
			}
		}
		if ready == len(subs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d subscribers saw a probe within %s", ready, len(subs), wait)
		}
		// Give the subscribers a chance before the next probe, by waiting on
		// the first one that has not seen any (bounded, not a fixed sleep).
		for _, p := range subs {
			if p.stdout().count(tag) == 0 {
				waitChange(p.stdout(), 50*time.Millisecond)
				break
			}
		}
	}
}

var probes atomic.Int64

// output is what shows a subscriber's messages: a program, or an in-test
// subscriber's lines.
type output interface{ stdout() *lines }

func (p *proc) stdout() *lines  { return p.out }
func (l *lines) stdout() *lines { return l }

// waitChange waits until l changes or d passes.
func waitChange(l *lines, d time.Duration) {
	_, _, changed := l.snapshot()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	select {
	case <-changed:
	case <-ctx.Done():
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// peakRSS returns the peak resident memory of process pid, in bytes
// (VmHWM): what a burst of allocation leaves behind even once freed.
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	n, err := proctest.Memory(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// never fails the test if a line of any of outs contains any of subs: what
// must not have got through.
func never(t testing.TB, outs []*lines, subs ...string) {
	t.Helper()
	for _, out := range outs {
		for _, sub := range subs {
			if out.count(sub) > 0 {
				t.Errorf("%q got through:\n%s", sub, out)
			}
		}
	}
}
