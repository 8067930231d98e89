package display

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Fold breaks a rendered line into lines of at most cols columns for a
// terminal of that width, each after the first starting with indent. A
// terminal would wrap a long line by itself, at column 0, where a body
// padded to the terminal's width could put text that looks like a message
// of its own ("bob: ..."); folded, every continuation is indented, and no
// name starts with a space. SGR sequences (colours) take no columns, and
// a tab is expanded to the next tab stop (every 8 columns), as the
// terminal would show it: counted as one column, tabs would let a body
// reach past the fold unseen.
func Fold(line string, cols int, indent string) string {
	if cols <= len(indent)+1 || len(line) <= cols && isSafe(line) && !strings.Contains(line, "\t") {
		return line
	}
	var b strings.Builder
	col := 0
	for i := 0; i < len(line); {
		if line[i] == 0x1b { // an SGR sequence: ESC [ params m
			j := i + 1
			for j < len(line) && line[j] != 'm' {
				j++
			}
			b.WriteString(line[i:min(j+1, len(line))])
			i = j + 1
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		text, w := line[i:i+size], Columns(r)
		if r == '\t' {
			w = tabStop - col%tabStop
			if col+w > cols { // to the end of the row; the rest is a new one
				w = cols - col
			}
			text = strings.Repeat(" ", w)
		}
		if col+w > cols {
			b.WriteByte('\n')
			b.WriteString(indent)
			col = len(indent)
		}
		b.WriteString(text)
		col += w
		i += size
	}
	return b.String()
}

// tabStop is how far apart a terminal's tab stops are.
const tabStop = 8

// Columns is how many terminal columns r takes: none for a combining mark,
// two for a wide East Asian character, one otherwise.
func Columns(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
