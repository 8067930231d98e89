package chat

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"
)

// termConsole is the terminal side of a console: a prompt with line
// editing (x/term), and output (written to t) that appears above the line
// being typed, which stays intact.
type termConsole struct {
	t       *term.Terminal
	fd      int
	out     *os.File
	state   *term.State
	winch   chan os.Signal
	stopped chan struct{}
	width   atomic.Int64
}

// newTermConsole puts the terminal in raw mode; Close restores it.
// Ctrl-C calls interrupt.
func newTermConsole(in, out *os.File, prompt string, interrupt func()) (*termConsole, error) {
	fd := int(in.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	c := &termConsole{
		t: term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{&keyFilter{r: in, interrupt: interrupt}, out}, prompt),
		fd:      fd,
		out:     out,
		state:   state,
		winch:   make(chan os.Signal, 1),
		stopped: make(chan struct{}),
	}
	c.resize(int(out.Fd()))
	signal.Notify(c.winch, syscall.SIGWINCH)
	go func() {
		for {
			select {
			case <-c.winch:
				c.resize(int(out.Fd()))
			case <-c.stopped:
				return
			}
		}
	}()
	return c, nil
}

func (c *termConsole) resize(fd int) {
	if w, h, err := term.GetSize(fd); err == nil {
		c.t.SetSize(w, h)
		c.width.Store(int64(w))
	}
}

// cols returns the terminal's width, 80 if it could not be read.
func (c *termConsole) cols() int {
	if w := c.width.Load(); w > 0 {
		return int(w)
	}
	return 80
}

// ReadLine reads an edited line; Ctrl-D on an empty line and Ctrl-C end
// input (io.EOF), as they would in a shell.
func (c *termConsole) ReadLine() (string, error) { return c.t.ReadLine() }

// Close restores the terminal and ends the line with the prompt on it.
func (c *termConsole) Close() {
	signal.Stop(c.winch)
	close(c.stopped)
	term.Restore(c.fd, c.state)
	fmt.Fprint(c.out, "\r\n")
}

// isTerminal reports whether r and w are both a terminal.
func isTerminal(r io.Reader, w io.Writer) (in, out *os.File, ok bool) {
	in, ok1 := r.(*os.File)
	out, ok2 := w.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil, nil, false
	}
	return in, out, true
}

// keyFilter filters what is typed before the line editor sees it. x/term takes
// Ctrl-C for the end of input, like Ctrl-D, so it is taken out here and
// calls interrupt: Ctrl-C leaves at once, Ctrl-D after posting what is
// queued. And a line typed before the terminal went raw (type-ahead) ends
// in "\n", which x/term does not take for Enter: it becomes "\r".
type keyFilter struct {
	r         io.Reader
	interrupt func()
}

func (k *keyFilter) Read(p []byte) (int, error) {
	for {
		n, err := k.r.Read(p)
		out := p[:0]
		for _, c := range p[:n] {
			switch c {
			case 0x03: // Ctrl-C
				k.interrupt()
			case '\n':
				out = append(out, '\r')
			default:
				out = append(out, c)
			}
		}
		if len(out) > 0 || err != nil {
			return len(out), err
		}
	}
}
