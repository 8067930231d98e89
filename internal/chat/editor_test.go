package chat

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/zmqchat/zmqchat/internal/display"
)

// typed runs an editor over keys and returns the lines it read (io.EOF ends).
func typed(t *testing.T, keys string) ([]string, *editor) {
	t.Helper()
	var out strings.Builder
	interrupted := 0
	e := newEditor(strings.NewReader(keys), &out, "> ", func() { interrupted++ })
	var lines []string
	for {
		line, err := e.ReadLine()
		if err == io.EOF {
			return lines, e
		}
		if err == errLineTooLong {
			lines = append(lines, "<too long>")
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
}

func TestEditorKeys(t *testing.T) {
	for _, tt := range []struct{ keys, want string }{
		{"hello\r", "hello"},
		{"helo\x1b[Dl\r", "hello"},               // Left, then insert
		{"hello\x7f\x7flo\r", "hello"},           // Backspace
		{"one two\x17three\r", "one three"},      // Ctrl-W
		{"abc\x01X\x05Y\r", "XabcY"},             // Ctrl-A, Ctrl-E
		{"abc\x1b[H\x1b[3~\r", "bc"},             // Home, Delete
		{"abc\x02\x02\x0b\r", "a"},               // Ctrl-B, Ctrl-K
		{"abc\x02\x15\r", "c"},                   // Ctrl-U
		{"x\ry\r\x1b[A\x1b[A\r", "x|y|x"},        // Up through history
		{"x\r\x1b[Adraft\x1b[B\r", "x|"},         // Down past the newest: the draft, here empty
		{"a\x1b[Bb\r", "ab"},                     // Down with no history: nothing
		{"été 日本\r", "été 日本"},                   // UTF-8
		{"\x1b[200~pasted\x1b[201~\r", "pasted"}, // bracketed paste
		{"ab\x04\r", "ab"},                       // Ctrl-D on a non-empty line deletes at the cursor (none here)
		{"one\ntwo\r", "one|two"},                // type-ahead's "\n" is Enter
	} {
		got, _ := typed(t, tt.keys+"\x04")
		if strings.Join(got, "|") != tt.want {
			t.Errorf("keys %q: lines %q, want %q", tt.keys, strings.Join(got, "|"), tt.want)
		}
	}
}

func TestEditorLongLines(t *testing.T) {
	long := strings.Repeat("z", 20000)
	got, _ := typed(t, long+"\rafter\r\x04")
	if len(got) != 2 || got[0] != long || got[1] != "after" {
		t.Errorf("a 20,000-character line: got %d lines, first %d long", len(got), len(got[0]))
	}
	got, _ = typed(t, strings.Repeat("z", maxLine+5)+"\rafter\r\x04")
	if strings.Join(got, "|") != "<too long>|after" {
		t.Errorf("a line over %d bytes: %q", maxLine, got)
	}
}

func TestEditorCtrlCInterrupts(t *testing.T) {
	var out strings.Builder
	n := 0
	e := newEditor(strings.NewReader("ab\x03c\r"), &out, "> ", func() { n++ })
	line, err := e.ReadLine()
	if err != nil || line != "abc" || n != 1 {
		t.Errorf("ReadLine = %q, %v; interrupts %d; want abc and one interrupt", line, err, n)
	}
}

// Output from other goroutines appears above the prompt, and the partly
// typed line is drawn again below it.
func TestEditorWriteAbovePrompt(t *testing.T) {
	inR, inW := io.Pipe()
	var mu sync.Mutex
	var screen strings.Builder
	out := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return screen.Write(p) })
	e := newEditor(inR, out, "ann> ", func() {})
	done := make(chan string)
	go func() { line, _ := e.ReadLine(); done <- line }()
	inW.Write([]byte("hel"))
	e.Write([]byte("bob: hi\n"))
	inW.Write([]byte("lo\r"))
	if line := <-done; line != "hello" {
		t.Fatalf("line %q", line)
	}
	mu.Lock()
	defer mu.Unlock()
	s := screen.String()
	i, j := strings.Index(s, "bob: hi\r\n"), strings.LastIndex(s, "ann> hel")
	if i < 0 || j < i {
		t.Errorf("the message is not above the redrawn prompt: %q", s)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestEditorKeyEdges(t *testing.T) {
	for _, tt := range []struct{ keys, want string }{
		{"\x7fab\r", "ab"},                       // Backspace on an empty line
		{"  \x17x\r", "x"},                       // Ctrl-W over spaces only
		{"a b  \x17\r", "a "},                    // Ctrl-W: the spaces, then the word
		{"ab\x1bOH\x1b[3~\r", "b"},               // ESC O H is Home too
		{"a\x1bxb\r", "axb"},                     // a lone Esc is dropped
		{"a\x1b[@b\r", "ab"},                     // an unknown sequence ending in @
		{"a\x1b[1;5Db\r", "ab"},                  // one with parameters, unknown
		{"a\x1b[4~b\x1b[1~c\r", "cab"},           // End, Home
		{"ab\x1b[D\x1b[D\x1b[D\x1b[Cx\r", "axb"}, // Left past the start, Right
		{"ab\x1b[C\x1b[Cx\r", "abx"},             // Right past the end
		{"ab\x06\x02\x02\x02x\r", "xab"},         // Ctrl-F past the end, Ctrl-B past the start
		{"a\x1b[7~b\x1b[8~c\r", "bac"},           // Home and End, rxvt
		{"abc\x04\x01\x04\r", "bc"},
		{"ab\x01\x06x\r", "axb"}, // Ctrl-F              // Ctrl-D deletes at the cursor
	} {
		got, _ := typed(t, tt.keys+"\x04")
		if strings.Join(got, "|") != tt.want {
			t.Errorf("keys %q: lines %q, want %q", tt.keys, strings.Join(got, "|"), tt.want)
		}
	}
	// Keys a byte at a time: an escape sequence split across reads.
	e := newEditor(iotest.OneByteReader(strings.NewReader("ab\x1b[D\x1b[3~c\r")), io.Discard, "> ", func() {})
	if line, err := e.ReadLine(); line != "ac" || err != nil {
		t.Errorf("a byte at a time: %q, %v", line, err)
	}
	// A width of 0 (a terminal that does not say) keeps the last one.
	e.SetWidth(0)
	if e.cols != 80 {
		t.Errorf("width %d after SetWidth(0), want 80", e.cols)
	}
	// Data that comes with the end of input is still read.
	e = newEditor(iotest.DataErrReader(strings.NewReader("last\r")), io.Discard, "> ", func() {})
	if line, err := e.ReadLine(); line != "last" || err != nil {
		t.Errorf("data with EOF: %q, %v", line, err)
	}
}

// The line's size in bytes is counted again after every edit, so the
// limit is exact however the line came to be.
func TestEditorLimitIsExact(t *testing.T) {
	x := strings.Repeat("x", maxLine)
	for _, tt := range []struct{ keys, want string }{
		{x + "\r", "ok"},
		{x + "y\r", "<too long>"},
		{x + "\x7f\x7fyz\r", "ok"},        // Backspace frees room
		{x + "\x01\x1b[3~y\r", "ok"},      // so does Delete
		{x[2:] + "\r\x1b[Aab\r", "ok|ok"}, // a recalled line counts as it is
		{x[2:] + "\r\x1b[Aabc\r", "ok|<too long>"},
		{x[2:] + "\r\x1b[A\x1b[Bab\r", "ok|ok"},               // and so does going back down
		{"h\r" + x[1:] + "\x1b[A\x1b[Bab\r", "ok|<too long>"}, // to a long draft
		{x + "\x02y\r", "<too long>"},                         // a key that moves, not deletes
		{x + "\x01\x1b[3~yz\r", "<too long>"},                 // Delete frees one byte, not two
	} {
		got, _ := typed(t, tt.keys+"\x04")
		for i, g := range got {
			if g != "<too long>" {
				got[i] = "ok"
			}
		}
		if strings.Join(got, "|") != tt.want {
			t.Errorf("%d keys (%q...): %q, want %q", len(tt.keys), tt.keys[max(0, len(tt.keys)-12):], strings.Join(got, "|"), tt.want)
		}
	}
}

func TestEditorHistory(t *testing.T) {
	// A line entered twice in a row is kept once; a recalled one is
	// entered again.
	got, e := typed(t, "a\rb\rb\r\x1b[A\x1b[A\r\x04")
	if strings.Join(got, "|") != "a|b|b|a" || strings.Join(e.history, "|") != "a|b|a" {
		t.Errorf("lines %q, history %q", got, e.history)
	}
	// The history keeps the last maxHistory lines.
	var keys strings.Builder
	for i := 0; i <= maxHistory; i++ {
		fmt.Fprintf(&keys, "line %d\r", i)
	}
	_, e = typed(t, keys.String()+"\x04")
	if len(e.history) != maxHistory || e.history[0] != "line 1" {
		t.Errorf("history of %d lines, first %q", len(e.history), e.history[0])
	}
}

func TestEditorWriteFails(t *testing.T) {
	e := newEditor(strings.NewReader(""), writerFunc(func([]byte) (int, error) { return 0, io.ErrClosedPipe }), "> ", func() {})
	if _, err := e.Write([]byte("x\n")); err == nil {
		t.Error("a failed write was not reported")
	}
}

// screen is a small model of a terminal, enough for what the editor
// writes: text that wraps at cols, \r, \n, and ESC [ n A, C, J.
type screen struct {
	cols     int
	rows     [][]rune
	row, col int
}

func (s *screen) Write(p []byte) (int, error) {
	text := string(p)
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r == '\r':
			s.col = 0
		case r == '\n':
			s.row++
		case r == 0x1b:
			j := i + 1 // past '['
			for j < len(text) && (text[j] < 0x40 || text[j] > 0x7e) {
				j++
			}
			n, _ := strconv.Atoi(text[i+1 : j])
			n = max(n, 1) // as a terminal takes it: 0 or nothing is 1
			switch text[j] {
			case 'A':
				s.row -= n
			case 'C':
				s.col += n
			case 'J':
				s.grow()
				s.rows[s.row] = s.rows[s.row][:min(s.col, len(s.rows[s.row]))]
				s.rows = s.rows[:s.row+1]
			}
			i = j + 1
		default:
			w := display.Columns(r)
			if s.col+w > s.cols {
				s.row, s.col = s.row+1, 0
			}
			s.grow()
			for len(s.rows[s.row]) < s.col {
				s.rows[s.row] = append(s.rows[s.row], ' ')
			}
			line := s.rows[s.row]
			if s.col < len(line) {
				line[s.col] = r
			} else {
				line = append(line, r)
			}
			if w == 2 { // the second cell of a wide character
				line = append(line, 0)
			}
			s.rows[s.row] = line
			s.col += w
		}
	}
	return len(p), nil
}

func (s *screen) grow() {
	for len(s.rows) <= s.row {
		s.rows = append(s.rows, nil)
	}
}

func (s *screen) text() string {
	var lines []string
	for _, r := range s.rows {
		lines = append(lines, strings.TrimRight(strings.ReplaceAll(string(r), "\x00", ""), " "))
	}
	return strings.Join(lines, "\n")
}

// What the editor draws, on a 10-column terminal: the line wraps, the
// cursor is where the keys put it, and a message written meanwhile stands
// above the prompt, which is drawn again whole.
func TestEditorDraws(t *testing.T) {
	for _, tt := range []struct {
		keys     string
		screen   string
		row, col int
	}{
		{"abc", "> abc", 0, 5},
		{"abcdefgh", "> abcdefgh\n", 1, 0}, // exactly full: the cursor waits on the next row
		{"abcdefghij", "> abcdefgh\nij", 1, 2},
		{"abcdefghij\x1b[D\x1b[D\x1b[D", "> abcdefgh\nij", 0, 9},
		{"abcdefghij\x01", "> abcdefgh\nij", 0, 2},
		{"abcdefghijklmnopqrstuvw\x01", "> abcdefgh\nijklmnopqr\nstuvw", 0, 2},
		{"abcdefghijklmnopqrstuvw\x1b[D", "> abcdefgh\nijklmnopqr\nstuvw", 2, 4},
		{"abcdefg日本", "> abcdefg\n日本", 1, 4}, // a wide character that does not fit goes to the next row
		{"abcdefghij\x7f\x7f\x7f", "> abcdefg", 0, 9},
	} {
		s := &screen{cols: 10}
		e := newEditor(strings.NewReader(tt.keys), s, "> ", func() {})
		e.SetWidth(10)
		e.ReadLine() // reads all the keys, then the end of input
		if got := s.text(); got != tt.screen {
			t.Errorf("keys %q: screen\n%s\nwant\n%s", tt.keys, got, tt.screen)
		}
		if s.row != tt.row || s.col != tt.col {
			t.Errorf("keys %q: cursor at %d,%d, want %d,%d", tt.keys, s.row, s.col, tt.row, tt.col)
		}
	}
	// A message while a long line is typed: above it, and the line whole.
	s := &screen{cols: 10}
	inR, inW := io.Pipe()
	e := newEditor(inR, s, "> ", func() {})
	e.SetWidth(10)
	done := make(chan struct{})
	go func() { e.ReadLine(); close(done) }()
	inW.Write([]byte("abcdefghijkl"))
	e.Write([]byte("bob: hi\n"))
	inW.Close()
	<-done
	if got, want := s.text(), "bob: hi\n> abcdefgh\nijkl"; got != want {
		t.Errorf("screen\n%s\nwant\n%s", got, want)
	}
}
