package bench

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// BenchmarkPresence: the server's CPU time per post, 4 posters across 100
// channels and 10 subscribers to everything, with no one present and with
// 1,000 present: 1,000 sessions saying HERE every msg.HereEvery (100 a
// second), over 20 DEALER sockets of 50 sessions each, as 1,000 chat
// clients would. Two servers run side by side, one of each, posted to at
// once, so that whatever else the machine does weighs on both alike. Run
// with -benchtime Nx (N posts to each); each round is a sub-benchmark.
func BenchmarkPresence(b *testing.B) {
	for round := range 5 {
		b.Run(fmt.Sprint("round-", round), func(b *testing.B) {
			none, some := startTarget(b, "zmqchat"), startTarget(b, "zmqchat")
			for _, t := range []*target{none, some} {
				newFanout(b, []string{t.pub}, 10, true).probe(b, t)
			}
			stop := announce(b, some, 1000)
			defer stop()
			posters := [][]*poster{{}, {}}
			for i, t := range []*target{none, some} {
				for c := range 4 {
					posters[i] = append(posters[i], newPoster(b, t, fmt.Sprint("c", c)))
				}
			}
			cpu0 := []time.Duration{cpuTime(b, none.cmd.Process.Pid), cpuTime(b, some.cmd.Process.Pid)}
			b.ResetTimer()
			var wg sync.WaitGroup
			for i := range posters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					postTurns(b, posters[i], 0, b.N)
				}()
			}
			wg.Wait()
			b.StopTimer()
			for i, t := range []*target{none, some} {
				cpu := cpuTime(b, t.cmd.Process.Pid) - cpu0[i]
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), []string{"none", "present"}[i]+"-cpu-µs/post")
			}
		})
	}
}

// postTurns has posters post messages from to to between them, to the
// channels in turn, each as fast as it gets its replies.
func postTurns(b *testing.B, posters []*poster, from, to int) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(posters))
	for c, p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := from + c; i < to; i += len(posters) {
				if err := p.postTo(fmt.Sprintf("c%02d", i%100), "r "+strconv.Itoa(i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
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
