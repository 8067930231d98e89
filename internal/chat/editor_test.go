package chat

import (
	"io"
	"strings"
	"sync"
	"testing"
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
