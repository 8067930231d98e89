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

// termConsole is the terminal side of a console: raw mode (x/term), a
// prompt with line editing (editor), and output written through the editor
// so that it appears above the line being typed, which stays intact.
type termConsole struct {
	ed      *editor
	fd      int
	out     *os.File
	state   *term.State
	winch   chan os.Signal
	stopped chan struct{}
	width   atomic.Int64
	height  atomic.Int64
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
		ed:      newEditor(in, out, prompt, interrupt),
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
		c.ed.SetWidth(w)
		c.width.Store(int64(w))
		c.height.Store(int64(h))
	}
}

// rows returns the terminal's height, 24 if it could not be read.
func (c *termConsole) rows() int {
	if h := c.height.Load(); h > 0 {
		return int(h)
	}
	return 24
}

// cols returns the terminal's width, 80 if it could not be read.
func (c *termConsole) cols() int {
	if w := c.width.Load(); w > 0 {
		return int(w)
	}
	return 80
}

// ReadLine reads an edited line; Ctrl-D on an empty line ends input
// (io.EOF), as it would in a shell. Ctrl-C interrupts (see editor).
func (c *termConsole) ReadLine() (string, error) { return c.ed.ReadLine() }

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
