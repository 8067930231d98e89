package display

import (
	"strings"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"tab\tstays", "tab\tstays"},
		{"Zoë 🎉 中文", "Zoë 🎉 中文"},
		{`back\slash`, `back\slash`},
		{"\x1b[2J\x1b]0;owned\a", `\x1b[2J\x1b]0;owned\x07`},
		{"line\nbreak\r", `line\x0abreak\x0d`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1 \u009b31m", `c1 \x9b31m`},
		{"bad \xff\xc3 utf8", `bad \xff\xc3 utf8`},
		{"rtl \u202eevil\u2066", `rtl \u202eevil\u2066`},
		// The edges of each range: what is escaped, and what is not.
		{"\x1f\x01", `\x1f\x01`},           // only control characters
		{"ok\x7f", `ok\x7f`},               // DEL at the end
		{" ~", " ~"},                       // 0x20 and 0x7e are text
		{"\u009f\u0080", `\x9f\x80`},       // the ends of C1
		{"no\u00a0break", "no\u00a0break"}, // U+00A0 is a space, not C1
		{"\u202a\u202e", `\u202a\u202e`},   // the ends of the embeddings
		{"\u2066\u2069", `\u2066\u2069`},   // the ends of the isolates
		{"\u2029\u2028\u200e\u200f\u061c", `\u2029\u2028\u200e\u200f\u061c`},
		// Invisible characters: zero-width, tags, the Hangul filler, the
		// soft hyphen and the byte-order mark; a joiner that builds an
		// emoji stays.
		{"zero\u200bwidth\u200c\u2060", `zero\u200bwidth\u200c\u2060`},
		{"tag\U000e0041\U000e007f", `tag\ue0041\ue007f`},
		{"ann\u3164", `ann\u3164`},
		{"soft\u00adhy\ufeff", `soft\u00adhy\ufeff`},
		{"a\u200db", `a\u200db`},
		{"\U0001F469\u200d\U0001F4BB \u2764\ufe0f", "\U0001F469\u200d\U0001F4BB \u2764\ufe0f"},
		{"\u2027\u202f\u2030\u2029", "\u2027\u202f\u2030" + `\u2029`}, // visible neighbours stay
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeLeavesNoControlBytes(t *testing.T) {
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	got := Escape(string(all) + "\u0085\u009b")
	for i := 0; i < len(got); i++ {
		if c := got[i]; c < 0x20 && c != '\t' || c == 0x7f {
			t.Fatalf("Escape left control byte %#x at %d in %q", c, i, got)
		}
	}
	if strings.ContainsRune(got, '\u009b') || strings.ContainsRune(got, '\u0085') {
		t.Fatalf("Escape left a C1 control: %q", got)
	}
}

// Names and bodies of any length render whole: nothing in the formatting
// depends on them being short (a rogue publisher's need not be).
func TestRenderLongFields(t *testing.T) {
	when := time.Date(2026, 11, 25, 7, 30, 5, 0, time.UTC)
	long := strings.Repeat("n", 200)
	m := msg.Message{Channel: long, Username: long, Time: when, Body: "b"}
	for _, st := range []Style{{}, {ShowChannel: true, Color: true, Self: long}} {
		got := Render(m, st)
		if strings.Count(got, long) != 1+boolInt(st.ShowChannel) || !strings.Contains(got, ": b ") {
			t.Errorf("Render(%+v) of 200-byte names = %q", st, got)
		}
	}
	m.Username, m.Channel = "", ""
	if got := Line(m); !strings.HasPrefix(got, ": b (") {
		t.Errorf("Line of empty names = %q", got)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLine(t *testing.T) {
	when := time.Date(2026, 11, 25, 7, 30, 5, 0, time.UTC)
	m := msg.Message{Channel: "dev", Username: "ann", Time: when, Body: "hi \x1b[31mred"}
	local := when.Local().Format(TimeLayout)
	if got, want := Line(m), `ann: hi \x1b[31mred (`+local+`)`; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	if got, want := Render(m, Style{ShowChannel: true}), `[dev] ann: hi \x1b[31mred (`+local+`)`; got != want {
		t.Errorf("Line with channel = %q, want %q", got, want)
	}
}

func TestRenderStyles(t *testing.T) {
	when := time.Date(2026, 11, 25, 7, 30, 5, 0, time.UTC)
	local := when.Local().Format(TimeLayout)
	m := msg.Message{Channel: "dev", Username: "ann", Time: when, Body: "hi"}
	if got := Render(m, Style{}); got != Line(m) {
		t.Errorf("Render with no style = %q, want Line's %q", got, Line(m))
	}
	if got, want := Render(m, Style{Self: "ann"}), "ann (you): hi ("+local+")"; got != want {
		t.Errorf("own message = %q, want %q", got, want)
	}
	if got := Render(m, Style{Self: "bob"}); strings.Contains(got, "(you)") {
		t.Errorf("someone else's message marked as own: %q", got)
	}
	got := Render(m, Style{ShowChannel: true, Color: true})
	want := "[" + ColorOf("dev") + "dev\x1b[0m] " + ColorOf("ann") + "ann\x1b[0m: hi \x1b[2m(" + local + ")\x1b[0m"
	if got != want {
		t.Errorf("coloured = %q, want %q", got, want)
	}
	// Colours are the same in every client and run (pinned: FNV-1a of the
	// name over the palette), and spread: a handful of names use several.
	for name, want := range map[string]string{"ann": "\x1b[1;93m", "eve": "\x1b[1;94m"} {
		if got := ColorOf(name); got != want {
			t.Errorf("ColorOf(%q) = %q, want %q", name, got, want)
		}
	}
	seen := map[string]bool{}
	for _, n := range []string{"ann", "bob", "cy", "dan", "eve", "fay", "gus", "hal"} {
		seen[ColorOf(n)] = true
	}
	if len(seen) < 4 {
		t.Errorf("8 names got only %d colours", len(seen))
	}
	// A name's escapes stay escaped inside the colour.
	m.Username = "x\x1b[2J"
	if got := Render(m, Style{Color: true}); !strings.Contains(got, `x\x1b[2J`) {
		t.Errorf("escape in a coloured name not made visible: %q", got)
	}
}

func TestFold(t *testing.T) {
	for _, tt := range []struct {
		in   string
		cols int
		want string
	}{
		{"eve: hi (t)", 40, "eve: hi (t)"},
		{"eve: 0123456789", 10, "eve: 01234\n  56789"},
		// Padding to the width cannot put "bob:" at the start of a line.
		{"eve: x" + strings.Repeat(" ", 14) + "bob: fake", 20, "eve: x" + strings.Repeat(" ", 14) + "\n  bob: fake"},
		// Colours take no columns; wide characters take two.
		{"\x1b[1;93meve\x1b[0m: 日本語日本語", 12, "\x1b[1;93meve\x1b[0m: 日本語\n  日本語"},
		{"e\u0301e\u0301e\u0301e\u0301", 4, "e\u0301e\u0301e\u0301e\u0301"},
		// Too narrow to fold with the indent: left to the terminal.
		{"abcdef", 3, "abcdef"},
		{"abcdef", 4, "abcd\n  ef"},
		// An escape cut short is copied as it is, not read past its end.
		{"ab\x1b[1;3", 40, "ab\x1b[1;3"},
		// Tabs go to the next tab stop, as spaces: ten of them cannot
		// carry "bob:" to the start of a row unseen.
		{"eve: ok\t\t\tbob: fake", 20, "eve: ok" + strings.Repeat(" ", 13) + "\n  bob: fake"},
		{"a\tb", 40, "a       b"},
		{"eve: x\ty", 8, "eve: x  \n  y"},
	} {
		if got := Fold(tt.in, tt.cols, "  "); got != tt.want {
			t.Errorf("Fold(%q, %d) = %q, want %q", tt.in, tt.cols, got, tt.want)
		}
	}
}
