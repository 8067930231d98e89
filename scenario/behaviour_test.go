package scenario

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTicks returns the CPU time process pid has used, in clock ticks
// (utime + stime from /proc/pid/stat).
func cpuTicks(t testing.TB, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// Idle programs sleep: a server with nobody posting, a subscriber and a
// chat client with nothing arriving each use a sliver of a core, not a
// busy loop. The window is a measurement, not a wait for something.
func TestIdleProgramsUseAlmostNoCPU(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	listener := start(t, "pub_client", s.host, s.pub)
	ann := member(t, s, "dev", "ann")
	subscribed(t, s, "dev", listener, ann)
	procs := map[string]*proc{"mc_server": s.proc, "pub_client": listener, "mc_client": ann}
	before := map[string]int64{}
	for name, p := range procs {
		before[name] = cpuTicks(t, p.cmd.Process.Pid)
	}
	const window = 2 * time.Second
	<-time.After(window)
	for name, p := range procs {
		used := cpuTicks(t, p.cmd.Process.Pid) - before[name]
		// 100 ticks a second is a whole core; a busy loop shows ~200 here.
		if used > 30 {
			t.Errorf("idle %s used %d ticks of CPU in %s (a whole core is %d)", name, used, window, 2*100)
		}
	}
}

// Times are shown in the viewer's local time, whatever zone the poster
// stamped them in: 07:43:15Z is 13:13:15 in Kolkata (+05:30).
func TestTimesAreShownInLocalTime(t *testing.T) {
	t.Parallel()
	kolkata := []string{"TZ=Asia/Kolkata"}
	s := &server{host: "127.0.0.1"}
	s.proc = startEnv(t, kolkata, "mc_server", "127.0.0.1", "0", "0")
	m := bannerPorts.FindStringSubmatch(s.out.waitMatch(t, "mc_server", "banner", bannerPorts.MatchString))
	s.post, s.pub = m[1], m[2]
	eve := startEnv(t, kolkata, "mc_client", s.args("ALL", "eve")...)
	listener := startEnv(t, kolkata, "pub_client", s.host, s.pub)
	subscribed(t, s, "dev", eve, listener)
	for _, tm := range []string{"2026-11-25T07:43:15.5Z", "2026-11-25T02:43:15-05:00"} {
		mustOKFrames(t, s, "POST", "dev", "ann", tm, "at "+tm)
	}
	want := "(2026-11-25 13:13:15)"
	eve.out.waitCount(t, "mc_client", want, 2)
	listener.out.waitCount(t, "pub_client", want, 2)
	s.out.waitCount(t, "mc_server", want, 2)
}

// mustOKFrames sends frames as they are and fails unless the reply is OK.
func mustOKFrames(t testing.TB, s *server, frames ...string) {
	t.Helper()
	if r := rawPost(t, s.host, s.post, frames...); len(r) != 1 || r[0] != "OK" {
		t.Fatalf("request %q: reply %q, want OK", frames, r)
	}
}

// A server that stops answering without closing its connections (frozen,
// or behind a link that went down) is noticed by the subscribers'
// heartbeats; TCP alone would wait forever. When it wakes, they reconnect.
func TestSubscribersNoticeAFrozenServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, "interactive_server", "127.0.0.1")
	listener := start(t, "pub_client", s.host, s.pub)
	subscribed(t, s, "", listener)
	listener.err.waitFor(t, "pub_client", "connected to")

	s.signal(syscall.SIGSTOP)
	listener.err.waitFor(t, "pub_client", "lost the connection")
	s.signal(syscall.SIGCONT)
	listener.err.waitCount(t, "pub_client", "connected to", 2)
	subscribed(t, s, "", listener)
}

// A server stopped in the middle of a stream of posts answers the post in
// hand, and its log has, by the time it exits, every post it answered OK,
// and no post it did not answer. While the stream keeps it busy (four
// posters, never a pause), its log keeps up: it is written as it goes, not
// only when the server is idle.
func TestServerStopsCleanlyUnderLoad(t *testing.T) {
	t.Parallel()
	for round := 0; round < 2; round++ {
		s := startServer(t, "mc_server", "127.0.0.1")
		var mu sync.Mutex
		var acked []string
		var posters sync.WaitGroup
		for p := 0; p < 4; p++ {
			posters.Add(1)
			go func() {
				defer posters.Done()
				req := dialPost(t, s, time.Second)
				defer req.Close()
				for i := 0; ; i++ {
					body := fmt.Sprintf("load %d-%d-%d", round, p, i)
					if _, err := req.SendMessage(post("dev", "ann", body)); err != nil {
						return
					}
					r, err := req.RecvMessage(0)
					if err != nil {
						return // no reply within a second: the server has gone
					}
					if len(r) == 1 && r[0] == "OK" {
						mu.Lock()
						acked = append(acked, body)
						mu.Unlock()
					}
				}
			}()
		}
		s.out.waitFor(t, "mc_server", fmt.Sprintf("[dev] ann: load %d-0-200 (", round))
		s.signal(syscall.SIGTERM)
		if code := s.wait(); code != 0 {
			t.Fatalf("mc_server exited %d on SIGTERM under load", code)
		}
		posters.Wait()
		logged := map[string]bool{}
		for _, line := range strings.Split(s.out.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, "[dev] ann: "); ok {
				logged[rest[:strings.LastIndex(rest, " (")]] = true
			}
		}
		mu.Lock()
		for _, body := range acked {
			if !logged[body] {
				t.Errorf("round %d: %q was answered OK but is not in the log", round, body)
			}
			delete(logged, body)
		}
		n := len(acked)
		mu.Unlock()
		for body := range logged {
			t.Errorf("round %d: %q is in the log but its OK never reached the client", round, body)
		}
		s.out.waitFor(t, "mc_server", fmt.Sprintf("stopped; %d messages stored", n))
	}
}

// A server kept busy writes its log as it goes, not only when it is idle:
// after 40 posts, requests that log nothing (each answered ERR) keep it
// busy, and the 40 lines still appear meanwhile, though they fill only a
// sliver of the log's buffer.
func TestBusyServerLogKeepsUp(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	stop := make(chan struct{})
	var posters sync.WaitGroup
	for p := 0; p < 4; p++ {
		posters.Add(1)
		go func() {
			defer posters.Done()
			req := dialPost(t, s, wait)
			defer req.Close()
			for i := 0; ; i++ {
				frames := []string{"NOTHING"}
				if i < 10 {
					frames = post("dev", "ann", fmt.Sprintf("busy %d-%d", p, i))
				} else {
					select {
					case <-stop:
						return
					default:
					}
				}
				if _, err := req.SendMessage(frames); err != nil {
					return
				}
				if _, err := req.RecvMessage(0); err != nil {
					return
				}
			}
		}()
	}
	s.out.waitCount(t, "mc_server", "[dev] ann: busy ", 40)
	close(stop)
	posters.Wait()
}

// Signals that do not mean stop, such as SIGWINCH (every terminal resize),
// interrupt blocking calls inside libzmq; nothing ends or misbehaves.
func TestResizeSignalsAreHarmless(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	listener := start(t, "pub_client", s.host, s.pub)
	ann := member(t, s, "dev", "ann")
	subscribed(t, s, "dev", listener, ann)
	for i := 0; i < 200; i++ {
		for _, p := range []*proc{s.proc, listener, ann} {
			p.signal(syscall.SIGWINCH)
		}
	}
	ann.typeLine("after the storm")
	listener.out.waitFor(t, "pub_client", "ann: after the storm (")
	ann.out.waitFor(t, "mc_client", "ann: after the storm (")
	for _, p := range []*proc{listener, ann, s.proc} {
		if p.exited() {
			t.Fatalf("%s exited on SIGWINCH", p.name)
		}
		p.interrupt()
	}
}

// The time frame is strict RFC 3339, so nothing the server republishes
// can be much larger than the body limit: a post with a 1-byte body and a
// megabyte of "time" is refused, as are a one-digit hour, year 0000 and
// an offset of +24:00.
func TestTimeFrameIsBounded(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	listener := start(t, "pub_client", s.host, s.pub)
	subscribed(t, s, "dev", listener)
	for _, tm := range []string{
		"2026-11-25T07:43:15Z" + strings.Repeat("0", 1<<20-64),
		"2026-11-25T7:43:15Z",
		"0000-11-25T07:43:15Z",
		"2026-11-25T07:43:15+24:00",
	} {
		mustERR(t, s, "not RFC 3339", "POST", "dev", "mallory", tm, "x")
	}
	mustOKFrames(t, s, "POST", "dev", "ann", "2026-11-25t07:43:15.5z", "lower case t and z are RFC 3339 too")
	listener.out.waitFor(t, "pub_client", "ann: lower case t and z are RFC 3339 too (")
	never(t, []*lines{s.out, listener.out}, "mallory")
}
