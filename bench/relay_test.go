package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// BenchmarkRelays: 1,000 subscribers over 100 channels (10 on each), fed
// by 4 posters across the channels, directly and behind two relays (500
// subscribers on each); and the baseline, 10 direct subscribers to every
// channel. It reports deliveries a second, messages lost, and the server
// process's CPU time per post, which should stay flat as subscribers move
// behind relays: the server publishes each message once per relay, not
// once per subscriber. Run with -benchtime Nx (N posts).
func BenchmarkRelays(b *testing.B) {
	for _, tt := range []struct {
		name         string
		subs, relays int
	}{{"direct-10", 10, 0}, {"direct-1000", 1000, 0}, {"relays-1000", 1000, 2}} {
		b.Run(tt.name, func(b *testing.B) {
			t := startTarget(b, "zmqchat")
			pubs := []string{t.pub}
			if tt.relays > 0 {
				pubs = nil
				for range tt.relays {
					pubs = append(pubs, startRelay(b, t))
				}
			}
			fan := newFanout(b, pubs, tt.subs, tt.relays == 0 && tt.subs == 10)
			fan.probe(b, t)
			cpu0 := cpuTime(b, t.cmd.Process.Pid)
			b.ResetTimer()
			start := time.Now()
			postAcross(b, t, 4, b.N)
			want := int64(b.N) * int64(tt.subs) / 100
			if fan.everything {
				want = int64(b.N) * int64(tt.subs)
			}
			fan.await(want)
			elapsed := time.Unix(0, fan.last.Load()).Sub(start)
			b.StopTimer()
			cpu := cpuTime(b, t.cmd.Process.Pid) - cpu0
			b.ReportMetric(float64(fan.got.Load())/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(want-fan.got.Load()), "lost")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server-cpu-µs/post")
		})
	}
}

// startRelay starts a relay for t on free ports and returns its publish
// endpoint.
func startRelay(b *testing.B, t *target) string {
	b.Helper()
	up := func(ep string) (host, port string) {
		i := strings.LastIndexByte(ep, ':')
		return strings.TrimPrefix(ep[:i], "tcp://"), ep[i+1:]
	}
	host, post := up(t.post)
	_, pub := up(t.pub)
	cmd := exec.Command(filepath.Join(programs(b), "relay"), "127.0.0.1", "0", "0", host, post, pub)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stop(cmd, os.Interrupt) })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := banner.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return m[2]
		}
	}
	b.Fatal("relay did not start")
	return ""
}

// fanout is many SUB sockets, one goroutine, one poller: subscriber i to
// channel "c<i mod 100>", two digits, so that no channel is another's prefix.
type fanout struct {
	n                 int
	everything        bool // each subscribed to every channel
	got, probes, last atomic.Int64
	stop, done        chan struct{}
}

func newFanout(b *testing.B, pubs []string, n int, everything bool) *fanout {
	b.Helper()
	f := &fanout{n: n, everything: everything, stop: make(chan struct{}), done: make(chan struct{})}
	var socks []*zmq.Socket
	poller := zmq.NewPoller()
	for i := range n {
		s, err := zmq.NewSocket(zmq.SUB)
		if err != nil {
			b.Fatal(err)
		}
		s.SetLinger(0)
		s.SetRcvhwm(0)
		topic := fmt.Sprintf("c%02d", i%100)
		if everything {
			topic = ""
		}
		s.SetSubscribe(topic)
		if err := s.Connect(pubs[i%len(pubs)]); err != nil {
			b.Fatal(err)
		}
		socks = append(socks, s)
		poller.Add(s, zmq.POLLIN)
	}
	go f.run(socks, poller)
	b.Cleanup(func() { close(f.stop); <-f.done })
	return f
}

func (f *fanout) run(socks []*zmq.Socket, poller *zmq.Poller) {
	defer close(f.done)
	defer func() {
		for _, s := range socks {
			s.Close()
		}
	}()
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		polled, _ := poller.Poll(20 * time.Millisecond)
		for _, p := range polled {
			for {
				frames, err := p.Socket.RecvMessageBytes(zmq.DONTWAIT)
				if err != nil {
					break
				}
				switch {
				case len(frames) != 5: // a welcome or a tick
				case strings.HasPrefix(string(frames[3]), "probe"):
					f.probes.Add(1)
				default:
					f.got.Add(1)
					f.last.Store(time.Now().UnixNano())
				}
			}
		}
	}
}

// probe posts a probe to each channel until every subscriber has had
// one: each subscription has reached the server (or its relay's has).
func (f *fanout) probe(b *testing.B, t *target) {
	b.Helper()
	p := newPoster(b, t, "probe")
	deadline := time.Now().Add(20 * time.Second)
	for {
		f.probes.Store(0)
		for c := range 100 {
			if err := p.postTo(fmt.Sprintf("c%02d", c), "probe"); err != nil {
				b.Fatal(err)
			}
		}
		for wait := time.Now().Add(200 * time.Millisecond); time.Now().Before(wait) && f.probes.Load() < int64(f.n); {
			time.Sleep(time.Millisecond)
		}
		if f.probes.Load() >= int64(f.n) { // (to every channel: 100 each)
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("subscribers never all connected: %d probes of %d", f.probes.Load(), f.n)
		}
	}
}

// await waits until the subscribers have want messages between them, or
// none came for a second (the rest are lost).
func (f *fanout) await(want int64) {
	idle, seen := time.Now(), int64(0)
	for time.Since(idle) < time.Second && f.got.Load() < want {
		if got := f.got.Load(); got != seen {
			seen, idle = got, time.Now()
		}
		time.Sleep(time.Millisecond)
	}
}

// postAcross has clients new posters post n messages between them, to
// the channels in turn.
func postAcross(b *testing.B, t *target, clients, n int) {
	b.Helper()
	var posters []*poster
	for c := range clients {
		posters = append(posters, newPoster(b, t, fmt.Sprint("c", c)))
	}
	postTurns(b, posters, 0, n)
}

// cpuTime is the CPU time process pid's threads have used, the sum of
// /proc/pid/task/*/schedstat in nanoseconds (/proc/pid/stat counts ticks
// of 10 ms, too coarse for a run of a few hundred milliseconds).
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("no threads of process %d in /proc: %v", pid, err)
	}
	var sum int64
	for _, task := range tasks {
		data, err := os.ReadFile(task)
		if err != nil {
			continue // a thread that has ended
		}
		if f := strings.Fields(string(data)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	return time.Duration(sum)
}

// measureCPU starts measuring t's process's CPU time; the function it
// returns reports it per post, for n posts.
func measureCPU(b *testing.B, t *target) (report func(n int)) {
	b.Helper()
	cpu0 := cpuTime(b, t.cmd.Process.Pid)
	return func(n int) {
		cpu := cpuTime(b, t.cmd.Process.Pid) - cpu0
		b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(n), "server-cpu-µs/post")
	}
}
