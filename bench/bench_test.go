// Package bench measures zmqchat against raw libzmq doing the same socket
// work, in the same run. Each workload runs against two servers, each its
// own process on loopback: the real mc_server binary, and rawserver, a bare
// loop over the same sockets (REP receives, PUB publishes, REP answers OK).
// The load generator is this process. Run by make bench, which alternates
// the two over several rounds and prints medians and ratios (bench/report);
// the output is also benchstat's input. No benchmark runs in make test.
package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/keys"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/proctest"
	"github.com/zmqchat/zmqchat/internal/server"
	"github.com/zmqchat/zmqchat/internal/store"
)

const channel = "bench"

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// TestMain removes the programs and keys the benchmarks made, once they
// are done.
func TestMain(m *testing.M) {
	if file := os.Getenv("ZMQCHAT_RAW_REPLY"); file != "" {
		fmt.Fprintln(os.Stderr, rawReplier(file)) // it returns only on an error
		os.Exit(1)
	}
	code := m.Run()
	for _, dir := range []string{binDir, benchKeys.dir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

func programs(b *testing.B) string {
	b.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "zmqchat-bench-")
		if binErr == nil {
			binErr = proctest.Build(binDir, false, "./part4/mc_server", "./bench/rawserver", "./cmd/relay")
		}
	})
	if binErr != nil {
		b.Fatal(binErr)
	}
	return binDir
}

// target is a server under test, running as its own process.
type target struct {
	cmd       *exec.Cmd
	post, pub string // endpoints
	keyed     bool   // the load's sockets must speak CurveZMQ
}

// servers returns the servers in this round's order: the order rotates
// with BENCH_ROUND so none always runs first. keyed is mc_server in keyed
// mode (CurveZMQ and the allow-list), and stored is mc_server with a store
// file (-store), each measured against plain mc_server and raw libzmq.
func servers() []string {
	all := []string{"zmqchat", "raw", "keyed", "stored"}
	round, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	r := round % len(all)
	return append(all[r:], all[:r]...)
}

// benchKeys is the keyed target's key ring: the server's pair, a pair for
// each name the load posts as (and one for subscribers), and the
// allow-list file naming them.
var benchKeys struct {
	once   sync.Once
	dir    string
	server keys.Pair
	users  map[string]keys.Pair
	err    error
}

func keyring(b *testing.B) {
	b.Helper()
	benchKeys.once.Do(func() {
		k := &benchKeys
		if k.dir, k.err = os.MkdirTemp("", "zmqchat-bench-keys-"); k.err != nil {
			return
		}
		if k.server, k.err = keys.Generate(filepath.Join(k.dir, "server")); k.err != nil {
			return
		}
		k.users = map[string]keys.Pair{}
		var allow strings.Builder
		for _, name := range []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "probe", "lat", "sub"} {
			p, err := keys.Generate(filepath.Join(k.dir, name))
			if err != nil {
				k.err = err
				return
			}
			k.users[name] = p
			fmt.Fprintf(&allow, "%s %s\n", name, p.Public)
		}
		k.err = os.WriteFile(filepath.Join(k.dir, "allow"), []byte(allow.String()), 0o644)
	})
	if benchKeys.err != nil {
		b.Fatal(benchKeys.err)
	}
}

// secure makes s speak CurveZMQ as name when t is keyed.
func (t *target) secure(b *testing.B, s *zmq.Socket, name string) {
	if !t.keyed {
		return
	}
	p := benchKeys.users[name]
	if err := s.ClientAuthCurve(benchKeys.server.Public, p.Public, p.Secret); err != nil {
		b.Fatal(err)
	}
}

// banner matches the line in which both servers name the endpoints they
// bound.
var banner = regexp.MustCompile(`taking posts on (tcp://\S+:\d+), publishing on (tcp://\S+:\d+)`)

var profiles atomic.Int64

func startTarget(b *testing.B, kind string) *target {
	b.Helper()
	dir := programs(b)
	t := &target{keyed: kind == "keyed"}
	// Both bind free ports (port 0) and name them in their banner.
	if kind == "raw" {
		t.cmd = exec.Command(filepath.Join(dir, "rawserver"), "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
	} else {
		args := []string{"127.0.0.1", "0", "0"}
		if t.keyed {
			keyring(b)
			args = append([]string{"-keys", filepath.Join(benchKeys.dir, "server"), "-allow", filepath.Join(benchKeys.dir, "allow")}, args...)
		}
		if kind == "stored" {
			args = append([]string{"-store", filepath.Join(b.TempDir(), "chat.db")}, args...)
		}
		if prof := os.Getenv("BENCH_CPUPROFILE"); prof != "" {
			args = append([]string{"-cpuprofile", fmt.Sprintf("%s.%d", prof, profiles.Add(1))}, args...)
		}
		t.cmd = exec.Command(filepath.Join(dir, "mc_server"), args...)
	}
	// The server's per-message log goes to a pipe that is read and
	// discarded, as a terminal would take it.
	out, err := t.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	// Its stderr is shown only should the benchmark fail.
	var stderr bytes.Buffer
	t.cmd.Stderr = &stderr
	if err := t.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ready := make(chan []string)
	go func() {
		defer close(ready)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := banner.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
				// The rest is read and dropped, with no work per line: the
				// load generator shares the machine's cores with the server.
				io.Copy(io.Discard, out)
				return
			}
		}
	}()
	select {
	case m, ok := <-ready:
		if !ok {
			b.Fatalf("%s exited at start", kind)
		}
		t.post, t.pub = m[1], m[2]
	case <-time.After(10 * time.Second):
		b.Fatalf("%s did not start", kind)
	}
	b.Cleanup(func() {
		defer func() {
			if b.Failed() {
				b.Logf("%s's stderr:\n%s", kind, stderr.String())
			}
		}()
		stop(t.cmd, os.Interrupt) // a clean stop, so a profile is written
	})
	return t
}

// stop sends cmd's process sig and waits for it to exit, killing it if it
// has not within 5 s.
func stop(cmd *exec.Cmd, sig os.Signal) {
	cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// poster is one REQ client.
type poster struct {
	sock *zmq.Socket
	name string
}

func newPoster(b *testing.B, t *target, name string) *poster {
	b.Helper()
	s, err := zmq.NewSocket(zmq.REQ)
	if err != nil {
		b.Fatal(err)
	}
	s.SetLinger(0)
	t.secure(b, s, name)
	if err := s.Connect(t.post); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return &poster{sock: s, name: name}
}

// post sends one valid post with body and waits for OK.
func (p *poster) post(body string) error { return p.postTo(channel, body) }

// postTo is post to another channel.
func (p *poster) postTo(ch, body string) error {
	_, err := p.sock.SendMessage(msg.CmdPost, ch, p.name, time.Now().Format(msg.TimeLayout), body)
	if err != nil {
		return err
	}
	reply, err := p.sock.RecvMessageBytes(0)
	if err != nil {
		return err
	}
	if len(reply) != 1 || string(reply[0]) != msg.ReplyOK {
		return fmt.Errorf("reply %q", reply)
	}
	return nil
}

// postAll has clients posters post n messages between them, as fast as
// each gets its replies.
func postAll(b *testing.B, t *target, clients, n int, body func(c, i int) string) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		p := newPoster(b, t, fmt.Sprint("c", c))
		share := n / clients
		if c < n%clients {
			share++
		}
		wg.Add(1)
		go func(c, share int) {
			defer wg.Done()
			for i := 0; i < share; i++ {
				if err := p.post(body(c, i)); err != nil {
					errs <- err
					return
				}
			}
		}(c, share)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// subscriber counts what one SUB socket receives, in its own goroutine.
type subscriber struct {
	got     atomic.Int64 // messages, probes not counted
	probes  atomic.Int64
	last    atomic.Int64 // unix nanos of the last delivery
	latency []time.Duration
	stop    chan struct{}
	done    chan struct{}
}

func newSubscriber(b *testing.B, t *target, measure bool) *subscriber {
	b.Helper()
	s, err := zmq.NewSocket(zmq.SUB)
	if err != nil {
		b.Fatal(err)
	}
	s.SetLinger(0)
	s.SetSubscribe(channel)
	t.secure(b, s, "sub")
	if err := s.Connect(t.pub); err != nil {
		b.Fatal(err)
	}
	sub := &subscriber{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sub.done)
		defer s.Close()
		poller := zmq.NewPoller()
		poller.Add(s, zmq.POLLIN)
		for {
			select {
			case <-sub.stop:
				return
			default:
			}
			if polled, _ := poller.Poll(20 * time.Millisecond); len(polled) == 0 {
				continue
			}
			for {
				frames, err := s.RecvMessageBytes(zmq.DONTWAIT)
				if err != nil {
					break
				}
				if len(frames) != 5 {
					continue // a server's welcome or tick
				}
				now := time.Now().UnixNano()
				body := string(frames[3])
				if sent, ok := strings.CutPrefix(body, "t="); ok && measure {
					if ns, err := strconv.ParseInt(sent, 10, 64); err == nil {
						sub.latency = append(sub.latency, time.Duration(now-ns))
					}
				}
				if strings.HasPrefix(body, "probe") {
					sub.probes.Add(1)
				} else {
					sub.got.Add(1)
					sub.last.Store(now)
				}
			}
		}
	}()
	b.Cleanup(sub.close)
	return sub
}

func (s *subscriber) close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// await waits until every subscriber has want messages, or none has had
// one for a second (the rest are lost).
func await(subs []*subscriber, want int64) {
	idle := time.Now()
	var seen int64
	for time.Since(idle) < time.Second {
		total := int64(0)
		done := true
		for _, s := range subs {
			got := s.got.Load()
			total += got
			done = done && got >= want
		}
		if done {
			return
		}
		if total != seen {
			seen, idle = total, time.Now()
		}
		time.Sleep(time.Millisecond)
	}
}

// connected posts probes until every subscriber's subscription has reached
// the server (a subscriber misses what is published before that).
func connected(b *testing.B, t *target, subs []*subscriber) {
	b.Helper()
	p := newPoster(b, t, "probe")
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		if err := p.post(fmt.Sprint("probe ", i)); err != nil {
			b.Fatal(err)
		}
		all := true
		for _, s := range subs {
			all = all && s.probes.Load() > 0
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("subscribers never connected")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func runBoth(b *testing.B, name string, f func(b *testing.B, t *target)) {
	for _, kind := range servers() {
		b.Run(name+"/server="+kind, func(b *testing.B) {
			f(b, startTarget(b, kind))
		})
	}
}

// BenchmarkPost: acknowledged posts per second from 1 and from 8
// concurrent clients.
func BenchmarkPost(b *testing.B) {
	for _, clients := range []int{1, 8} {
		runBoth(b, fmt.Sprintf("clients=%d", clients), func(b *testing.B, t *target) {
			postAll(b, t, clients, 100, func(c, i int) string { return fmt.Sprint("warm ", c, " ", i) })
			b.ResetTimer()
			start, cpu := time.Now(), measureCPU(b, t)
			postAll(b, t, clients, b.N, func(c, i int) string { return "post " + strconv.Itoa(c) + " " + strconv.Itoa(i) })
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "posts/s")
			cpu(b.N)
		})
	}
}

// BenchmarkPostLarge: the same with 16 KB bodies, where the server's own
// work per byte (checking the body, the log line) shows.
func BenchmarkPostLarge(b *testing.B) {
	body := strings.Repeat("x", 16000)
	for _, clients := range []int{1, 8} {
		runBoth(b, fmt.Sprintf("clients=%d", clients), func(b *testing.B, t *target) {
			postAll(b, t, clients, 20, func(c, i int) string { return strconv.Itoa(i) + body })
			b.ResetTimer()
			start, cpu := time.Now(), measureCPU(b, t)
			postAll(b, t, clients, b.N, func(c, i int) string { return strconv.Itoa(c) + " " + strconv.Itoa(i) + body })
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "posts/s")
			cpu(b.N)
		})
	}
}

// BenchmarkPipelined: acknowledged posts per second from DEALER clients
// that keep 16 posts in flight each (the REQ/REP wire format, with the
// empty delimiter frame a REQ socket adds).
func BenchmarkPipelined(b *testing.B) {
	const window = 16
	for _, clients := range []int{1, 8} {
		runBoth(b, fmt.Sprintf("clients=%d", clients), func(b *testing.B, t *target) {
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			socks := make([]*zmq.Socket, clients)
			for c := range socks {
				d, err := zmq.NewSocket(zmq.DEALER)
				if err != nil {
					b.Fatal(err)
				}
				d.SetLinger(0)
				t.secure(b, d, fmt.Sprint("c", c))
				if err := d.Connect(t.post); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { d.Close() })
				socks[c] = d
			}
			b.ResetTimer()
			start, cpu := time.Now(), measureCPU(b, t)
			for c, d := range socks {
				share := b.N / clients
				if c < b.N%clients {
					share++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := fmt.Sprint("c", c)
					send := func(i int) error {
						_, err := d.SendMessage("", msg.CmdPost, channel, name, time.Now().Format(msg.TimeLayout), "pipe "+strconv.Itoa(i))
						return err
					}
					sent := 0
					for ; sent < min(window, share); sent++ {
						if err := send(sent); err != nil {
							errs <- err
							return
						}
					}
					for got := 0; got < share; got++ {
						r, err := d.RecvMessageBytes(0)
						if err != nil || len(r) != 2 || string(r[1]) != msg.ReplyOK {
							errs <- fmt.Errorf("reply %q, %v", r, err)
							return
						}
						if sent < share {
							if err := send(sent); err != nil {
								errs <- err
								return
							}
							sent++
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "posts/s")
			cpu(b.N)
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkFanout: deliveries per second to 1 and to 10 subscribers while
// 4 clients post, and how many were lost to subscribers that keep up.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 10} {
		runBoth(b, fmt.Sprintf("subscribers=%d", n), func(b *testing.B, t *target) {
			subs := make([]*subscriber, n)
			for i := range subs {
				subs[i] = newSubscriber(b, t, false)
			}
			connected(b, t, subs)
			for _, s := range subs {
				s.got.Store(0)
			}
			b.ResetTimer()
			start := time.Now()
			postAll(b, t, 4, b.N, func(c, i int) string { return "fan " + strconv.Itoa(c) + " " + strconv.Itoa(i) })
			await(subs, int64(b.N))
			var got, last int64
			for _, s := range subs {
				got += s.got.Load()
				last = max(last, s.last.Load())
			}
			elapsed := time.Unix(0, last).Sub(start)
			b.ReportMetric(float64(got)/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(int64(n*b.N)-got), "lost")
		})
	}
}

// BenchmarkLatency: post-to-delivery latency at a moderate fixed rate.
func BenchmarkLatency(b *testing.B) {
	const rate = 2000 // posts per second
	runBoth(b, fmt.Sprintf("rate=%d", rate), func(b *testing.B, t *target) {
		sub := newSubscriber(b, t, true)
		connected(b, t, []*subscriber{sub})
		p := newPoster(b, t, "lat")
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if wait := time.Until(start.Add(time.Duration(i) * time.Second / rate)); wait > 0 {
				time.Sleep(wait)
			}
			if err := p.post("t=" + strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
				b.Fatal(err)
			}
		}
		await([]*subscriber{sub}, int64(b.N))
		sub.close()
		lat := sub.latency
		if len(lat) == 0 {
			b.Fatal("no deliveries")
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
}

// BenchmarkMemory: the server's memory per stored message, through the
// real request handling and store (in-process), against the payload bytes
// (channel, username, time and body as sent). Run with -benchtime=1000000x.
func BenchmarkMemory(b *testing.B) {
	body := strings.Repeat("m", 60) // a typical chat line
	base := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	users := []string{"ann", "bob", "cy", "dan", "eve", "fay", "gus", "hal"}
	h := &server.Handler{Store: store.New(store.DefaultWindow), Mode: msg.MultiChannel}
	var payload int64
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rssBefore := rss(b, os.Getpid())
	// The requests are built in the same memory each time, as a server
	// receives them: the loop's own garbage would count in the RSS.
	req := [][]byte{[]byte(msg.CmdPost), []byte(channel), nil, make([]byte, 0, 64), []byte(body)}
	names := make([][]byte, len(users))
	for i, u := range users {
		names[i] = []byte(u)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req[2] = names[i%len(names)]
		req[3] = base.Add(time.Duration(i)*time.Microsecond).AppendFormat(req[3][:0], msg.TimeLayout)
		if r := h.Handle(req, ""); string(r.Reply[0]) != msg.ReplyOK {
			b.Fatalf("reply %q", r.Reply)
		}
		payload += int64(len(channel) + len(req[2]) + len(req[3]) + len(body))
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	rssAfter := rss(b, os.Getpid())
	runtime.KeepAlive(h)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "B/msg")
	// As the process holds it: the Go heap's spare room and the runtime's
	// own structures included.
	b.ReportMetric(float64(rssAfter-rssBefore)/float64(b.N), "rss-B/msg")
	b.ReportMetric(float64(payload)/float64(b.N), "payload-B/msg")
}
