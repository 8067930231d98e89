package scenario

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// history asks s for the n most recent messages of channel and returns
// their bodies, oldest first.
func history(t testing.TB, s *server, channel string, n int) []string {
	t.Helper()
	r := rawPost(t, s.host, s.post, "HISTORY", channel, itoa(n))
	if len(r) == 0 || r[0] != "OK" || (len(r)-1)%5 != 0 {
		t.Fatalf("HISTORY %q %d: reply %.200q", channel, n, r)
	}
	var bodies []string
	for i := 4; i < len(r); i += 5 {
		bodies = append(bodies, r[i])
	}
	return bodies
}

// chatLines returns the lines of out that show a message from user, in
// order.
func chatLines(out *lines, user string) []string {
	all, _, _ := out.snapshot()
	var got []string
	for _, l := range all {
		if strings.HasPrefix(l, user+": ") || strings.Contains(l, "] "+user+": ") {
			got = append(got, l[:strings.LastIndex(l, " (")])
		}
	}
	return got
}

// Each part's clients show the recent history on joining, oldest first,
// set apart from what comes live, and then live messages, each once.
func TestHistoryOnJoinPart2(t *testing.T) {
	t.Parallel()
	s := startServer(t, "pub_server", "127.0.0.1")
	for i := 1; i <= 5; i++ {
		mustOK(t, s, "", "ann", fmt.Sprint("m", i))
	}
	sub := start(t, "pub_client", "-history", "3", "-post-port", s.post, s.host, s.pub)
	sub.out.waitFor(t, "pub_client", "ann: m5")
	mustOK(t, s, "", "ann", "m6")
	sub.out.waitFor(t, "pub_client", "ann: m6")
	if got := strings.Join(chatLines(sub.out, "ann"), "|"); got != "ann: m3|ann: m4|ann: m5|ann: m6" {
		t.Errorf("pub_client showed %q", got)
	}
	// Without -post-port it asks the port the server's welcome names.
	sub = start(t, "pub_client", "-history", "3", s.host, s.pub)
	sub.out.waitFor(t, "pub_client", "ann: m6")
	mustOK(t, s, "", "ann", "m7")
	sub.out.waitFor(t, "pub_client", "ann: m7")
	if got := strings.Join(chatLines(sub.out, "ann"), "|"); got != "ann: m4|ann: m5|ann: m6|ann: m7" {
		t.Errorf("pub_client without -post-port showed %q", got)
	}
}

func TestHistoryOnJoinPart3(t *testing.T) {
	t.Parallel()
	s := startServer(t, "interactive_server", "127.0.0.1")
	for i := 1; i <= 5; i++ {
		mustOK(t, s, "", "ann", fmt.Sprint("m", i))
	}
	bob := start(t, "interactive_client", append([]string{"-history", "3"}, s.args("bob")...)...)
	bob.out.waitFor(t, "interactive_client", "--- live from here ---")
	bob.typeLine("hello")
	bob.out.waitFor(t, "interactive_client", "bob: hello (")
	bob.stdin.Close()
	if code := bob.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	all, _, _ := bob.out.snapshot()
	var got []string
	for _, l := range all {
		if i := strings.LastIndex(l, " ("); i > 0 {
			l = l[:i]
		}
		got = append(got, l)
	}
	want := "--- 3 earlier messages ---|ann: m3|ann: m4|ann: m5|--- live from here ---|bob: hello"
	if strings.Join(got, "|") != want {
		t.Errorf("interactive_client showed %q, want %q", strings.Join(got, "|"), want)
	}
	// On a pipe the default is none: the output is what the assignment says.
	carl := start(t, "interactive_client", s.args("carl")...)
	carl.typeLine("just me")
	carl.stdin.Close()
	carl.wait()
	if got := strings.Join(carl.out.all, "|"); !strings.HasPrefix(got, "carl: just me (") || strings.Contains(got, "ann:") {
		t.Errorf("a piped client without -history showed %q", got)
	}
}

func TestHistoryOnJoinPart4(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	for _, p := range [][2]string{{"dev", "d1"}, {"dev", "d2"}, {"dev", "d3"}, {"ops", "o1"}, {"devops", "x1"}} {
		mustOK(t, s, p[0], "ann", p[1])
	}
	dev := start(t, "mc_client", append([]string{"-history", "2"}, s.args("dev", "bob")...)...)
	all := start(t, "mc_client", append([]string{"-history", "3"}, s.args("ALL", "eve")...)...)
	dev.out.waitFor(t, "mc_client on dev", "--- live from here ---")
	all.out.waitFor(t, "mc_client on ALL", "--- live from here ---")
	if got := strings.Join(chatLines(dev.out, "ann"), "|"); got != "ann: d2|ann: d3" {
		t.Errorf("dev's history: %q", got)
	}
	if got := strings.Join(chatLines(all.out, "ann"), "|"); got != "[dev] ann: d3|[ops] ann: o1|[devops] ann: x1" {
		t.Errorf("ALL's history: %q", got)
	}
	if got := history(t, s, "nowhere", 5); len(got) != 0 {
		t.Errorf("history of an unknown channel: %q", got)
	}
	// Part 2's subscriber, which sees everything, gets every channel's
	// history from a part 4 server too.
	sub := start(t, "pub_client", "-history", "2", "-post-port", s.post, s.host, s.pub)
	sub.out.waitFor(t, "pub_client", "ann: x1 (")
	if got := strings.Join(chatLines(sub.out, "ann"), "|"); got != "ann: o1|ann: x1" {
		t.Errorf("pub_client's history from mc_server: %q", got)
	}
}

// A client that joins while others post shows every message, from its
// history or live, exactly once and in the server's order: nothing falls
// between the history and the subscription, and nothing is shown twice.
func TestJoinDuringPostsMissesNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	const n = 400
	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		req := dialPost(t, s, wait)
		defer req.Close()
		for i := 1; i <= n; i++ {
			if _, err := req.SendMessage(post("dev", "ann", fmt.Sprint("seq-", i))); err != nil {
				t.Error(err)
				return
			}
			if r, err := req.RecvMessage(0); err != nil || r[0] != "OK" {
				t.Errorf("post %d: %q, %v", i, r, err)
				return
			}
			if i == 50 {
				close(started)
			}
		}
	}()
	<-started
	c := start(t, "mc_client", append([]string{"-history", "1000"}, s.args("dev", "bob")...)...)
	wg.Wait()
	c.out.waitFor(t, "mc_client", fmt.Sprint("ann: seq-", n, " ("))
	got := chatLines(c.out, "ann")
	if len(got) != n {
		t.Errorf("showed %d messages, want %d", len(got), n)
	}
	for i, l := range got {
		if want := fmt.Sprint("ann: seq-", i+1); l != want {
			t.Fatalf("message %d is %q, want %q", i+1, l, want)
		}
	}
}

// A piped client shows all of its own lines, every time: it posts only
// once its subscription is up, and at the end of its input waits for its
// last lines to come back.
func TestPipedClientSeesAllItsOwnLines(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	const lines, runs = 100, 20
	var in strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&in, "line-%d\n", i)
	}
	for r := 0; r < runs; r++ {
		name := fmt.Sprint("ann", r)
		c := start(t, "mc_client", s.args("dev", name)...)
		if _, err := c.stdin.Write([]byte(in.String())); err != nil {
			t.Fatal(err)
		}
		c.stdin.Close()
		if code := c.wait(); code != 0 {
			t.Fatalf("run %d: exit %d\n%s", r, code, c.err)
		}
		got := chatLines(c.out, name)
		if len(got) != lines {
			t.Fatalf("run %d: showed %d of its %d lines", r, len(got), lines)
		}
		for i, l := range got {
			if want := fmt.Sprintf("%s: line-%d", name, i+1); l != want {
				t.Fatalf("run %d: line %d is %q, want %q", r, i+1, l, want)
			}
		}
	}
	if got := history(t, s, "dev", 1000); len(got) != 1000 || got[999] != fmt.Sprint("line-", lines) {
		t.Errorf("the server's last 1000: %d messages", len(got))
	}
}
