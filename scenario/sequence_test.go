package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// postMany posts n messages numbered from first ("<tag>-00001 <pad>", …)
// to channel as user, one at a time on one socket, and fails the test on
// any refusal.
func postMany(t *testing.T, s *server, channel, user, tag, pad string, first, n int) {
	t.Helper()
	req := dialPost(t, s, wait)
	defer req.Close()
	for i := first; i < first+n; i++ {
		if _, err := req.SendMessage(post(channel, user, fmt.Sprintf("%s-%05d %s", tag, i, pad))); err != nil {
			t.Fatal(err)
		}
		if r, err := req.RecvMessage(0); err != nil || r[0] != "OK" {
			t.Fatalf("post %d: %q %v", i, r, err)
		}
	}
}

// numbersShown returns the numbers of the messages tagged tag that out
// shows, in the order shown.
func numbersShown(out *lines, tag string) []int {
	all, _, _ := out.snapshot()
	re := regexp.MustCompile(regexp.QuoteMeta(tag) + `-(\d{5}) `)
	var got []int
	for _, l := range all {
		if m := re.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			got = append(got, n)
		}
	}
	return got
}

// checkAllOnce fails the test unless shown is first, first+1, … last.
func checkAllOnce(t *testing.T, who string, shown []int, first, last int) {
	t.Helper()
	if len(shown) != last-first+1 {
		t.Errorf("%s showed %d messages, want %d", who, len(shown), last-first+1)
	}
	for i, n := range shown {
		if n != first+i {
			t.Fatalf("%s: message %d shown is number %d, want %d", who, i+1, n, first+i)
		}
	}
}

// subscriberOf is a subscribing program of one of the parts, started
// against a server of its part.
type subscriberOf struct {
	name, server, channel string
	args                  func(s *server) []string
}

var subscribers = []subscriberOf{
	{"pub_client", "pub_server", "", func(s *server) []string { return []string{s.host, s.pub} }},
	{"interactive_client", "interactive_server", "", func(s *server) []string { return s.args("bob") }},
	{"mc_client", "mc_server", "dev", func(s *server) []string { return s.args("dev", "bob") }},
	{"mc_client", "mc_server", "ALL", func(s *server) []string { return s.args("ALL", "bob") }},
}

// A subscriber stopped (SIGSTOP) while 20,000 posts go past its
// high-water mark, then continued, shows every one once and in order: it
// sees the jump in the numbers and fetches what the server dropped for
// it. Each part's subscribing program. The posts are 20 MB, twice what
// the kernel's buffers between server and subscriber hold.
func TestFrozenSubscriberMissesNothing(t *testing.T) {
	t.Parallel()
	for _, c := range subscribers {
		t.Run(c.name+"_"+c.channel, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, c.server, "127.0.0.1")
			sub := start(t, c.name, c.args(s)...)
			channel := c.channel
			if channel == "ALL" {
				channel = "dev"
			}
			subscribed(t, s, channel, sub)
			sub.signal(syscall.SIGSTOP)
			const n = 20000
			postMany(t, s, channel, "ann", "f", strings.Repeat("f", 1000), 1, n)
			sub.signal(syscall.SIGCONT)
			sub.out.waitFor(t, c.name, fmt.Sprintf("f-%05d ", n))
			checkAllOnce(t, c.name, numbersShown(sub.out, "f"), 1, n)
			if sub.err.count("missed") != 0 {
				t.Errorf("%s said it missed messages the server keeps:\n%s", c.name, sub.err)
			}
		})
	}
}

// A server killed and restarted on its store file while clients run:
// every client shows every acknowledged message once, in order, those
// published while it reconnected included.
func TestStoreRestartMissesNothing(t *testing.T) {
	t.Parallel()
	file := t.TempDir() + "/chat.db"
	s := startServerWith(t, "mc_server", "-store", file)
	dev := start(t, "mc_client", s.args("dev", "bob")...)
	all := start(t, "mc_client", s.args("ALL", "eve")...)
	sub := start(t, "pub_client", s.host, s.pub)
	subscribed(t, s, "dev", dev, all, sub)
	postMany(t, s, "dev", "ann", "r", "", 1, 200)
	s.signal(syscall.SIGKILL)
	s.wait()
	s2, err := startServerOn(t, "mc_server", s.host, s.post, s.pub, "-store", file)
	if err != nil {
		t.Fatalf("restart on the store: %v", err)
	}
	postMany(t, s2, "dev", "ann", "r", "", 201, 200)
	for _, c := range []*proc{dev, all, sub} {
		c.out.waitFor(t, c.name, "r-00400 ")
		checkAllOnce(t, c.name, numbersShown(c.out, "r"), 1, 400)
		if c.err.count("missed") != 0 || c.err.count("new numbering") != 0 {
			t.Errorf("%s said it lost messages:\n%s", c.name, c.err)
		}
	}
}

// A server restarted without a store begins a new numbering: each client
// notices at once, says so, and shows every message posted after the
// restart, once.
func TestMemoryRestartIsANewNumbering(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	dev := start(t, "mc_client", s.args("dev", "bob")...)
	sub := start(t, "pub_client", s.host, s.pub)
	subscribed(t, s, "dev", dev, sub)
	postMany(t, s, "dev", "ann", "a", "", 1, 50)
	s.signal(syscall.SIGKILL)
	s.wait()
	s2, err := startServerOn(t, "mc_server", s.host, s.post, s.pub)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	for _, c := range []*proc{dev, sub} {
		c.err.waitFor(t, c.name, "lost the connection")
	}
	postMany(t, s2, "dev", "ann", "b", "", 1, 50)
	for _, c := range []*proc{dev, sub} {
		c.out.waitFor(t, c.name, "b-00050 ")
		c.err.waitFor(t, c.name, "the server began a new numbering")
		checkAllOnce(t, c.name, numbersShown(c.out, "a"), 1, 50)
		checkAllOnce(t, c.name, numbersShown(c.out, "b"), 1, 50)
	}
}

// A client that missed more than the server keeps says exactly how many
// it could not get back, and shows the rest, once, in order.
func TestMissedMoreThanKeptIsNamed(t *testing.T) {
	t.Parallel()
	s := startServerWith(t, "mc_server", "-store-mib", "1")
	sub := start(t, "mc_client", s.args("dev", "bob")...)
	subscribed(t, s, "dev", sub)
	sub.signal(syscall.SIGSTOP)
	const n = 4000 // 16 MB: more than the kernel's buffers hold, and 1 MiB kept
	postMany(t, s, "dev", "ann", "k", strings.Repeat("k", 4000), 1, n)
	sub.signal(syscall.SIGCONT)
	line := sub.err.waitFor(t, "mc_client", "missed ")
	sub.out.waitFor(t, "mc_client", fmt.Sprintf("k-%05d ", n))
	m := regexp.MustCompile(`missed (\d+) messages of channel dev that the server no longer keeps`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("stderr: %q", line)
	}
	missed, _ := strconv.Atoi(m[1])
	all, _, _ := sub.out.snapshot()
	var shown []int
	for _, l := range all {
		if i := strings.Index(l, "k-"); i >= 0 {
			k, _ := strconv.Atoi(l[i+2 : i+7])
			shown = append(shown, k)
		}
	}
	t.Logf("shown %d, missed %d, of %d", len(shown), missed, n)
	if len(shown)+missed != n || missed == 0 {
		t.Errorf("shown %d and missed %d of %d", len(shown), missed, n)
	}
	for i := 1; i < len(shown); i++ {
		if shown[i] <= shown[i-1] {
			t.Fatalf("shown out of order or twice: %d after %d", shown[i], shown[i-1])
		}
	}
}
