package bench

import (
	"fmt"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// BenchmarkPresence: the server's CPU time per post, 4 posters across 100
// channels and 10 subscribers to everything, with no one present and with
// 1,000 present: 1,000 sessions saying HERE every msg.HereEvery (200 a
// second), over 20 DEALER sockets of 50 sessions each, as 1,000 chat
// clients would. The two alternate, a fresh server each, over rounds.
// Run with -benchtime Nx (N posts).
func BenchmarkPresence(b *testing.B) {
	for round := range 5 {
		for _, present := range []int{0, 1000} {
			b.Run(fmt.Sprintf("present-%d/round-%d", present, round), func(b *testing.B) {
				t := startTarget(b, "zmqchat")
				fan := newFanout(b, []string{t.pub}, 10, true)
				fan.probe(b, t)
				stop := announce(b, t, present)
				defer stop()
				cpu0 := cpuTime(b, t.cmd.Process.Pid)
				b.ResetTimer()
				postAcross(b, t, 4, b.N)
				fan.await(int64(b.N) * 10)
				b.StopTimer()
				cpu := cpuTime(b, t.cmd.Process.Pid) - cpu0
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server-cpu-µs/post")
			})
		}
	}
}

// announce has n sessions, each on a channel, say HERE to t at once and
// then every msg.HereEvery, spread evenly, until stop. Each socket's
// replies are read by the goroutine that owns it.
func announce(b *testing.B, t *target, n int) (stop func()) {
	b.Helper()
	const perSocket = 50
	quit, done := make(chan struct{}), make(chan struct{})
	sockets := (n + perSocket - 1) / perSocket
	for s := range sockets {
		d, err := zmq.NewSocket(zmq.DEALER)
		if err != nil {
			b.Fatal(err)
		}
		d.SetLinger(0)
		if err := d.Connect(t.post); err != nil {
			b.Fatal(err)
		}
		go func() {
			defer func() { d.Close(); done <- struct{}{} }()
			here := func(i int) {
				h := msg.Here{Channel: fmt.Sprintf("c%02d", i%100), Username: fmt.Sprint("u", i), Session: fmt.Sprint("s", i)}
				d.SendMessage("", msg.EncodeHere(h))
				d.RecvMessageBytes(0)
			}
			for i := s * perSocket; i < min(n, (s+1)*perSocket); i++ {
				here(i)
			}
			every := time.NewTicker(msg.HereEvery / perSocket)
			defer every.Stop()
			for i := 0; ; i = (i + 1) % perSocket {
				select {
				case <-quit:
					return
				case <-every.C:
					here(s*perSocket + i)
				}
			}
		}()
	}
	return func() {
		close(quit)
		for range sockets {
			<-done
		}
	}
}
