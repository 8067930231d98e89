//go:build peers

package bench

// The chat workload against what a user might pick instead of zmqchat,
// run by make bench-peers (the build tag keeps NATS out of make test and
// make bench). The workload is the same for each: lockstep clients post,
// each post is acknowledged once the server has it (stored, where the
// mapping stores), and a subscriber receives every post.
//
//   - zmqchat: mc_server, REQ clients, a SUB subscriber;
//   - raw: bare libzmq (rawserver: REP receives, PUB publishes, REP answers);
//   - nats-rr: nats-server and a responder (its own process) that keeps
//     each post in memory, publishes it and answers OK; clients send
//     requests (nats.go's Request);
//   - nats-pub: a publish and a flush, which returns once nats-server has
//     the post: it reaches subscribers, but nothing stores it;
//   - redis: redis-server, MULTI with RPUSH (the list is the store) and
//     PUBLISH, over a hand-written RESP connection per client.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zmqchat/zmqchat/internal/proctest"
)

// peerKinds returns the contenders in this round's order.
func peerKinds() []string {
	all := []string{"zmqchat", "raw", "nats-rr", "nats-pub", "redis"}
	round, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	r := round % len(all)
	return append(all[r:], all[:r]...)
}

// A chatPeer is a server to post to and subscribe at.
type chatPeer interface {
	// dial returns one lockstep client's post function.
	dial(b *testing.B, name string) func(body string) error
	// subscribe starts a subscriber to the bench channel.
	subscribe(b *testing.B) *subscriber
	// pids are the processes that do the server's work: for NATS's
	// request/responder, nats-server and the responder.
	pids() []int
}

// BenchmarkPeers: posts/s and the acknowledgement's latency percentiles
// at 1, 8 and 64 lockstep clients, with one subscriber receiving all.
func BenchmarkPeers(b *testing.B) {
	for _, clients := range []int{1, 8, 64} {
		for _, kind := range peerKinds() {
			b.Run(fmt.Sprintf("clients=%d/server=%s", clients, kind), func(b *testing.B) {
				p := startPeer(b, kind)
				sub := p.subscribe(b)
				posts := make([]func(string) error, clients)
				for c := range posts {
					posts[c] = p.dial(b, fmt.Sprint("c", c))
				}
				// Until the subscription is in place, what is posted is missed.
				deadline := time.Now().Add(10 * time.Second)
				for i := 0; sub.probes.Load() == 0; i++ {
					if err := posts[0](fmt.Sprint("probe ", i)); err != nil {
						b.Fatal(err)
					}
					if time.Now().After(deadline) {
						b.Fatal("the subscriber never got a post")
					}
					time.Sleep(2 * time.Millisecond)
				}
				b.ResetTimer()
				start, cpu0 := time.Now(), processesCPU(b, p.pids())
				acks := lockstep(b, posts, b.N)
				elapsed := time.Since(start)
				b.StopTimer()
				cpu := processesCPU(b, p.pids()) - cpu0
				b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "server-cpu-µs/post")
				await([]*subscriber{sub}, int64(b.N))
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "posts/s")
				b.ReportMetric(percentile(acks, 0.50), "ack-p50-µs")
				b.ReportMetric(percentile(acks, 0.99), "ack-p99-µs")
				b.ReportMetric(float64(int64(b.N)-sub.got.Load()), "lost")
			})
		}
	}
}

// processesCPU is the CPU time that the processes pids have used.
func processesCPU(b *testing.B, pids []int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		sum += cpuTime(b, pid)
	}
	return sum
}

// lockstep has each client post its share of n, one at a time, and
// returns every post's time to its acknowledgement.
func lockstep(b *testing.B, posts []func(string) error, n int) []time.Duration {
	var wg sync.WaitGroup
	acks := make([][]time.Duration, len(posts))
	errs := make(chan error, len(posts))
	for c, post := range posts {
		share := n / len(posts)
		if c < n%len(posts) {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < share; i++ {
				t := time.Now()
				if err := post("post " + strconv.Itoa(c) + " " + strconv.Itoa(i)); err != nil {
					errs <- err
					return
				}
				acks[c] = append(acks[c], time.Since(t))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	var all []time.Duration
	for _, a := range acks {
		all = append(all, a...)
	}
	return all
}

// percentile returns the p-th percentile of d, in µs.
func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(d[min(len(d)-1, int(p*float64(len(d))))]) / float64(time.Microsecond)
}

func startPeer(b *testing.B, kind string) chatPeer {
	switch kind {
	case "zmqchat", "raw":
		return zmqPeer{startTarget(b, kind)}
	case "nats-rr", "nats-pub":
		return startNATS(b, kind == "nats-rr")
	case "redis":
		return startRedis(b)
	}
	b.Fatalf("no peer %q", kind)
	return nil
}

// ---- zmqchat and raw libzmq ----

type zmqPeer struct{ t *target }

func (p zmqPeer) dial(b *testing.B, name string) func(string) error {
	return newPoster(b, p.t, name).post
}

func (p zmqPeer) subscribe(b *testing.B) *subscriber { return newSubscriber(b, p.t, false) }

func (p zmqPeer) pids() []int { return []int{p.t.cmd.Process.Pid} }

// ---- NATS ----

type natsPeer struct {
	url     string
	respond bool // posts are requests to the responder, else publishes
	procs   []int
}

func (p *natsPeer) pids() []int { return p.procs }

// startNATS starts nats-server (built by make bench-peers, named by
// BENCH_NATS_SERVER) on a free port, and with respond the responder,
// each its own process.
func startNATS(b *testing.B, respond bool) *natsPeer {
	bin := os.Getenv("BENCH_NATS_SERVER")
	if bin == "" {
		b.Skip("BENCH_NATS_SERVER names no nats-server (make bench-peers builds one)")
	}
	port, err := proctest.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	p := &natsPeer{url: fmt.Sprintf("nats://127.0.0.1:%d", port), respond: respond}
	p.procs = append(p.procs, run(b, "nats-server", exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port)), "Server is ready"))
	if respond {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNATSResponder$")
		cmd.Env = append(os.Environ(), "BENCH_NATS_RESPONDER="+p.url)
		p.procs = append(p.procs, run(b, "the responder", cmd, "responding"))
	}
	return p
}

func (p *natsPeer) connect(b *testing.B) *nats.Conn {
	nc, err := nats.Connect(p.url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}

func (p *natsPeer) dial(b *testing.B, name string) func(string) error {
	nc := p.connect(b)
	prefix := name + "\n"
	if p.respond {
		return func(body string) error {
			reply, err := nc.Request("chat.post", []byte(prefix+time.Now().Format(time.RFC3339Nano)+"\n"+body), 5*time.Second)
			if err == nil && string(reply.Data) != "OK" {
				err = fmt.Errorf("reply %q", reply.Data)
			}
			return err
		}
	}
	return func(body string) error {
		if err := nc.Publish("chat."+channel, []byte(prefix+time.Now().Format(time.RFC3339Nano)+"\n"+body)); err != nil {
			return err
		}
		return nc.Flush()
	}
}

func (p *natsPeer) subscribe(b *testing.B) *subscriber {
	nc := p.connect(b)
	sub := &subscriber{stop: make(chan struct{}), done: make(chan struct{})}
	close(sub.done)
	if _, err := nc.Subscribe("chat."+channel, func(m *nats.Msg) {
		sub.count(string(m.Data))
	}); err != nil {
		b.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		b.Fatal(err)
	}
	return sub
}

// count counts a delivery whose text ends in body.
func (s *subscriber) count(text string) {
	if strings.Contains(text, "\nprobe") {
		s.probes.Add(1)
		return
	}
	s.got.Add(1)
	s.last.Store(time.Now().UnixNano())
}

// TestHelperNATSResponder is nats-rr's server side: it keeps each post in
// memory, publishes it to the channel and answers OK, until SIGTERM.
func TestHelperNATSResponder(t *testing.T) {
	url := os.Getenv("BENCH_NATS_RESPONDER")
	if url == "" {
		t.Skip("only run by BenchmarkPeers")
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	var stored [][]byte
	ok := []byte("OK")
	if _, err := nc.Subscribe("chat.post", func(m *nats.Msg) {
		stored = append(stored, m.Data)
		nc.Publish("chat."+channel, m.Data)
		m.Respond(ok)
	}); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	fmt.Println("responding")
	<-stop
	nc.Drain()
	os.Exit(0)
}

// ---- Redis ----

type redisPeer struct {
	addr string
	pid  int
}

func (p *redisPeer) pids() []int { return []int{p.pid} }

// startRedis starts redis-server on a free port, keeping nothing on disk.
func startRedis(b *testing.B) *redisPeer {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		b.Skip("no redis-server (make bench-peers installs it)")
	}
	port, err := proctest.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	pid := run(b, "redis-server", exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", b.TempDir()), "Ready to accept connections")
	return &redisPeer{addr: fmt.Sprintf("127.0.0.1:%d", port), pid: pid}
}

// resp is one RESP connection.
type resp struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func (p *redisPeer) connect(b *testing.B) *resp {
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &resp{c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
}

// command writes one command (it is sent at the next flush).
func (r *resp) command(args ...string) {
	fmt.Fprintf(r.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(r.w, "$%d\r\n%s\r\n", len(a), a)
	}
}

// reply reads one reply; an array's elements are returned flattened.
func (r *resp) reply() ([]string, error) {
	line, err := r.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return []string{line[1:]}, nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.r, buf); err != nil {
			return nil, err
		}
		return []string{string(buf[:n])}, nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		var all []string
		for i := 0; i < n; i++ {
			e, err := r.reply()
			if err != nil {
				return nil, err
			}
			all = append(all, e...)
		}
		return all, nil
	}
	return nil, fmt.Errorf("reply %q", line)
}

func (p *redisPeer) dial(b *testing.B, name string) func(string) error {
	r := p.connect(b)
	return func(body string) error {
		m := name + "\n" + time.Now().Format(time.RFC3339Nano) + "\n" + body
		r.command("MULTI")
		r.command("RPUSH", "chat:"+channel, m)
		r.command("PUBLISH", "chat."+channel, m)
		r.command("EXEC")
		if err := r.w.Flush(); err != nil {
			return err
		}
		for i := 0; i < 4; i++ { // OK, QUEUED, QUEUED, the results
			if _, err := r.reply(); err != nil {
				return err
			}
		}
		return nil
	}
}

func (p *redisPeer) subscribe(b *testing.B) *subscriber {
	r := p.connect(b)
	r.command("SUBSCRIBE", "chat."+channel)
	if err := r.w.Flush(); err != nil {
		b.Fatal(err)
	}
	if _, err := r.reply(); err != nil { // subscribe, the channel, 1
		b.Fatal(err)
	}
	sub := &subscriber{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sub.done)
		for {
			m, err := r.reply() // message, the channel, the text
			if err != nil {
				return // the connection closed at cleanup
			}
			sub.count(m[len(m)-1])
		}
	}()
	return sub
}

// ---- processes ----

// run starts cmd, waits until its output has a line containing ready, and
// stops it when the benchmark ends; it returns its process id.
func run(b *testing.B, name string, cmd *exec.Cmd, ready string) int {
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	b.Cleanup(func() { stop(cmd, syscall.SIGTERM) })
	up := make(chan struct{})
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(out) // read to the end, so that it never blocks
		for sc.Scan() {
			if strings.Contains(sc.Text(), ready) {
				once.Do(func() { close(up) })
			}
		}
	}()
	select {
	case <-up:
	case <-time.After(10 * time.Second):
		b.Fatalf("%s did not start", name)
	}
	return cmd.Process.Pid
}
