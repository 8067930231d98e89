package chat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
)

// maxLine is the longest input line read whole. A longer line cannot be a
// valid message (the body limit is 16 KiB), so its rest is skipped rather
// than buffered.
const maxLine = 64 << 10

// errLineTooLong is what ReadLine returns for a line over maxLine bytes;
// reading can go on after it.
var errLineTooLong = fmt.Errorf("line is over %d bytes: not sent", maxLine)

// lineReader reads input a line at a time.
type lineReader interface {
	ReadLine() (string, error)
}

// console is where a chat client reads lines and shows output: plain lines
// on pipes (output is exactly the chat lines), or a terminal with a prompt.
// Show, ShowMessage, ShowNotice, Warn and Move may be called from any
// goroutine; ReadLine from one.
type console struct {
	lines       lineReader
	mu          sync.Mutex // guards style, and writing
	out, err    io.Writer
	style       display.Style
	setPrompt   func(string) // a terminal's; nil on pipes
	interactive bool
	self        string     // in keyed mode, the client's name: its key's, so its own
	cols        func() int // a terminal's width, to fold long lines; nil on pipes
	rows        func() int // a terminal's height; nil on pipes
	close       func()
}

// openConsole returns the terminal console when both cfg.In and cfg.Out
// are a terminal, and the plain one otherwise. At a terminal, Ctrl-C calls
// interrupt (in raw mode it is a key, not a signal).
func openConsole(cfg Config, interrupt func()) (*console, error) {
	style := display.Style{ShowChannel: cfg.readOnly()}
	if in, out, ok := isTerminal(cfg.In, cfg.Out); ok {
		tc, err := newTermConsole(in, out, prompt(cfg), interrupt)
		if err != nil {
			return nil, err
		}
		style.Color = !cfg.NoColor
		// Diagnostics go through the terminal too, so they do not tear the
		// prompt.
		c := &console{lines: tc, out: tc.ed, err: tc.ed, style: style, setPrompt: tc.ed.SetPrompt, interactive: true, cols: tc.cols, rows: tc.rows, close: tc.Close}
		if cfg.Post.Curve != nil {
			c.self = cfg.Name
		}
		return c, nil
	}
	return newPlainConsole(cfg.In, cfg.Out, cfg.Err, style), nil
}

// newPlainConsole returns the line-based console for pipes and scripts.
func newPlainConsole(in io.Reader, out, err io.Writer, style display.Style) *console {
	return &console{lines: &plainReader{bufio.NewReaderSize(in, maxLine)}, out: out, err: err, style: style, close: func() {}}
}

func (c *console) ReadLine() (string, error) { return c.lines.ReadLine() }

// Interactive reports whether a person is at a terminal: commands apply.
func (c *console) Interactive() bool { return c.interactive }

// ShowMessage shows a received message in the console's style. At a
// terminal it is marked as the viewer's own if own (this client posted
// it) or, in keyed mode, if it carries the client's name; and a long one
// is folded, with its continuations indented, so that none of it can pass
// for a line of its own.
func (c *console) ShowMessage(m msg.Message, own bool) {
	c.mu.Lock()
	style := c.style
	c.mu.Unlock()
	if c.interactive && (own || c.self != "" && m.Username == c.self) {
		style.Self = m.Username
	}
	line := display.Render(m, style)
	if c.cols != nil {
		line = display.Fold(line, c.cols()-1, "  ")
	}
	c.Show(line)
}

// Move shows what a client on cfg's channel sees: every channel's name on
// ALL, and the prompt that says where it is.
func (c *console) Move(cfg Config) {
	c.mu.Lock()
	c.style.ShowChannel = cfg.readOnly()
	c.mu.Unlock()
	if c.setPrompt != nil {
		c.setPrompt(prompt(cfg))
	}
}

// ShowNotice shows, at a terminal, that someone joined or left a channel,
// set apart from messages: "-> bob joined dev (10:02:03)".
func (c *console) ShowNotice(n msg.Notice, now time.Time) {
	if !c.interactive {
		return
	}
	arrow, what := "->", "joined"
	if !n.Joined {
		arrow, what = "<-", "left"
	}
	where := ""
	if n.Channel != "" {
		where = " " + display.Escape(n.Channel)
	}
	c.mu.Lock()
	style := c.style
	c.mu.Unlock()
	c.Show(style.Note(fmt.Sprintf("%s %s %s%s (%s)", arrow, display.Escape(n.Username), what, where, now.Format("15:04:05"))))
}

// ShowHistory shows messages from before the client joined (or asked
// with /history), set apart from live ones by a line before and after.
func (c *console) ShowHistory(ms []msg.Message) {
	c.Show(c.style.Note("--- " + display.Count(len(ms), "earlier message", "earlier messages") + " ---"))
	for _, m := range ms {
		c.ShowMessage(m, false)
	}
	c.Show(c.style.Note("--- live from here ---"))
}

// Screenful is how many messages of history fill a terminal, leaving room
// for the lines that set them apart and the prompt; 0 on pipes.
func (c *console) Screenful() int {
	if c.rows == nil {
		return 0
	}
	return min(max(c.rows()-3, 1), msg.MaxHistory)
}

// Show writes a chat line to standard output.
func (c *console) Show(line string) { c.write(c.out, line) }

// Warn writes a diagnostic to standard error.
func (c *console) Warn(line string) { c.write(c.err, line) }

// Close restores the terminal, if it is one.
func (c *console) Close() { c.close() }

func (c *console) write(w io.Writer, line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(w, line+"\n")
}

// plainReader reads lines from a pipe or file, skipping (with an error)
// any over maxLine bytes.
type plainReader struct{ in *bufio.Reader }

func (r *plainReader) ReadLine() (string, error) {
	line, err := r.in.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.in.ReadSlice('\n')
		}
		if err == nil || errors.Is(err, io.EOF) {
			return "", errLineTooLong
		}
		return "", err
	}
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return "", err
	}
	return string(bytes.TrimSuffix(line, []byte{'\n'})), nil
}
