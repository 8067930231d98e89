// Package servertest runs a real zmqchat server inside a test, in the
// spirit of nats-server's RunServer: it binds free loopback ports (port 0),
// tells the endpoints it bound, and stops when the test ends. Client and
// chat tests use it to talk to the real server loop over real sockets
// without starting a process.
package servertest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server"
	"github.com/zmqchat/zmqchat/internal/store"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Wait is how long the helpers wait for something before failing the test.
// A deadline guards against a hang; it does not measure speed.
const Wait = 10 * time.Second

// Server is a running in-process server.
type Server struct {
	*server.Server
	Post, Pub transport.Endpoint // as bound
	Log       *Lines             // the server's log, a line per stored message
}

// Run starts a publishing server with mode's rules on loopback and stops it
// in t.Cleanup.
func Run(t testing.TB, mode msg.Mode) *Server {
	t.Helper()
	post, err := transport.BindEndpoint("127.0.0.1", "0")
	if err != nil {
		t.Fatal(err)
	}
	pub := post
	log := NewLines()
	srv, err := Listen(post, &pub, server.Config{Mode: mode, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Server: srv, Post: srv.PostEndpoint(), Log: log}
	s.Pub, _ = srv.PubEndpoint()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(Wait):
			t.Errorf("server did not stop within %s", Wait)
		}
	})
	return s
}

// Listen opens a server's sockets on post and pub (nil for none), as the
// mains do, and makes a server of them with cfg's other settings; with no
// Store in cfg, a new one in memory.
func Listen(post transport.Endpoint, pub *transport.Endpoint, cfg server.Config) (*server.Server, error) {
	var err error
	if cfg.Post, err = transport.Listen(zmq.ROUTER, post); err != nil {
		return nil, err
	}
	if pub != nil {
		if cfg.Pub, err = transport.Listen(zmq.PUB, *pub); err != nil {
			cfg.Post.Close()
			return nil, err
		}
	}
	if cfg.Store == nil {
		cfg.Store = store.New(store.DefaultWindow)
	}
	return server.New(cfg)
}

// Lines is an io.Writer that collects what is written to it, line by line,
// and lets a test wait for a line. It is safe for concurrent use.
type Lines struct {
	mu      sync.Mutex
	partial string
	lines   []string
	changed chan struct{} // closed and replaced on every new line
}

// NewLines returns an empty Lines.
func NewLines() *Lines { return &Lines{changed: make(chan struct{})} }

func (l *Lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	text := l.partial + string(p)
	parts := strings.Split(text, "\n")
	l.partial = parts[len(parts)-1]
	if complete := parts[:len(parts)-1]; len(complete) > 0 {
		l.lines = append(l.lines, complete...)
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return len(p), nil
}

// All returns the complete lines written so far.
func (l *Lines) All() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// String returns the complete lines, each ended by a newline.
func (l *Lines) String() string {
	all := l.All()
	if len(all) == 0 {
		return ""
	}
	return strings.Join(all, "\n") + "\n"
}

// Count returns how many lines contain s.
func (l *Lines) Count(s string) int {
	n := 0
	for _, line := range l.All() {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// WaitChange waits until a line is added or d passes: a bounded wait
// between probes.
func (l *Lines) WaitChange(d time.Duration) {
	l.mu.Lock()
	changed := l.changed
	l.mu.Unlock()
	select {
	case <-changed:
	case <-time.After(d):
	}
}

// WaitFor waits until n lines contain s, and fails the test after Wait.
func (l *Lines) WaitFor(t testing.TB, s string, n int) {
	t.Helper()
	deadline := time.After(Wait)
	for {
		l.mu.Lock()
		changed := l.changed
		l.mu.Unlock()
		if l.Count(s) >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%d of %d lines containing %q within %s; got:\n%s", l.Count(s), n, s, Wait, l)
		}
	}
}
