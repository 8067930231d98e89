package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server"
	"github.com/zmqchat/zmqchat/internal/server/servertest"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// TestMain runs the load of BenchmarkServeAllocs when asked to, in a
// process of its own, so that what the benchmark counts is the server's.
func TestMain(m *testing.M) {
	if to := os.Getenv("ZMQCHAT_LOAD"); to != "" {
		n, _ := strconv.Atoi(os.Getenv("ZMQCHAT_LOAD_N"))
		if err := load(to, n); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// load posts n small messages (each after $ZMQCHAT_LOAD_BODY, to profile
// large ones) to the post endpoint to, up to 64 in flight on a DEALER,
// and waits for every reply.
func load(to string, n int) error {
	d, err := zmq.NewSocket(zmq.DEALER)
	if err != nil {
		return err
	}
	defer d.Close()
	d.SetLinger(0)
	d.SetRcvtimeo(servertest.Wait)
	if err := d.Connect(to); err != nil {
		return err
	}
	sent, got := 0, 0
	for got < n {
		for sent < n && sent-got < 64 {
			m := msg.Message{Channel: fmt.Sprint("c", sent%10), Username: "ann", Time: time.Now(), Body: os.Getenv("ZMQCHAT_LOAD_BODY") + "a chat line of sixty bytes or so, as people type them: " + strconv.Itoa(sent)}
			if _, err := d.SendMessage("", msg.EncodePost(m)); err != nil {
				return err
			}
			sent++
		}
		reply, err := d.RecvMessage(0)
		if err != nil {
			return fmt.Errorf("reply %d of %d: %w", got+1, n, err)
		}
		if len(reply) != 2 || reply[1] != msg.ReplyOK {
			return fmt.Errorf("reply %q", reply)
		}
		got++
	}
	return nil
}

// BenchmarkServeAllocs: what the server allocates per post in steady
// state (its loop, the handler, the memory store, the log written to a
// pipe, 10 channels, no subscriber), counted by the Go runtime while a
// load in another process posts b.N messages, pipelined.
func BenchmarkServeAllocs(b *testing.B) {
	post, _ := transport.BindEndpoint("127.0.0.1", "0")
	pub := post
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	go drain(r)
	srv, err := servertest.Listen(post, &pub, server.Config{Mode: msg.MultiChannel, Log: w, Warn: func(s string) { fmt.Fprintln(os.Stderr, "server:", s) }})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("server: %v", err)
		}
		w.Close()
	}()
	runLoad(b, srv.PostEndpoint().URL, 10000) // to steady state
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	runLoad(b, srv.PostEndpoint().URL, b.N)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/post")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N), "B/post")
}

func runLoad(b *testing.B, to string, n int) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "ZMQCHAT_LOAD="+to, "ZMQCHAT_LOAD_N="+strconv.Itoa(n))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("load: %v\n%s", err, out)
	}
}

func drain(r *os.File) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := r.Read(buf); err != nil {
			return
		}
	}
}
