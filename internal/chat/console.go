package chat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
)

// maxLine is the longest input line read whole. A longer line cannot be a
// valid message (the body limit is 16 KiB), so its rest is skipped rather
// than buffered.
const maxLine = 64 << 10

// errLineTooLong is what ReadLine returns for a line over maxLine bytes;
// reading can go on after it.
var errLineTooLong = fmt.Errorf("line is over %d bytes: not sent", maxLine)

// console is where a chat client reads lines and shows output. Show and
// Warn may be called from any goroutine; ReadLine from one.
type console interface {
	ReadLine() (string, error)
	Show(line string) // a chat line, to standard output
	Warn(line string) // a diagnostic, to standard error
}

// plainConsole is the line-based console for pipes and scripts: output is
// exactly the chat lines, one per line.
type plainConsole struct {
	in       *bufio.Reader
	mu       sync.Mutex
	out, err io.Writer
}

func newPlainConsole(in io.Reader, out, err io.Writer) *plainConsole {
	return &plainConsole{in: bufio.NewReaderSize(in, maxLine), out: out, err: err}
}

func (c *plainConsole) ReadLine() (string, error) {
	line, err := c.in.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = c.in.ReadSlice('\n')
		}
		if err == nil || errors.Is(err, io.EOF) {
			return "", errLineTooLong
		}
		return "", err
	}
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return "", err
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	return string(line), nil
}

func (c *plainConsole) Show(line string) { c.write(c.out, line) }
func (c *plainConsole) Warn(line string) { c.write(c.err, line) }

func (c *plainConsole) write(w io.Writer, line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(w, line+"\n")
}
