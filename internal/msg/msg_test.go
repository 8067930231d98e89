package msg

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
)

var when = time.Date(2026, 11, 25, 7, 30, 0, 123456789, time.UTC)

func post(channel, user, tm, body string) [][]byte {
	return [][]byte{[]byte(CmdPost), []byte(channel), []byte(user), []byte(tm), []byte(body)}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // substring of the reason; "" means valid
	}{
		{"ann", ""},
		{"Ann_B-2.x", ""},
		{"azAZ09_-.'", ""}, // every end of every range of plain names
		{"Zoë", ""},
		{"日本語", ""},
		{"O'Brien", ""},
		{"राहुल", ""},   // Hindi: vowel signs are combining marks
		{"தமிழ்", ""},   // Tamil
		{"বাংলা", ""},   // Bengali
		{"สมชาย", ""},   // Thai
		{"שָׁלוֹם", ""}, // Hebrew with vowel points
		{"やまだ太郎", ""},   // Japanese: Hiragana with Han
		{"김민준", ""},     // Korean
		{"Nguyễn", ""},  // Vietnamese, composed
		{"علي", ""},     // Arabic, right to left
		{strings.Repeat("a", 32), ""},
		{strings.Repeat("é", 32), ""}, // 32 characters, 64 bytes
		{"", "empty"},
		{strings.Repeat("a", 33), "33 characters long"},
		{"ann b", "has a space (U+0020)"},
		{"ann\x1b", "U+001B"},
		{"a/b", "'/'"},
		{"a:b", "':'"},
		{"ann!", "'!'"},
		{"\xff", "not valid UTF-8"},
		{"\u3164", "U+3164, which is invisible"},        // Hangul filler, shows as blank
		{"ann\u3164", "U+3164, which is invisible"},     // shows exactly as ann
		{"an\u200bn", "U+200B, which is invisible"},     // zero-width space
		{"ann\U000e0041", "invisible"},                  // a tag character
		{"\u0430nn", "mixes scripts (Cyrillic, Latin)"}, // Cyrillic а
		{"𝐚𝐧𝐧", "which a name may not have"},            // mathematical bold
		{"Nguye\u0302\u0303n", "not in its normal form, \"Nguyễn\""},
		{"ａｎｎ", "not in its normal form, \"ann\""}, // full width
	}
	for _, tt := range tests {
		err := CheckName("username", tt.in)
		checkErr(t, "CheckName("+tt.in+")", err, tt.wantErr)
	}
}

// Names are stored as their normal form: width folded and composed.
func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{"ａｎｎ": "ann", "Nguye\u0302\u0303n": "Nguyễn", "ann": "ann", "Zoë": "Zoë"} {
		if got, err := NormalizeName("username", in); err != nil || got != want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	m, err := Message{Channel: "ｄｅｖ", Username: "ａｎｎ", Time: when, Body: "hi"}.Normalize(MultiChannel)
	if err != nil || m.Channel != "dev" || m.Username != "ann" {
		t.Errorf("Normalize: %+v, %v", m, err)
	}
	// Only the channel, or only the username, in another form: each is
	// published in its normal form.
	for _, m := range []Message{{Channel: "ｄｅｖ", Username: "ann"}, {Channel: "dev", Username: "ａｎｎ"}} {
		m.Time, m.Body = when, "hi"
		f := EncodePost(m)
		got, err := DecodePost(f, MultiChannel)
		if pub := PubFrames(f, got, Number{}); err != nil || string(pub[0]) != "dev" || string(pub[1]) != "ann" {
			t.Errorf("%q: published %q, %v", f[1:3], pub, err)
		}
	}
	if err := CheckChannel("ｄｅｖ"); err == nil || !strings.Contains(err.Error(), `not in its normal form, "dev"`) {
		t.Errorf("CheckChannel(ｄｅｖ): %v", err)
	}
	frames := EncodePost(Message{Channel: "ｄｅｖ", Username: "ａｎｎ", Time: when, Body: "hi"})
	if got, err := DecodePost(frames, MultiChannel); err != nil || got.Username != "ann" {
		t.Fatalf("DecodePost of full-width names: %+v, %v", got, err)
	} else if pub := PubFrames(frames, got, Number{}); string(pub[0]) != "dev" || string(pub[1]) != "ann" {
		t.Errorf("published names %q, want the normal form", pub)
	}
}

// ALL cannot be faked: another case, full width, or look-alike letters.
func TestChannelsThatLookLikeALL(t *testing.T) {
	for _, c := range []string{"all", "All", "aLL", "ａｌｌ", "\u0410LL", "\u0391LL"} {
		if _, err := NormalizeChannel(c); err == nil {
			t.Errorf("channel %q was taken", c)
		}
	}
	// Full-width ＡＬＬ is ALL itself, once width is folded: read-only.
	for _, c := range []string{"ALL", "ＡＬＬ"} {
		if n, err := NormalizeChannel(c); err != nil || n != "ALL" {
			t.Errorf("%q: %q, %v; want ALL", c, n, err)
		}
	}
	for _, c := range []string{"alley", "mall", "dev"} {
		if _, err := NormalizeChannel(c); err != nil {
			t.Errorf("channel %q refused: %v", c, err)
		}
	}
}

func TestCheckBody(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"hello", ""},
		{"tab\tok", ""},
		{"  spaces, 'quotes' \"and\" -dashes ", ""},
		{"émoji 🎉 and 中文", ""},
		{strings.Repeat("x", MaxBodyLen), ""},
		{"", "empty"},
		{strings.Repeat("x", MaxBodyLen+1), "16385 bytes long"},
		{"bell\a", "U+0007"},
		{"esc\x1b[31m", "U+001B"},
		{"new\nline", "U+000A"},
		{"cr\r", "U+000D"},
		{"del\x7f", "U+007F"},
		{"c1\u0085", "U+0085"},
		{"bad\xc3", "not valid UTF-8"},
	}
	for _, tt := range tests {
		checkErr(t, "CheckBody("+truncate(tt.in, 20)+")", CheckBody(tt.in), tt.wantErr)
	}
}

func TestParseTime(t *testing.T) {
	for _, ok := range []string{"2026-11-25T07:30:00Z", "2026-11-25T07:30:00.5+01:00", "2026-11-25T07:30:00.123456789-08:00"} {
		if _, err := ParseTime(ok); err != nil {
			t.Errorf("ParseTime(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-11-25", "2026-11-25 07:30:00", "2026-13-25T07:30:00Z", "1700000000"} {
		_, err := ParseTime(bad)
		checkErr(t, "ParseTime("+bad+")", err, "not RFC 3339")
	}
}

func TestPostRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{Channel: "", Username: "ann", Time: when, Body: "hello world"},
		{Channel: "dev", Username: "bob", Time: when.In(time.FixedZone("X", 3600)), Body: "-n 'quoted' \"x\" \t 🎉"},
	} {
		mode := SingleRoom
		if m.Channel != "" {
			mode = MultiChannel
		}
		got, err := DecodePost(EncodePost(m), mode)
		if err != nil {
			t.Fatalf("DecodePost(EncodePost(%+v)): %v", m, err)
		}
		if got.Channel != m.Channel || got.Username != m.Username || got.Body != m.Body || !got.Time.Equal(m.Time) {
			t.Errorf("round trip: got %+v, want %+v", got, m)
		}
	}
}

func TestDecodePostRejects(t *testing.T) {
	tm := when.Format(TimeLayout)
	long := strings.Repeat("x", MaxBodyLen+1)
	tests := []struct {
		name    string
		frames  [][]byte
		mode    Mode
		wantErr string
	}{
		{"no frames", nil, SingleRoom, "empty request"},
		{"unknown command", [][]byte{[]byte("GET")}, SingleRoom, `unknown command "GET"`},
		{"lower-case command", append([][]byte{[]byte("post")}, post("", "ann", tm, "hi")[1:]...), SingleRoom, `unknown command "post"`},
		{"too few frames", post("", "ann", tm, "hi")[:4], SingleRoom, "5 frames"},
		{"too many frames", append(post("", "ann", tm, "hi"), []byte("x")), SingleRoom, "got 6"},
		{"bad time", post("", "ann", "noon", "hi"), SingleRoom, "not RFC 3339"},
		{"empty body", post("", "ann", tm, ""), SingleRoom, "message is empty"},
		{"long body", post("", "ann", tm, long), SingleRoom, "limit is 16384"},
		{"control in body", post("", "ann", tm, "a\x1b[2J"), SingleRoom, "control character"},
		{"bad utf8 body", post("", "ann", tm, "\xff\xfe"), SingleRoom, "UTF-8"},
		{"bad utf8 user", post("", "\xff", tm, "hi"), SingleRoom, "UTF-8"},
		{"bad utf8 time", post("", "ann", "\xff", "hi"), SingleRoom, "RFC 3339"},
		{"empty user", post("", "", tm, "hi"), SingleRoom, "username is empty"},
		{"bad user", post("", "a b", tm, "hi"), SingleRoom, "username"},
		{"channel on single-room server", post("dev", "ann", tm, "hi"), SingleRoom, "no channels"},
		{"no channel on multi-channel server", post("", "ann", tm, "hi"), MultiChannel, "no channel"},
		{"bad channel", post("d/v", "ann", tm, "hi"), MultiChannel, "channel"},
		{"bad utf8 channel", post("\xc0", "ann", tm, "hi"), MultiChannel, "UTF-8"},
		{"post to ALL", post("ALL", "ann", tm, "hi"), MultiChannel, "read-only"},
	}
	for _, tt := range tests {
		_, err := DecodePost(tt.frames, tt.mode)
		checkErr(t, tt.name, err, tt.wantErr)
		if err != nil && !IsInvalid(err) {
			t.Errorf("%s: IsInvalid(%v) = false", tt.name, err)
		}
	}
}

func TestPubRoundTrip(t *testing.T) {
	m := Message{Channel: "devops", Username: "cy", Time: when, Body: "deploy done"}
	n := Number{Numbering: "9f86d081884c7d65", Seq: 7, All: 1234}
	frames := PubFrames(EncodePost(m), m, n)
	if string(frames[0]) != "devops" || string(frames[4]) != "9f86d081884c7d65 7 1234" {
		t.Fatalf("frames %q, want the channel first and the number last", frames)
	}
	got, err := DecodePub(frames)
	if err != nil || got.Channel != m.Channel || got.Username != m.Username || got.Body != m.Body || !got.Time.Equal(m.Time) || got.Number != n {
		t.Fatalf("DecodePub(PubFrames(EncodePost(m))) = %+v, %v; want %+v", got, err, m)
	}
	// A publication without a number (a server from before numbering).
	if got, err := DecodePub(frames[:4]); err != nil || got.Number != (Number{}) {
		t.Errorf("DecodePub of 4 frames: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "x 1", "x 1 2 3", "x -1 2", "x 1 y"} {
		if _, err := DecodePub(append(frames[:4:4], []byte(bad))); err == nil {
			t.Errorf("DecodePub took the number %q", bad)
		}
	}
	// A publication is shown even if it breaks the content rules.
	raw := [][]byte{[]byte("x"), []byte("evil\x1b"), []byte(when.Format(TimeLayout)), []byte("\x1b[2J")}
	if got, err := DecodePub(raw); err != nil || got.Body != "\x1b[2J" {
		t.Errorf("DecodePub(rogue) = %+v, %v; want the body kept for escaping", got, err)
	}
	if _, err := DecodePub(raw[:3]); err == nil {
		t.Errorf("DecodePub(3 frames): no error")
	}
	raw[2] = []byte("later")
	if _, err := DecodePub(raw); err == nil {
		t.Errorf("DecodePub(bad time): no error")
	}
}

func TestReplies(t *testing.T) {
	if err := DecodeReply(OKReply()); err != nil {
		t.Errorf("DecodeReply(OK) = %v", err)
	}
	err := DecodeReply(ErrReply(errorf("nope")))
	if !IsInvalid(err) || err.Error() != "nope" {
		t.Errorf("DecodeReply(ERR nope) = %v", err)
	}
	for _, bad := range [][][]byte{nil, {[]byte("OK"), []byte("x")}, {[]byte("ERR")}, {[]byte("MAYBE")}} {
		if err := DecodeReply(bad); err == nil || IsInvalid(err) {
			t.Errorf("DecodeReply(%q) = %v, want a malformed-reply error", bad, err)
		}
	}
}

// A reason quotes at most 32 bytes of an unknown command and 40 of a bad
// time; inputs of exactly those lengths, one more, and runs of UTF-8
// continuation bytes (where no rune starts) are where an off-by-one would
// index past the end or loop past the start.
func TestTruncateAtItsBounds(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{strings.Repeat("c", 32), 32, strings.Repeat("c", 32)},
		{strings.Repeat("c", 33), 32, strings.Repeat("c", 32) + "..."},
		{strings.Repeat("t", 40), 40, strings.Repeat("t", 40)},
		{strings.Repeat("\x80", 40), 40, strings.Repeat("\x80", 40)},
		{strings.Repeat("\x80", 41), 40, "..."},
		{"", 40, ""},
	} {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
	// Through the decoder, as a client would send them.
	for _, frames := range [][][]byte{
		{bytes.Repeat([]byte("C"), 32)},
		{bytes.Repeat([]byte("C"), 33)},
		{[]byte(CmdPost), nil, []byte("ann"), bytes.Repeat([]byte("9"), 40), []byte("hi")},
		{[]byte(CmdPost), nil, []byte("ann"), bytes.Repeat([]byte{0x80}, 40), []byte("hi")},
		{[]byte(CmdPost), nil, []byte("ann"), bytes.Repeat([]byte{0x80}, 41), []byte("hi")},
	} {
		if _, err := DecodePost(frames, SingleRoom); !IsInvalid(err) {
			t.Errorf("DecodePost(%q): %v, want a reason", frames, err)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo", 2); got != "h..." {
		t.Errorf("truncate cut inside a rune: %q", got)
	}
	if got := truncate("abc", 5); got != "abc" {
		t.Errorf("truncate(abc, 5) = %q", got)
	}
}

// FuzzDecodePost: decoding never panics, and whatever it accepts passes the
// checks, survives a round trip, and holds no control characters.
func FuzzDecodePost(f *testing.F) {
	f.Add([]byte("POST"), []byte(""), []byte("ann"), []byte("2026-11-25T07:30:00Z"), []byte("hello"), false)
	f.Add([]byte("POST"), []byte("dev"), []byte("bob"), []byte("2026-11-25T07:30:00.123+01:00"), []byte("hi\tthere"), true)
	f.Add([]byte("POST"), []byte("ALL"), []byte("bob"), []byte("2026-11-25T07:30:00Z"), []byte("hi"), true)
	f.Add([]byte("POST"), []byte(""), []byte("a b"), []byte("now"), []byte("\x1b[2J"), false)
	f.Add([]byte("PUB"), []byte{0xff}, []byte{0xc3}, []byte{}, []byte{0}, true)
	f.Fuzz(func(t *testing.T, cmd, channel, user, tm, body []byte, channels bool) {
		mode := SingleRoom
		if channels {
			mode = MultiChannel
		}
		frames := [][]byte{cmd, channel, user, tm, body}
		m, err := DecodePost(frames, mode)
		if err != nil {
			if !IsInvalid(err) || err.Error() == "" {
				t.Fatalf("rejection without a reason: %v", err)
			}
			return
		}
		if err := m.Check(mode); err != nil {
			t.Fatalf("accepted a message that fails Check: %v", err)
		}
		if !bytes.Equal(cmd, []byte(CmdPost)) {
			t.Fatalf("accepted command %q", cmd)
		}
		again, err := DecodePost(EncodePost(m), mode)
		if err != nil || again.Body != m.Body || again.Username != m.Username || !again.Time.Equal(m.Time) {
			t.Fatalf("round trip failed: %+v, %v", again, err)
		}
	})
}

func checkErr(t *testing.T, name string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error %v", name, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want one containing %q", name, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q does not contain %q", name, err, want)
	}
}

// The time field is strict RFC 3339, so every frame the server republishes
// is bounded (35 bytes at most).
func TestParseTimeIsStrict(t *testing.T) {
	for _, ok := range []string{
		"2026-11-25T07:43:15Z",
		"2026-11-25T07:43:15.5Z",
		"2026-11-25T07:43:15.0Z",
		"2026-11-25T07:43:15.9Z",
		"2026-11-25T07:43:15.090Z",
		"2026-11-25T07:43:15.123456789+01:00",
		"2026-11-25t07:43:15z",
		"2026-11-25T07:43:15-23:59",
		"2026-11-25T07:43:15+23:59",
		"0001-01-01T00:00:00Z",
	} {
		if _, err := ParseTime(ok); err != nil {
			t.Errorf("ParseTime(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{
		"2026-11-25T7:43:15Z",                               // a one-digit hour
		"0000-11-25T07:43:15Z",                              // year 0
		"2026-11-25T07:43:15+24:00",                         // offset past 23:59
		"2026-11-25T07:43:15+23:60",                         // offset minutes
		"2026-11-25T07:43:15.1234567890Z",                   // 10 fractional digits
		"2026-11-25T07:43:15.Z",                             // no fractional digits
		"2026-11-25 07:43:15Z",                              // space for T
		"2026-11-25T07:43:15",                               // no zone
		"2026-11-25T07:43:15.123",                           // a fraction, then no zone
		"2026-13-25T07:43:15Z",                              // month 13
		"2026-06-31T07:43:15Z",                              // 31 June
		"+2026-11-25T07:43:15Z",                             // a sign on the year
		"2026-11-25T07:43:15Z" + strings.Repeat(" ", 1<<20), // a megabyte of padding
		"",
	} {
		if _, err := ParseTime(bad); err == nil || !IsInvalid(err) {
			t.Errorf("ParseTime(%.40q) accepted", bad)
		}
	}
}

// Check, which clients use, refuses what Normalize would, and names not in
// their normal form besides.
func TestCheckRefuses(t *testing.T) {
	for _, tt := range []struct {
		m    Message
		mode Mode
		want string
	}{
		{Message{Channel: "dev", Username: "a b", Body: "hi"}, MultiChannel, "username"},
		{Message{Channel: "dev", Username: "ann", Body: ""}, MultiChannel, "message is empty"},
		{Message{Channel: "d/v", Username: "ann", Body: "hi"}, MultiChannel, "channel"},
		{Message{Channel: "ALL", Username: "ann", Body: "hi"}, MultiChannel, "read-only"},
		{Message{Username: "ａｎｎ", Body: "hi"}, SingleRoom, "not in its normal form"},
		{Message{Username: "ann", Body: "x\x00"}, SingleRoom, "control character"},
		{Message{Channel: "dev", Username: "ann", Body: "hi"}, SingleRoom, "no channels"},
	} {
		err := tt.m.Check(tt.mode)
		checkErr(t, fmt.Sprintf("Check(%+v)", tt.m), err, tt.want)
	}
	if err := (Message{Channel: "dev", Username: "ann", Body: "hi"}).Check(MultiChannel); err != nil {
		t.Errorf("a valid message: %v", err)
	}
}

// CheckBody's one pass takes exactly what the plain rule takes: valid
// UTF-8 with no control character (Unicode's Cc) but tab.
func FuzzCheckBodyIsThePlainRule(f *testing.F) {
	for _, s := range []string{"hi", "a\tb", "a\x00", "\x7f", "\u0080", "\u009f", "\u00a0", "é", "\xff", "a\xc3", "日本", "\x1b[2J", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || len(s) > MaxBodyLen {
			return
		}
		plain := utf8.ValidString(s)
		for _, r := range s {
			if r != '\t' && unicode.IsControl(r) {
				plain = false
			}
		}
		if got := CheckBody(s) == nil; got != plain {
			t.Errorf("CheckBody(%q) ok = %v, the plain rule says %v", s, got, plain)
		}
	})
}

func TestWelcomeRoundTrip(t *testing.T) {
	w := Welcome("9f86d081884c7d65", 5555)
	if n, port, ok := DecodeWelcome([][]byte{w}); !ok || n != "9f86d081884c7d65" || port != 5555 {
		t.Fatalf("DecodeWelcome(%q) = %q %d %v", w, n, port, ok)
	}
	for _, bad := range [][][]byte{{w, w}, {[]byte("zmqchat x")}, {[]byte("zmqchat x 0")}, {[]byte("dev")}} {
		if _, _, ok := DecodeWelcome(bad); ok {
			t.Errorf("DecodeWelcome took %q", bad)
		}
	}
}

func TestHistoryAfterRoundTrip(t *testing.T) {
	h := History{Channel: "dev", Count: 100, After: &Number{Numbering: "abc", Seq: 41, All: 99}}
	got, err := DecodeHistory(EncodeHistory(h), MultiChannel)
	if err != nil || got.Count != 100 || got.After == nil || *got.After != *h.After {
		t.Fatalf("DecodeHistory(EncodeHistory(%+v)) = %+v, %v", h, got, err)
	}
	if _, err := DecodeHistory([][]byte{[]byte("HISTORY"), []byte("dev"), []byte("5"), []byte("after x")}, MultiChannel); err == nil {
		t.Error("a malformed after was taken")
	}
}

func TestChannelsRoundTrip(t *testing.T) {
	cs := []Channel{{Name: "dev", Count: 12, Last: "2026-12-06T05:40:11Z"}, {Name: "ops", Count: 3}}
	got, more, err := DecodeChannelsReply(ChannelsReply(cs, true))
	if err != nil || !more || len(got) != 2 || got[0] != cs[0] || got[1] != cs[1] {
		t.Fatalf("DecodeChannelsReply(ChannelsReply(%v)) = %v, %v, %v", cs, got, more, err)
	}
	if _, _, err := DecodeChannelsReply([][]byte{[]byte("OK"), []byte("dev"), []byte("x"), []byte("")}); err == nil {
		t.Error("a count that is not a number was taken")
	}
}

// likeALL's allocation-free path for ASCII names answers as the
// confusables skeleton does, for every name of up to three characters of
// the names' ASCII alphabet.
func TestASCIILikeALLMatchesTheSkeleton(t *testing.T) {
	var alphabet []byte
	for c := byte(0); c < utf8.RuneSelf; c++ {
		if isNameASCII(c) {
			alphabet = append(alphabet, c)
		}
	}
	slow := func(name string) bool {
		return strings.EqualFold(name, AllChannel) || confusables.Skeleton(strings.ToLower(name)) == allSkeleton ||
			strings.ToLower(confusables.Skeleton(name)) == allSkeleton
	}
	names, like := 0, 0
	var visit func(prefix []byte)
	visit = func(prefix []byte) {
		if len(prefix) > 0 {
			name := string(prefix)
			names++
			if got, want := asciiLikeALL(name), slow(name); got != want {
				t.Fatalf("asciiLikeALL(%q) = %v, the skeleton says %v", name, got, want)
			} else if got {
				like++
			}
		}
		if len(prefix) == 3 {
			return
		}
		for _, c := range alphabet {
			visit(append(prefix, c))
		}
	}
	visit(nil)
	if like == 0 {
		t.Fatalf("none of %d names looks like ALL: the test compares nothing", names)
	}
	if n := testing.AllocsPerRun(100, func() { likeALL("c7") }); n != 0 {
		t.Errorf("likeALL of an ASCII name allocates %.0f times", n)
	}
}

func BenchmarkCheckBody16K(b *testing.B) {
	body := strings.Repeat("a chat line, typed; ", 800)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := CheckBody(body); err != nil {
			b.Fatal(err)
		}
	}
}

// CheckBody's 64-bytes-at-a-time path finds what is not allowed at every
// position of a long body, and passes tabs and text that is not ASCII on
// to the exact check.
func TestCheckBodyAtEveryPosition(t *testing.T) {
	for _, bad := range []string{"\x00", "\x1f", "\n", "\x7f", "\x80", "\u0085"} {
		for pos := 0; pos < 100; pos++ {
			body := strings.Repeat("x", pos) + bad + strings.Repeat("y", 100-pos)
			if CheckBody(body) == nil {
				t.Fatalf("%q at %d: no error", bad, pos)
			}
		}
	}
	for _, good := range []string{"\t", "é", "🎉", "~", " "} {
		for pos := 0; pos < 100; pos++ {
			if err := CheckBody(strings.Repeat("x", pos) + good + strings.Repeat("y", 100-pos)); err != nil {
				t.Fatalf("%q at %d: %v", good, pos, err)
			}
		}
	}
}

// notPlain is exact for a word: 0 only if all 8 bytes are printable ASCII,
// whatever carries and borrows between bytes (words of the bytes at the
// edges of the rule, in every mix, and random ones).
func TestNotPlainIsExact(t *testing.T) {
	edges := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0xfe, 0xff}
	check := func(w uint64) {
		plain := true
		for k := 0; k < 8; k++ {
			if b := byte(w >> (8 * k)); b < 0x20 || b > 0x7e {
				plain = false
			}
		}
		if (notPlain(w) == 0) != plain {
			t.Fatalf("notPlain(%016x) = %x, plain %v", w, notPlain(w), plain)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1_000_000 {
		var w uint64
		for k := 0; k < 8; k++ {
			b := edges[rng.IntN(len(edges))]
			if rng.IntN(3) == 0 {
				b = 0x20 + byte(rng.IntN(0x5f))
			}
			w |= uint64(b) << (8 * k)
		}
		check(w)
		check(rng.Uint64())
	}
}
