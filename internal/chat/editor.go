package chat

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/zmqchat/zmqchat/internal/display"
)

// editor is the chat prompt's line editor, on a terminal in raw mode. It
// takes lines of any length up to maxLine bytes whole (x/term's editor
// keeps 4,096 characters and drops the rest of a paste without a word), and
// lets other goroutines Write messages above the prompt, which is redrawn
// with the partly typed line intact below them.
//
// Keys: printable text (pasted too), Enter, Backspace, Delete, Left and
// Right, Home and End (and Ctrl-A, Ctrl-E), Up and Down through earlier
// lines, Ctrl-U and Ctrl-K (delete to the start, to the end), Ctrl-W
// (delete a word), Ctrl-D (end of input on an empty line), Ctrl-C (calls
// interrupt).
type editor struct {
	in        io.Reader
	interrupt func()

	mu       sync.Mutex // guards what follows, and writing to out
	out      io.Writer
	prompt   string
	line     []rune
	pos      int      // the cursor, an index into line
	history  []string // earlier lines, oldest first
	browsing int      // index into history while Up and Down are used; len(history) when not
	draft    []rune   // the line being typed before Up was pressed
	cols     int
	row      int  // the row of the cursor, counted from the prompt's first row
	drawn    bool // the prompt is on the screen
	overflow bool // the line went past maxLine: it will be refused
	bytes    int  // the line's length in bytes; -1 when it must be counted
	pending  []byte
}

func newEditor(in io.Reader, out io.Writer, prompt string, interrupt func()) *editor {
	return &editor{in: in, out: out, prompt: prompt, interrupt: interrupt, cols: 80}
}

// SetPrompt changes the prompt, drawn again at once if it is shown.
func (e *editor) SetPrompt(prompt string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prompt = prompt
	if e.drawn {
		e.redraw()
	}
}

// maxHistory bounds the lines Up and Down go through.
const maxHistory = 500

// SetWidth tells the editor the terminal's width.
func (e *editor) SetWidth(cols int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cols > 0 {
		e.cols = cols
	}
}

// ReadLine shows the prompt and returns the line typed, without its end.
// Ctrl-D on an empty line returns io.EOF; a line over maxLine bytes returns
// errLineTooLong, and reading can go on after either.
func (e *editor) ReadLine() (string, error) {
	e.mu.Lock()
	e.redraw()
	e.mu.Unlock()
	buf := make([]byte, 4096)
	for {
		e.mu.Lock()
		line, done, err := e.handle()
		if !done {
			e.redraw()
		}
		e.mu.Unlock()
		if done {
			return line, err
		}
		n, err := e.in.Read(buf)
		if n == 0 && err != nil {
			return "", err
		}
		e.mu.Lock()
		e.pending = append(e.pending, buf[:n]...)
		e.mu.Unlock()
	}
}

// handle takes the keys in pending, up to the end of a line.
func (e *editor) handle() (line string, done bool, err error) {
	for len(e.pending) > 0 {
		b := e.pending[0]
		if b < 0x20 || b == 0x7f {
			e.bytes = -1 // an edit: the length is counted again when needed
		}
		switch {
		case b == 0x1b:
			if !e.escape() {
				return "", false, nil // the rest of the sequence is still to come
			}
		case b < 0x20 || b == 0x7f:
			e.pending = e.pending[1:]
			switch e.key(b) {
			case endLine:
				return e.submit()
			case endInput:
				e.clear()
				return "", true, io.EOF
			}
		default:
			if !utf8.FullRune(e.pending) {
				return "", false, nil
			}
			r, size := utf8.DecodeRune(e.pending)
			e.pending = e.pending[size:]
			e.insert(r)
		}
	}
	return "", false, nil
}

// What a control key ends.
const (
	endNothing = iota
	endLine    // Enter
	endInput   // Ctrl-D on an empty line
)

// key carries out a control key and says what it ends. Control keys it
// does not know do nothing.
func (e *editor) key(b byte) int {
	switch b {
	case '\r', '\n':
		return endLine
	case 0x03: // Ctrl-C
		e.interrupt()
	case 0x04: // Ctrl-D
		if len(e.line) == 0 {
			return endInput
		}
		e.deleteAt(e.pos)
	case 0x7f, 0x08: // Backspace
		if e.pos > 0 {
			e.pos--
			e.deleteAt(e.pos)
		}
	case 0x01: // Ctrl-A
		e.pos = 0
	case 0x05: // Ctrl-E
		e.pos = len(e.line)
	case 0x02: // Ctrl-B
		e.pos = max(e.pos-1, 0)
	case 0x06: // Ctrl-F
		e.pos = min(e.pos+1, len(e.line))
	case 0x0b: // Ctrl-K
		e.line = e.line[:e.pos]
	case 0x15: // Ctrl-U
		e.line, e.pos = append([]rune(nil), e.line[e.pos:]...), 0
	case 0x17: // Ctrl-W
		e.deleteWord()
	}
	return endNothing
}

// deleteWord deletes the word before the cursor, and the spaces after it.
func (e *editor) deleteWord() {
	start := e.pos
	for start > 0 && e.line[start-1] == ' ' {
		start--
	}
	for start > 0 && e.line[start-1] != ' ' {
		start--
	}
	e.line = append(e.line[:start], e.line[e.pos:]...)
	e.pos = start
}

// escape takes an escape sequence from pending, reporting false if it is
// not all there yet. Bracketed paste needs nothing of its own: pasted text
// is inserted as typed, and a newline in it ends a line.
func (e *editor) escape() bool {
	p := e.pending
	if len(p) < 2 {
		return false
	}
	if p[1] != '[' && p[1] != 'O' {
		e.pending = p[1:] // a lone Esc
		return true
	}
	end := 2
	for end < len(p) && (p[end] < 0x40 || p[end] > 0x7e) {
		end++
	}
	if end == len(p) {
		return len(p) > 16 && e.drop(len(p)) // not a sequence we know: drop it
	}
	seq := string(p[2 : end+1])
	e.pending = p[end+1:]
	switch seq {
	case "A":
		e.bytes = -1
		e.browse(-1)
	case "B":
		e.bytes = -1
		e.browse(+1)
	case "C":
		e.pos = min(e.pos+1, len(e.line))
	case "D":
		e.pos = max(e.pos-1, 0)
	case "H", "1~", "7~":
		e.pos = 0
	case "F", "4~", "8~":
		e.pos = len(e.line)
	case "3~":
		e.bytes = -1
		e.deleteAt(e.pos)
	}
	return true
}

func (e *editor) drop(n int) bool {
	e.pending = e.pending[n:]
	return true
}

func (e *editor) insert(r rune) {
	if e.size()+utf8.RuneLen(r) > maxLine {
		e.overflow = true
		return
	}
	if e.pos == len(e.line) { // typing or pasting at the end
		e.line = append(e.line, r)
	} else {
		e.line = append(e.line, 0)
		copy(e.line[e.pos+1:], e.line[e.pos:])
		e.line[e.pos] = r
	}
	e.pos++
	e.bytes += utf8.RuneLen(r)
}

// size is the line's length in bytes, as it would be posted.
func (e *editor) size() int {
	if e.bytes < 0 { // after an edit other than an insert: count again
		e.bytes = 0
		for _, r := range e.line {
			e.bytes += utf8.RuneLen(r)
		}
	}
	return e.bytes
}

func (e *editor) deleteAt(i int) {
	if i < len(e.line) {
		e.line = append(e.line[:i], e.line[i+1:]...)
	}
}

// browse moves through the history, keeping the line being typed.
func (e *editor) browse(step int) {
	if e.browsing == len(e.history) {
		e.draft = append(e.draft[:0], e.line...)
	}
	next := e.browsing + step
	switch {
	case next < 0 || next > len(e.history):
		return
	case next == len(e.history):
		e.line = append([]rune(nil), e.draft...)
	default:
		e.line = []rune(e.history[next])
	}
	e.browsing, e.pos = next, len(e.line)
}

// submit ends the line: it stays on the screen, and a new prompt follows.
func (e *editor) submit() (string, bool, error) {
	line, overflow := string(e.line), e.overflow
	e.pos = len(e.line)
	e.redraw()
	io.WriteString(e.out, "\r\n")
	e.drawn, e.row = false, 0
	e.line, e.pos, e.overflow, e.bytes = nil, 0, false, 0
	if overflow {
		return "", true, errLineTooLong
	}
	if line != "" && (len(e.history) == 0 || e.history[len(e.history)-1] != line) {
		e.history = append(e.history, line)
		if len(e.history) > maxHistory {
			e.history = e.history[1:]
		}
	}
	e.browsing = len(e.history)
	return line, true, nil
}

// Write shows p above the prompt, which is drawn again below it.
func (e *editor) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wasDrawn := e.drawn
	e.clear()
	text := bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))
	if _, err := e.out.Write(text); err != nil {
		return 0, err
	}
	if wasDrawn {
		e.redraw()
	}
	return len(p), nil
}

// clear moves to the prompt's first row and erases it and all below.
func (e *editor) clear() {
	if !e.drawn {
		return
	}
	var b strings.Builder
	b.WriteByte('\r')
	if e.row > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", e.row)
	}
	b.WriteString("\x1b[J")
	io.WriteString(e.out, b.String())
	e.drawn, e.row = false, 0
}

// redraw draws the prompt and the line, and puts the cursor in place.
func (e *editor) redraw() {
	e.clear()
	var b strings.Builder
	b.WriteString(e.prompt)
	cols := e.cols
	width, cursor := columnsOf(e.prompt), 0
	for i, r := range e.line {
		if i == e.pos {
			cursor = width
		}
		if r == '\t' {
			r = ' ' // a tab is posted as typed, shown as one column
		}
		w := display.Columns(r)
		if width%cols+w > cols { // a wide character does not fit: next row
			b.WriteString(strings.Repeat(" ", cols-width%cols))
			width += cols - width%cols
		}
		b.WriteRune(r)
		width += w
	}
	if e.pos == len(e.line) {
		cursor = width
	}
	if width > 0 && width%cols == 0 {
		b.WriteString(" \r") // past the last column: make the terminal wrap now
	}
	end := width / cols
	row, col := cursor/cols, cursor%cols
	if up := end - row; up > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", up)
	}
	b.WriteByte('\r')
	if col > 0 {
		fmt.Fprintf(&b, "\x1b[%dC", col)
	}
	io.WriteString(e.out, b.String())
	e.drawn, e.row = true, row
}

func columnsOf(s string) int {
	n := 0
	for _, r := range s {
		n += display.Columns(r)
	}
	return n
}
