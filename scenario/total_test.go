package scenario

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A peer that puts a ZMTP PING inside a message that never ends earns a
// PONG each time. A PONG is no progress: the guard counts only requests
// taken whole, and cuts the peer off as it would without the PINGs.
func TestPingsAreNoProgress(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	mustOK(t, s, "dev", "ann", "before")
	before := peakRSS(t, s.cmd.Process.Pid)
	c := dialZMTP(t, net.JoinHostPort(s.host, s.post), "DEALER")
	var pongs atomic.Int64 // bytes back: PONGs only, since no request ends
	go func() {
		n, _ := io.Copy(io.Discard, c)
		pongs.Add(n)
	}()
	done := make(chan endlessResult, 1)
	chunk := append(emptyFrames(64<<10), ping...)
	go func() { done <- endlessChunks(c, chunk, 64<<20, time.Now().Add(wait)) }()
	r := postWhile(t, s, done)
	if !r.hungUp {
		t.Fatalf("sent %d MiB of one message, with a PING every 64 KiB, and the server still took it", r.sent>>20)
	}
	s.err.waitFor(t, "the cut-off", "cut off "+c.LocalAddr().String()+" on the post port")
	if pongs.Load() == 0 {
		t.Fatal("no PONG came back: the PINGs were not taken for PINGs")
	}
	grew := peakRSS(t, s.cmd.Process.Pid) - before
	t.Logf("cut off after %d KiB sent, %d bytes of PONGs back; server peak memory grew by %d MiB", r.sent>>10, pongs.Load(), grew>>20)
	if grew > endlessBound {
		t.Errorf("server peak memory grew by %d MiB (bound %d MiB)", grew>>20, endlessBound>>20)
	}
}

// postWhile posts to s until done says how the attack went: a person is
// served all along.
func postWhile(t *testing.T, s *server, done <-chan endlessResult) endlessResult {
	t.Helper()
	var worst time.Duration
	for posted := 0; ; posted++ {
		select {
		case r := <-done:
			mustOK(t, s, "dev", "ann", "after")
			t.Logf("%d posts served meanwhile, the slowest in %v", posted, worst.Round(time.Millisecond))
			return r
		default:
			start := time.Now()
			mustOK(t, s, "dev", "ann", fmt.Sprint("meanwhile ", posted))
			worst = max(worst, time.Since(start))
		}
	}
}

// Peers that ask for the largest history again and again and never read
// the replies: each reply stops at 1 MiB, and a peer with 2 MiB unread is
// refused more history until it reads, so the server holds a few MiB for
// each, not the 16 MiB of every reply asked for.
func TestUnreadHistoryRepliesAreBounded(t *testing.T) {
	t.Parallel()
	s := startPlain(t, "-memory", "1024")
	postMany(t, s, "dev", "ann", "h", strings.Repeat("x", 16000-len("h-00001 ")), 1, 1000)
	before := peakRSS(t, s.cmd.Process.Pid)
	var attackers []net.Conn
	for range 2 {
		c := dialSlowReader(t, net.JoinHostPort(s.host, s.post))
		w := bufio.NewWriter(c)
		for range 40 {
			writeMessage(w, "", "HISTORY", "dev", "1000")
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		attackers = append(attackers, c)
	}
	// Meanwhile a person posts, and gets the history, a page at a time.
	mustOK(t, s, "dev", "bob", "meanwhile")
	// bob's line and the newest 65 bodies: 1 MiB.
	if r := rawPost(t, s.host, s.post, "HISTORY", "dev", "1000"); r[0] != "MORE" || len(r) != 1+5*66 || r[len(r)-2] != "meanwhile" {
		t.Errorf("history of 1,000 bodies of 16,000 bytes and a line: %s and %d frames, want MORE and 66 messages", r[0], len(r)-1)
	}
	for i, c := range attackers {
		words := readReplies(t, c, 40)
		t.Logf("attacker %d got %s", i, strings.Join(words, " "))
		if words[0] != "MORE" || words[39] != "ERR: read the replies you asked for first" {
			t.Errorf("attacker %d's replies: %q", i, words)
		}
	}
	grew := peakRSS(t, s.cmd.Process.Pid) - before
	t.Logf("2 peers asked for 80 histories of 16 MB without reading; server peak memory grew by %d MiB", grew>>20)
	if grew > 48<<20 {
		t.Errorf("server peak memory grew by %d MiB (bound 48 MiB)", grew>>20)
	}
}

// Many connections, each under its own cut-off, hold no more than the
// server's budget allows in all: 100 posters each sending 400 KiB of a
// message that never ends (under the 512 KiB cut-off; 12.5 MiB each to
// libzmq), or 300 subscribers each with 1.5 KB of subscriptions (3 of 500
// bytes: with their hello, under their 2 KiB). Those holding the most are
// cut off and named, the server stays within -memory, and a person is
// served all along.
func TestManyConnectionsStayWithinTheBudget(t *testing.T) {
	t.Parallel()
	for _, port := range []struct {
		name, as string
		n        int
		budget   int // MiB
		send     func(c net.Conn) error
	}{
		{"post", "DEALER", 100, 128, func(c net.Conn) error { _, err := c.Write(emptyFrames(400 << 10)); return err }},
		{"publish", "SUB", 300, 64, func(c net.Conn) error {
			// Topics that differ from their first bytes: libzmq keeps a
			// topic many subscribers share once.
			w := bufio.NewWriter(c)
			topic := strings.Repeat("t", 490)
			for range 3 {
				writeMessage(w, fmt.Sprintf("\x01%09d%s", topics.Add(1), topic))
			}
			return w.Flush()
		}},
	} {
		t.Run(port.name, func(t *testing.T) {
			t.Parallel()
			s := startPlain(t, "-memory", fmt.Sprint(port.budget))
			fair := rawSubscriber(t, s.host, s.pub)
			subscribed(t, s, "dev", fair)
			addr := net.JoinHostPort(s.host, s.post)
			if port.name == "publish" {
				addr = net.JoinHostPort(s.host, s.pub)
			}
			done := make(chan endlessResult, 1)
			go func() { done <- endlessResult{sent: attackMany(t, addr, port.as, port.n, port.send)} }()
			r := postWhile(t, s, done)
			for i := range 100 { // each publish takes in what waits, 4 subscriptions a subscriber
				mustOK(t, s, "dev", "ann", fmt.Sprint("after ", i))
			}
			fair.waitFor(t, "a post after the attack", "after")
			s.err.waitFor(t, "a cut-off", "the most, when this port's connections held")
			peak := peakRSS(t, s.cmd.Process.Pid)
			t.Logf("%d of %d sent all they meant to; server peak memory %d MiB, budget %d MiB", r.sent, port.n, peak>>20, port.budget)
			if peak > int64(port.budget)<<20 {
				t.Errorf("server peak memory %d MiB, over its budget of %d MiB", peak>>20, port.budget)
			}
		})
	}
}

// topics numbers the subscriptions of TestManyConnectionsStayWithinTheBudget.
var topics atomic.Int64

// attackMany opens n connections to addr as ZMTP peers of type typ, and
// has each send what send sends; it returns once all have sent or been
// cut off, keeping them open until the test ends.
func attackMany(t *testing.T, addr, typ string, n int, send func(net.Conn) error) int {
	var wg sync.WaitGroup
	var sent atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { c.Close() })
			if greet(c, typ) != nil {
				return // cut off already
			}
			c.SetWriteDeadline(time.Now().Add(wait))
			if send(c) == nil {
				sent.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(sent.Load())
}

// A flood of 16 KiB posts, past what the store keeps in memory, stays
// within the server's budget: the store drops its oldest at three eighths
// of it, and the Go heap is held to five eighths.
func TestPostFloodStaysWithinTheBudget(t *testing.T) {
	t.Parallel()
	const budget = 96
	s := startPlain(t, "-memory", fmt.Sprint(budget))
	body := strings.Repeat("y", 16000)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := dialPost(t, s, wait)
			defer req.Close()
			for i := range 1500 {
				if _, err := req.SendMessage(post("dev", "ann", fmt.Sprint(i, body))); err != nil {
					t.Error(err)
					return
				}
				if r, err := req.RecvMessage(0); err != nil || r[0] != "OK" {
					t.Errorf("post %d: %q %v", i, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s.err.waitFor(t, "the store's budget", "the messages reached their budget of 36 MiB")
	peak := peakRSS(t, s.cmd.Process.Pid)
	t.Logf("6,000 posts of 16 KB: server peak memory %d MiB, budget %d MiB", peak>>20, budget)
	if peak > budget<<20 {
		t.Errorf("server peak memory %d MiB, over its budget of %d MiB", peak>>20, budget)
	}
}

// startPlain starts mc_server as it ships (without the race detector, whose
// own memory would be counted in the server's) with flags, on loopback and
// free ports.
func startPlain(t *testing.T, flags ...string) *server {
	t.Helper()
	s, err := startServerOn(t, filepath.Join(plainDir, "mc_server"), "127.0.0.1", "0", "0", flags...)
	if err != nil {
		t.Fatalf("mc_server did not start: %v\n%s", err, s.err)
	}
	return s
}

// dialSlowReader connects to a post port as a DEALER that takes in little:
// its receive buffer is 4 KiB, so what it does not read stays with the
// server.
func dialSlowReader(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := greet(c, "DEALER"); err != nil {
		t.Fatal(err)
	}
	return c
}

// writeMessage writes frames as one ZMTP message.
func writeMessage(w *bufio.Writer, frames ...string) {
	for i, f := range frames {
		flags := byte(0)
		if i < len(frames)-1 {
			flags = 0x01 // more
		}
		if len(f) > 255 {
			w.WriteByte(flags | 0x02) // a long frame: its size in 8 bytes
			w.Write(binary.BigEndian.AppendUint64(nil, uint64(len(f))))
		} else {
			w.Write([]byte{flags, byte(len(f))})
		}
		w.WriteString(f)
	}
}

// readReplies reads n replies from a DEALER's connection and returns each
// one's first word after the delimiter, with an ERR's reason up to its
// colon.
func readReplies(t *testing.T, c net.Conn, n int) []string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	r := bufio.NewReaderSize(c, 64<<10)
	var words []string
	for len(words) < n {
		var frames []string
		for more := true; more; {
			flags, body, err := readFrame(r)
			if err != nil {
				t.Fatalf("after %d replies: %v", len(words), err)
			}
			if flags&0x04 == 0 { // not a command (a PONG)
				frames = append(frames, string(body[:min(len(body), 64)]))
				more = flags&0x01 != 0
			}
		}
		word := frames[1]
		if word == "ERR" {
			word += ": " + strings.SplitN(frames[2], ":", 2)[0]
		}
		words = append(words, word)
	}
	return words
}

// readFrame reads one ZMTP frame.
func readFrame(r *bufio.Reader) (flags byte, body []byte, err error) {
	if flags, err = r.ReadByte(); err != nil {
		return 0, nil, err
	}
	size := uint64(0)
	if flags&0x02 != 0 {
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		size = binary.BigEndian.Uint64(b[:])
	} else {
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		size = uint64(b)
	}
	body = make([]byte, size)
	_, err = io.ReadFull(r, body)
	return flags, body, err
}
