package scenario

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startWithStdout starts mc_server on free ports with its stdout a pipe
// that the test reads only as far as the banner; then the pipe is left
// unread (a stuck pager), or closed (| head -3) if closeIt.
func startWithStdout(t *testing.T, closeIt bool) (*server, *lines) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := newProgram(t, "mc_server", []string{"127.0.0.1", "0", "0"})
	p.cmd.Stdout = pw
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr := newLines()
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	done := make(chan struct{})
	go func() { stderr.readFrom(errPipe); close(done) }()
	p.reap(func() { <-done })
	t.Cleanup(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		pr.Close()
		if t.Failed() {
			t.Logf("mc_server's stderr:\n%s", stderr)
		}
	})
	br := bufio.NewReader(pr)
	banner, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("no banner: %v", err)
	}
	m := bannerPorts.FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner %q", banner)
	}
	if closeIt {
		pr.Close()
	}
	return &server{proc: &proc{program: p, out: newLines(), err: stderr}, host: "127.0.0.1", post: m[1], pub: m[2]}, stderr
}

// flood posts n posts from 4 REQ sockets and fails the test if any is not
// answered OK within the deadline.
func flood(t *testing.T, s *server, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := dialPost(t, s, 5*time.Second)
			defer req.Close()
			for i := 0; i < n/4; i++ {
				body := fmt.Sprintf("a line of the log that nobody reads, %d-%d", p, i)
				req.SendMessage(post("dev", "ann", body))
				if r, err := req.RecvMessage(0); err != nil || len(r) != 1 || r[0] != "OK" {
					t.Errorf("post %d-%d: %q, %v: the server stopped answering", p, i, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// With its stdout a pipe nobody reads, the server still answers every post
// (10,000 of them, far past what the pipe and the log's queue hold), says
// once that log lines are being dropped, and stops on SIGTERM.
func TestLogNobodyReadsNeverStopsTheServer(t *testing.T) {
	t.Parallel()
	s, stderr := startWithStdout(t, false)
	flood(t, s, 10000)
	stderr.waitFor(t, "mc_server", "stdout is not keeping up: log lines are being dropped (posts are still answered and stored)")
	s.signal(syscall.SIGTERM)
	if code := s.wait(); code != 0 {
		t.Errorf("exit %d on SIGTERM with a stuck stdout, want 0", code)
	}
	stderr.waitFor(t, "mc_server", "log lines dropped in all")
	if n := stderr.count("are being dropped"); n != 1 {
		t.Errorf("the dropping was reported %d times, want once", n)
	}
}

// With its stdout closed (mc_server | head -1), the server is not killed
// by SIGPIPE: it says once that writing the log failed, and goes on.
func TestLogClosedNeverStopsTheServer(t *testing.T) {
	t.Parallel()
	s, stderr := startWithStdout(t, true)
	flood(t, s, 400)
	stderr.waitFor(t, "mc_server", "writing the log failed")
	if s.exited() {
		t.Fatal("the server died once its stdout was closed")
	}
	s.signal(syscall.SIGTERM)
	if code := s.wait(); code != 0 {
		t.Errorf("exit %d on SIGTERM, want 0", code)
	}
}

// SIGHUP (the terminal closed) is a clean stop, like SIGTERM: the summary
// is written and the status is 0.
func TestServersStopOnSIGHUP(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	mustOK(t, s, "dev", "ann", "before the hang-up")
	s.signal(syscall.SIGHUP)
	if code := s.wait(); code != 0 {
		t.Errorf("exit %d on SIGHUP, want 0", code)
	}
	s.out.waitFor(t, "mc_server", "stopped; 1 message stored")
	if !strings.Contains(s.out.String(), "ann: before the hang-up") {
		t.Errorf("the last line was lost:\n%s", s.out)
	}
}

// The store has a byte budget: past it the oldest messages are dropped,
// which the server says once; it goes on answering.
func TestStoreBudget(t *testing.T) {
	t.Parallel()
	s := &server{host: "127.0.0.1"}
	s.proc = start(t, "mc_server", "-store-mib", "1", "127.0.0.1", "0", "0")
	m := bannerPorts.FindStringSubmatch(s.out.waitMatch(t, "mc_server", "banner", bannerPorts.MatchString))
	s.post, s.pub = m[1], m[2]
	body := strings.Repeat("m", 16000)
	for i := 0; i < 100; i++ { // 1.6 MB of bodies
		mustOK(t, s, "dev", "ann", fmt.Sprint(i, body))
	}
	s.err.waitFor(t, "mc_server", "the messages reached their budget of 1 MiB: the oldest are dropped from here on (-store-mib sets it; -store FILE keeps them all)")
	if n := s.err.count("reached their budget"); n != 1 {
		t.Errorf("said %d times, want once", n)
	}
	s.interrupt()
	line := s.out.waitMatch(t, "mc_server", "summary", func(l string) bool { return strings.Contains(l, "stopped;") })
	var held int
	fmt.Sscanf(line[strings.Index(line, "stopped;"):], "stopped; %d messages stored", &held)
	if held < 50 || held > 66 {
		t.Errorf("%q: want about 1 MiB of 16 KB messages held (60 or so)", line)
	}
}
