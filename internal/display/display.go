// Package display formats chat messages for people and makes text from the
// network safe to write to a terminal.
package display

import (
	"fmt"
	"hash/fnv"
	"unicode"
	"unicode/utf8"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// TimeLayout is how a message's time is shown, in local time.
const TimeLayout = "2006-01-02 15:04:05"

// Line formats m as "username: message (time)", every field escaped: the
// plain format of pub_client and post_client, for pipes and scripts.
func Line(m msg.Message) string { return Render(m, Style{}) }

// Style says how Render shows a message. The zero Style is Line's plain
// format.
type Style struct {
	// ShowChannel puts "[channel] " in front, as the ALL client and
	// mc_server's log do.
	ShowChannel bool
	Color       bool   // colour usernames and channels, dim the time (ANSI SGR)
	Self        string // the viewer's own username: their messages are marked "(you)"
	// MaxBody, if not 0, shortens a longer body to its first MaxBody
	// bytes and says how long it was: "abc… (16000 bytes)". A server's
	// log line for a 16 KB message helps no one.
	MaxBody int
}

// Note returns a line the client itself writes among the messages (such
// as the line that sets history apart), dim when in colour.
func (s Style) Note(line string) string {
	if s.Color {
		return sgrDim + line + sgrReset
	}
	return line
}

// SGR sequences used by Render.
const (
	sgrReset = "\x1b[0m"
	sgrDim   = "\x1b[2m"
)

// palette holds the foreground colours names are given: the six ANSI
// colours that read on dark and light backgrounds, plain and bright.
var palette = [...]string{"31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96"}

// ColorOf returns the SGR sequence for name: the same for the same name in
// every client and every run, and spread over the palette.
func ColorOf(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return "\x1b[1;" + palette[h.Sum32()%uint32(len(palette))] + "m"
}

// Render formats m as Line does, styled; with a zero Style it is Line.
func Render(m msg.Message, st Style) string {
	return string(Append(nil, m, st))
}

// Append appends Render's text to dst and returns the extended slice; a
// caller that formats many messages reuses one buffer.
func Append(dst []byte, m msg.Message, st Style) []byte {
	if st.ShowChannel {
		dst = append(dst, '[')
		dst = appendColored(dst, st.Color, m.Channel)
		dst = append(dst, "] "...)
	}
	dst = appendColored(dst, st.Color, m.Username)
	if st.Self != "" && m.Username == st.Self {
		dst = append(dst, " (you)"...)
	}
	dst = append(dst, ": "...)
	if st.MaxBody > 0 && len(m.Body) > st.MaxBody {
		n := st.MaxBody
		for n > 0 && !utf8.RuneStart(m.Body[n]) {
			n--
		}
		dst = appendEscaped(dst, m.Body[:n])
		dst = fmt.Appendf(dst, "… (%d bytes)", len(m.Body))
	} else {
		dst = appendEscaped(dst, m.Body)
	}
	dst = append(dst, ' ')
	if st.Color {
		dst = append(dst, sgrDim...)
	}
	dst = append(dst, '(')
	dst = m.Time.Local().AppendFormat(dst, TimeLayout)
	dst = append(dst, ')')
	if st.Color {
		dst = append(dst, sgrReset...)
	}
	return dst
}

func appendColored(dst []byte, color bool, name string) []byte {
	if !color {
		return appendEscaped(dst, name)
	}
	dst = append(dst, ColorOf(name)...)
	dst = appendEscaped(dst, name)
	return append(dst, sgrReset...)
}

// Escape returns s with everything a terminal could act on made visible:
// control characters (C0 but tab, DEL, C1) as \xNN, bytes that are not
// UTF-8 as \xNN, and invisible characters that can make text read
// differently from what it is (see isInvisible) as \uNNNN. A backslash is left as
// it is; the escapes are for reading, not for decoding.
func Escape(s string) string {
	if isSafe(s) {
		return s
	}
	return string(appendEscaped(nil, s))
}

func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}

func appendEscaped(dst []byte, s string) []byte {
	if isSafe(s) {
		return append(dst, s...)
	}
	prev := rune(0)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			dst = fmt.Appendf(dst, `\x%02x`, s[i])
		case r < 0x20 && r != '\t', r >= 0x7f && r < 0xa0:
			dst = fmt.Appendf(dst, `\x%02x`, r)
		case isInvisible(r, prev):
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
		prev = r
	}
	return dst
}

// isInvisible reports the characters that show nothing yet change what
// text looks like or how it reads: format characters (the bidirectional
// controls of "Trojan Source", zero-width spaces and joiners, tags, the
// soft hyphen), the other default-ignorable ones (the Hangul filler that
// shows as a blank), and the line and paragraph separators. A zero-width
// joiner after a symbol is left alone: it builds emoji (👩‍💻). prev is the
// character before r.
func isInvisible(r, prev rune) bool {
	switch {
	case r == zwj:
		return !unicode.Is(unicode.So, prev)
	case r == 0x2028, r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

const zwj = 0x200d

// Count says a count of things: "1 message", "3 messages".
func Count[N ~int | ~int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
