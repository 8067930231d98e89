package guard

import (
	"errors"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// pair returns both ends of a loopback TCP connection, and the descriptor
// of the accepted end, as a socket's monitor would report it.
func pair(t *testing.T) (client, server net.Conn, fd int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	f, err := server.(*net.TCPConn).File() // the same socket, another descriptor
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return client, server, int(f.Fd())
}

// sent has the client send n bytes, and waits until the server's kernel
// has them (it counts what it received, read or not).
func sent(t *testing.T, client net.Conn, fd, n int) {
	t.Helper()
	before, err := counted(fd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		info, err := counted(fd)
		if err != nil {
			t.Fatal(err)
		}
		if info.received >= before.received+uint64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server received %d of %d bytes", info.received-before.received, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// reset reports whether the client's end was reset by the peer.
func reset(t *testing.T, client net.Conn) bool {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1024)
	for {
		if _, err := client.Read(buf); err != nil { // after what the server sent
			return errors.Is(err, syscall.ECONNRESET)
		}
	}
}

func TestStallIsCutOffAndARequestIsProgress(t *testing.T) {
	client, server, fd := pair(t)
	ledger := NewLedger()
	g := New(Rule{Stall: 1000}, ledger)
	now := time.Now()
	g.Event(zmq.EVENT_ACCEPTED, fd, now)

	sent(t, client, fd, 500)
	if cuts := g.Check(now, 0); len(cuts) != 0 || g.suspect {
		t.Fatalf("cut off or suspect at half its allowance: %v, %v", cuts, g.suspect)
	}
	sent(t, client, fd, 100)
	if cuts := g.Check(now, 0); len(cuts) != 0 || !g.suspect {
		t.Fatalf("600 of 1,000 bytes without a request: cuts %v, suspect %v; want none, and suspect", cuts, g.suspect)
	}
	// A request taken whole: what came before it was a request, with the
	// key it came with in keyed mode.
	ledger.Served(fd, 2, "K3y")
	if cuts := g.Check(now, 0); len(cuts) != 0 || g.suspect {
		t.Fatalf("cut off or suspect after a request: %v, %v", cuts, g.suspect)
	}
	sent(t, client, fd, 1000)
	// Bytes sent back that answer no request (a PONG to a PING) are no
	// progress.
	if _, err := server.Write([]byte("\x04\x05\x04PONG")); err != nil {
		t.Fatal(err)
	}
	if cuts := g.Check(now, 0); len(cuts) != 0 {
		t.Fatalf("cut off for 1,000 bytes since its last request, its whole allowance: %v", cuts)
	}
	sent(t, client, fd, 1)
	cuts := g.Check(now, 0)
	if len(cuts) != 1 || cuts[0].Peer != client.LocalAddr().String() || cuts[0].Key != "K3y" || cuts[0].Sent != 1601 || !strings.Contains(cuts[0].Why, "1001 B of it without a whole request") {
		t.Fatalf("1,001 bytes without a request: cuts %v, want the client %s, 1,601 bytes sent", cuts, client.LocalAddr())
	}
	if !reset(t, client) {
		t.Error("the client's connection was not reset")
	}
	if len(g.conns) != 0 {
		t.Error("a cut-off connection is still watched")
	}
}

// Past the Total, with the process over Full, the connections that hold
// the most are cut off first, until the rest are within the Total; under
// Full, the estimate alone cuts nothing.
func TestTotalCutsThoseHoldingTheMost(t *testing.T) {
	ledger := NewLedger()
	g := New(Rule{Stall: 1000, Total: PerByte * 450, Full: 100}, ledger)
	now := time.Now()
	clients := map[int]net.Conn{}
	for _, n := range []int{100, 300, 200} {
		client, _, fd := pair(t)
		g.Event(zmq.EVENT_ACCEPTED, fd, now)
		g.Check(now, 0) // the first check judges from here on
		sent(t, client, fd, n)
		clients[n] = client
	}
	if cuts := g.Check(now, 100); len(cuts) != 0 {
		t.Fatalf("cut off with the process within Full: %v", cuts)
	}
	cuts := g.Check(now, 101)
	if len(cuts) != 1 || cuts[0].Peer != clients[300].LocalAddr().String() || !strings.Contains(cuts[0].Why, "held about 9.375 KiB, the most") {
		t.Fatalf("600 bytes pending, 32 times over, with 450 allowed: cuts %v, want the one with 300", cuts)
	}
	if cuts := g.Check(now, 101); len(cuts) != 0 {
		t.Fatalf("cut off within the Total: %v", cuts)
	}
}

// Unread counts the replies the loop made that the peer's system has not
// acknowledged.
func TestUnreadReplies(t *testing.T) {
	client, server, fd := pair(t)
	ledger := NewLedger()
	ledger.Unread(fd) // as the server asks before each HISTORY
	ledger.Served(fd, 5000, "")
	if n := ledger.Unread(fd); n != 5000 {
		t.Fatalf("unread %d, want 5,000 when nothing went out", n)
	}
	if _, err := server.Write(make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	io.ReadFull(client, make([]byte, 3000))
	for deadline := time.Now().Add(5 * time.Second); ledger.Unread(fd) != 2000; {
		if time.Now().After(deadline) {
			t.Fatalf("unread %d, want 2,000 once 3,000 bytes were taken", ledger.Unread(fd))
		}
		time.Sleep(time.Millisecond)
	}
	ledger.forget(fd)
	if n := ledger.Unread(fd); n != 0 {
		t.Errorf("unread %d after the connection was forgotten", n)
	}
	// Another connection on the same descriptor, served before the watch
	// heard the first went: its account begins again.
	ledger.Served(fd, 9000, "")
	_, _, fd2 := pair(t)
	if err := syscall.Dup2(fd2, fd); err != nil {
		t.Fatal(err)
	}
	if n := ledger.Unread(fd); n != 0 {
		t.Errorf("unread %d of a connection that was sent nothing, on a reused descriptor", n)
	}
}

func TestBudgetGrowsWithAge(t *testing.T) {
	client, _, fd := pair(t)
	g := New(Rule{Budget: 1000, Rate: 100}, nil)
	start := time.Now()
	g.Event(zmq.EVENT_ACCEPTED, fd, start)

	sent(t, client, fd, 1000)
	if cuts := g.Check(start, 0); len(cuts) != 0 {
		t.Fatalf("cut off within its budget: %v", cuts)
	}
	sent(t, client, fd, 150)
	if cuts := g.Check(start.Add(2*time.Second), 0); len(cuts) != 0 {
		t.Fatalf("cut off within its budget after 2 s: %v", cuts)
	}
	if cuts := g.Check(start.Add(time.Second), 0); len(cuts) != 1 {
		t.Fatalf("1,150 bytes in 1 s, over 1,000 + 100/s: cuts %v", cuts)
	}
}

func TestGoneConnectionsAreForgotten(t *testing.T) {
	client, _, fd := pair(t)
	g := New(Rule{Stall: 10}, nil)
	g.Event(zmq.EVENT_ACCEPTED, fd, time.Now())
	g.Event(zmq.EVENT_DISCONNECTED, fd, time.Now())
	sent(t, client, fd, 100)
	if cuts := g.Check(time.Now(), 0); len(cuts) != 0 || len(g.conns) != 0 {
		t.Fatalf("a connection that went was still watched: cuts %v", cuts)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 512 << 10: "512 KiB", 3 << 20: "3 MiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMemoryReadsTheProcesssResidentMemory(t *testing.T) {
	m := OpenMemory()
	defer m.Close()
	// Memory an earlier run of the test touched and let go would be
	// touched again without growing: give it back first.
	debug.FreeOSMemory()
	before := m.Resident()
	if before < 1<<20 {
		t.Fatalf("resident memory %d bytes", before)
	}
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = 1
	}
	if grew := m.Resident() - before; grew < 32<<20 {
		t.Errorf("resident memory grew by %d bytes after 64 MiB were touched", grew)
	}
	_ = big[len(big)-1]
}

// A connection the guard hears of late, after requests and replies went
// by, is judged from its first check on, not on what came before it.
func TestLateEventIsNotAStall(t *testing.T) {
	client, _, fd := pair(t)
	ledger := NewLedger()
	sent(t, client, fd, 3000) // requests...
	ledger.Served(fd, 2, "")  // ...answered
	g := New(Rule{Stall: 1000}, ledger)
	now := time.Now()
	g.Event(zmq.EVENT_ACCEPTED, fd, now)
	if cuts := g.Check(now, 0); len(cuts) != 0 {
		t.Fatalf("cut off on its first check for what came before the event: %v", cuts)
	}
	sent(t, client, fd, 1001)
	if cuts := g.Check(now, 0); len(cuts) != 1 {
		t.Fatalf("4,001 bytes and no reply since the first check: cuts %v, want one", cuts)
	}
}
