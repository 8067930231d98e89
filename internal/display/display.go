// Package display formats chat messages for people and makes text from the
// network safe to write to a terminal.
package display

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// TimeLayout is how a message's time is shown, in local time.
const TimeLayout = "2006-01-02 15:04:05"

// Line formats m as "username: message (time)", or with the channel in
// front, "[channel] username: message (time)", every field escaped.
func Line(m msg.Message, withChannel bool) string {
	var b strings.Builder
	b.Grow(len(m.Channel) + len(m.Username) + len(m.Body) + len(TimeLayout) + 8)
	if withChannel {
		b.WriteByte('[')
		writeEscaped(&b, m.Channel)
		b.WriteString("] ")
	}
	writeEscaped(&b, m.Username)
	b.WriteString(": ")
	writeEscaped(&b, m.Body)
	b.WriteString(" (")
	b.WriteString(m.Time.Local().Format(TimeLayout))
	b.WriteByte(')')
	return b.String()
}

// Escape returns s with everything a terminal could act on made visible:
// control characters (C0 but tab, DEL, C1) as \xNN, bytes that are not
// UTF-8 as \xNN, and the invisible bidirectional controls that can make
// text read differently from what it is as \uNNNN. A backslash is left as
// it is; the escapes are for reading, not for decoding.
func Escape(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	writeEscaped(&b, s)
	return b.String()
}

func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}

func writeEscaped(b *strings.Builder, s string) {
	if isSafe(s) {
		b.WriteString(s)
		return
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(b, `\x%02x`, s[i])
		case r < 0x20 && r != '\t', r >= 0x7f && r < 0xa0:
			fmt.Fprintf(b, `\x%02x`, r)
		case isBidiControl(r):
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// isBidiControl reports the invisible bidirectional formatting characters
// (the "Trojan Source" ones) and the line and paragraph separators.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c,
		r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
