// Package msg is zmqchat's message record and its wire codec: the
// <channel, username, time, message> record, the POST request that carries it
// to a server, the publication that carries it to subscribers, and the
// validation rules both ends share. Everything here is plain functions over
// bytes and strings, so it is tested without sockets.
package msg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Limits and reserved names of the protocol.
const (
	// MaxNameLen is the longest username or channel name, in characters.
	MaxNameLen = 32
	// MaxBodyLen is the longest message body, in bytes.
	MaxBodyLen = 16 * 1024
	// AllChannel is the read-only channel whose subscribers see every channel.
	AllChannel = "ALL"
	// TimeLayout is how clients stamp the time of a post.
	TimeLayout = time.RFC3339Nano
)

// Command words of a request's first frame, and reply words.
const (
	CmdPost     = "POST"
	CmdHistory  = "HISTORY"
	CmdChannels = "CHANNELS"
	ReplyOK     = "OK"
	ReplyErr    = "ERR"
	// ReplyMore begins a HISTORY reply that stopped at HistoryBytes: it
	// holds the newest of the messages asked for that fit, and the rest
	// are older (ask again with Skip).
	ReplyMore = "MORE"
)

// MaxHistory is the most messages one HISTORY request returns, and how far
// back, counted from the newest, one may reach (Count + Skip).
const MaxHistory = 1000

// HistoryBytes is the most a HISTORY reply carries, counting its frames'
// bytes: a thousand chat lines fit many times over, a thousand bodies of
// 16 KiB take sixteen requests. It bounds what one reply makes a server
// hold until the client reads it.
const HistoryBytes = 1 << 20

// Mode is which part's rules a server or client follows.
type Mode int

const (
	// SingleRoom is parts 1 to 3: one room, so the channel frame is empty.
	SingleRoom Mode = iota
	// MultiChannel is part 4: every post names a channel, and ALL is
	// read-only.
	MultiChannel
)

// Message is one chat message: who said what, when, and on which channel
// ("" for the single-room servers of parts 1 to 3).
type Message struct {
	Channel  string
	Username string
	Time     time.Time
	Body     string
	Number   Number // zero if the publication carried none
}

// Number is a message's place in its server's numbering: Seq in its
// channel and All in the server's order, each counted from 1, under the
// numbering's identity (a server that starts again from nothing numbers
// anew, under another).
type Number struct {
	Numbering string
	Seq, All  uint64
}

// Frame returns n as a publication's fifth frame: "<numbering> <seq> <all>".
func (n Number) Frame() []byte { return n.AppendFrame(nil) }

// AppendFrame appends n's frame to dst and returns the result.
func (n Number) AppendFrame(dst []byte) []byte {
	dst = append(append(dst, n.Numbering...), ' ')
	dst = strconv.AppendUint(dst, n.Seq, 10)
	dst = append(dst, ' ')
	return strconv.AppendUint(dst, n.All, 10)
}

// ParseNumber parses a publication's fifth frame.
func ParseNumber(b []byte) (Number, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 || len(f[0]) > 32 {
		return Number{}, errorf("number %q is not \"<numbering> <seq> <all>\"", truncate(string(b), 64))
	}
	seq, err1 := strconv.ParseUint(f[1], 10, 64)
	all, err2 := strconv.ParseUint(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return Number{}, errorf("number %q is not \"<numbering> <seq> <all>\"", truncate(string(b), 64))
	}
	return Number{Numbering: f[0], Seq: seq, All: all}, nil
}

// Key is what makes two messages the same message: the same channel,
// username, instant and body. It is comparable, for maps.
type Key struct {
	channel, username, body string
	sec                     int64
	nsec                    int
}

// Key returns m's Key.
func (m Message) Key() Key {
	return Key{m.Channel, m.Username, m.Body, m.Time.Unix(), m.Time.Nanosecond()}
}

// Error is a validation or decoding failure; its text is meant for a person
// and is what a server sends back after ERR.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func errorf(format string, args ...any) error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// IsInvalid reports whether err is a validation or decoding failure (as
// opposed to, say, a network error).
func IsInvalid(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// CheckUsername checks a username, which must be in its normal form.
func CheckUsername(s string) error { return CheckName("username", s) }

// CheckChannel checks the name of a channel that may be joined (ALL
// included), which must be in its normal form.
func CheckChannel(s string) error {
	norm, err := NormalizeChannel(s)
	if err == nil && norm != s {
		err = errorf("channel %q is not in its normal form, %q", s, norm)
	}
	return err
}

func errReadOnly() error {
	return errorf("channel %s is read-only: it shows every channel, post to one of them instead", AllChannel)
}

// CheckBody checks a message body: 1 to MaxBodyLen bytes of valid UTF-8 with
// no control characters other than tab.
func CheckBody(s string) error {
	if s == "" {
		return errorf("message is empty")
	}
	if len(s) > MaxBodyLen {
		return errorf("message is %d bytes long, the limit is %d", len(s), MaxBodyLen)
	}
	// One pass, 64 bytes at a time while the text is printable ASCII (most
	// chat is), then a word or a rune at a time: valid UTF-8, and no
	// control character but tab (C0, DEL, and C1, which is U+0080 to
	// U+009F).
	for i := plainPrefix(s); i < len(s); {
		if i+8 <= len(s) && plainASCII8(s[i:i+8]) {
			i += 8
			continue
		}
		if b := s[i]; b < utf8.RuneSelf {
			if b < 0x20 && b != '\t' || b == 0x7f {
				return errorf("message contains control character %U: only tab is allowed", rune(b))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return errorf("message is not valid UTF-8")
		}
		if r < 0xa0 {
			return errorf("message contains control character %U: only tab is allowed", r)
		}
		i += size
	}
	return nil
}

// plainASCII8 reports whether the 8 bytes of s are printable ASCII
// (0x20 to 0x7e).
func plainASCII8(s string) bool {
	return notPlain(binary.LittleEndian.Uint64([]byte(s))) == 0 // no copy: the compiler sees through it
}

// plainPrefix returns how many of s's first bytes, a multiple of 64, are
// printable ASCII: a 16 KiB body is checked at memory's pace (1.7 µs at
// 32 bytes a step with a mask a word; about 1 with 64 and one mask).
func plainPrefix(s string) int {
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read, never written
	le := binary.LittleEndian
	i := 0
	for ; i+64 <= len(b); i += 64 {
		c := b[i : i+64 : i+64]
		if (unplain(le.Uint64(c))|unplain(le.Uint64(c[8:]))|unplain(le.Uint64(c[16:]))|unplain(le.Uint64(c[24:]))|
			unplain(le.Uint64(c[32:]))|unplain(le.Uint64(c[40:]))|unplain(le.Uint64(c[48:]))|unplain(le.Uint64(c[56:])))&highs != 0 {
			break
		}
	}
	return i
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// notPlain is not 0 if any of the 8 bytes of w is not printable ASCII
// (0x20 to 0x7e).
func notPlain(w uint64) uint64 { return unplain(w) & highs }

// unplain has a high bit set for a byte of w that is not printable ASCII:
// its own (0x80 and up), or adding 1 sets it (0x7f), or taking 0x20 away
// borrows (below 0x20); and for no byte if all are printable. A carry or
// a borrow crosses into the next byte only from a byte that is itself not
// plain, so the answer is exact for the word (TestNotPlainIsExact).
func unplain(w uint64) uint64 { return w | (w + ones) | (w - 0x20*ones) }

// ParseTime parses a post's time field, strict RFC 3339 (section 5.6):
// YYYY-MM-DDTHH:MM:SS, an optional fraction of 1 to 9 digits, then Z or an
// offset ±HH:MM within ±23:59; T and Z may be lower case. Every field has
// its fixed width, so the frame is at most 35 bytes, and what a server
// republishes is bounded. (time.Parse alone takes a one-digit hour.)
func ParseTime(s string) (time.Time, error) {
	if !rfc3339(s) {
		return time.Time{}, errorf("time %q is not RFC 3339 (like 2006-01-02T15:04:05.999Z or +01:00 for Z)", truncate(s, 40))
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil || t.Year() < 1 {
		return time.Time{}, errorf("time %q is not RFC 3339: there is no such date and time", truncate(s, 40))
	}
	return t, nil
}

// MaxTimeLen is the longest time field ParseTime takes.
const MaxTimeLen = len("2006-01-02T15:04:05.123456789+01:00")

// rfc3339 checks the shape of s against RFC 3339's date-time: every field
// at its fixed width (a one-digit hour would move the separators), 1 to 9
// fractional digits, an offset within ±23:59. time.Parse then checks the
// digits and the values (a month 13, a day 31 in June).
func rfc3339(s string) bool {
	if len(s) < len("2006-01-02T15:04:05Z") || len(s) > MaxTimeLen ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != 't' || s[13] != ':' || s[16] != ':' {
		return false
	}
	rest := s[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && '0' <= rest[n] && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 { // 1 to 9 digits
			return false
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z" || rest == "z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		return rest[1:3] <= "23" && rest[4:6] <= "59"
	}
	return false
}

// Normalize returns m with its names in their normal form (see
// NormalizeName), or why m cannot be posted under mode's rules (see
// Check).
func (m Message) Normalize(mode Mode) (Message, error) {
	var err error
	if m.Username, err = NormalizeName("username", m.Username); err != nil {
		return m, err
	}
	if m.Channel != "" {
		if m.Channel, err = NormalizeChannel(m.Channel); err != nil {
			return m, err
		}
	}
	return m, m.checkRules(mode)
}

// Check checks every field of m under mode's rules: in SingleRoom the
// channel must be empty; in MultiChannel it must name a channel that can be
// posted to. Names must be in their normal form.
func (m Message) Check(mode Mode) error {
	if m.Channel != "" {
		if err := CheckChannel(m.Channel); err != nil {
			return err
		}
	}
	if err := CheckUsername(m.Username); err != nil {
		return err
	}
	return m.checkRules(mode)
}

// checkRules checks what is left once the names are valid and in their
// normal form: the channel mode's rules and the body. Normalize and Check
// share it, so a post's names are normalized once.
func (m Message) checkRules(mode Mode) error {
	switch {
	case mode == MultiChannel && m.Channel == "":
		return errorf("no channel: this server has channels, so every post names one")
	case mode == MultiChannel && m.Channel == AllChannel:
		return errReadOnly()
	case mode == SingleRoom && m.Channel != "":
		return errorf("this server has no channels: send an empty channel frame (channels are part 4's mc_server)")
	}
	return CheckBody(m.Body)
}

// EncodePost returns the frames of a POST request carrying m.
func EncodePost(m Message) [][]byte {
	return [][]byte{
		[]byte(CmdPost),
		[]byte(m.Channel),
		[]byte(m.Username),
		[]byte(m.Time.Format(TimeLayout)),
		[]byte(m.Body),
	}
}

// DecodePost decodes and checks the frames of a POST request (command word
// included) under mode's rules (see Message.Check), with its names in their
// normal form (see Message.Normalize).
func DecodePost(frames [][]byte, mode Mode) (Message, error) {
	copied := func(b []byte) string { return string(b) }
	return decodePost(frames, mode, copied, copied)
}

// DecodePostInPlace is DecodePost with the channel's and username's
// strings made by name (a server shares one string among a name's every
// message), and the body read in place (see InPlace): good only while the
// frames are. A server copies what it keeps into its store, and is done
// with the rest before its next request.
func DecodePostInPlace(frames [][]byte, mode Mode, name func([]byte) string) (Message, error) {
	return decodePost(frames, mode, name, InPlace)
}

// InPlace returns b's bytes as a string without copying them: good only
// while b is, and as long as nothing changes b.
func InPlace(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func decodePost(frames [][]byte, mode Mode, name, body func([]byte) string) (Message, error) {
	if len(frames) == 0 {
		return Message{}, errorf("empty request")
	}
	if string(frames[0]) != CmdPost {
		return Message{}, ErrUnknownCommand(string(frames[0]))
	}
	if len(frames) != 5 {
		return Message{}, errorf("%s takes 5 frames (POST, channel, username, time, message), got %d", CmdPost, len(frames))
	}
	// The time is parsed in place, not copied into a string first (a
	// server's every post would allocate it): nothing keeps it, as
	// ParseTime's errors quote a copy.
	t, err := ParseTime(InPlace(frames[3]))
	if err != nil {
		return Message{}, err
	}
	m := Message{
		Channel:  name(frames[1]),
		Username: name(frames[2]),
		Time:     t,
		Body:     body(frames[4]),
	}
	return m.Normalize(mode)
}

// commands are the request words a server knows.
var commands = []string{CmdPost, CmdHistory, CmdChannels, CmdHere, CmdLeave, CmdWho}

// ErrUnknownCommand is the reason a request with an unknown command word
// is refused.
func ErrUnknownCommand(cmd string) error {
	return errorf("unknown command %q: the commands are %s", truncate(cmd, 32), strings.Join(commands, ", "))
}

// History is a HISTORY request: the Count most recent messages of
// Channel, leaving out the Skip newest (a client that got MORE asks for
// the older rest that way).
//
// Or, with After set, the first Count messages numbered after After.Seq
// (by After.All for every channel), oldest first: what a client missed.
// A server whose numbering is not After.Numbering answers from its first.
type History struct {
	Channel     string
	Count, Skip int
	After       *Number
}

// EncodeHistory returns the frames of a HISTORY request; the fourth frame
// is sent only when there is something to skip, or an After, so that
// every server understands a first request.
func EncodeHistory(h History) [][]byte {
	f := [][]byte{[]byte(CmdHistory), []byte(h.Channel), strconv.AppendInt(nil, int64(h.Count), 10)}
	switch {
	case h.After != nil:
		f = append(f, append([]byte(afterWord), h.After.Frame()...))
	case h.Skip > 0:
		f = append(f, strconv.AppendInt(nil, int64(h.Skip), 10))
	}
	return f
}

// afterWord begins a HISTORY request's fourth frame that asks for what
// came after a number: "after <numbering> <seq> <all>".
const afterWord = "after "

// DecodeHistory decodes and checks a HISTORY request (command word
// included): the channel, in its normal form, how many messages, 1 to
// MaxHistory, and how many of the newest to leave out (frame 3, if sent),
// so that Count + Skip is at most MaxHistory. In SingleRoom the channel
// is empty; in MultiChannel it is a channel name or ALL, and empty is
// taken for ALL (a part 2 subscriber asks for everything that way,
// whichever server it meets).
func DecodeHistory(frames [][]byte, mode Mode) (History, error) {
	if (len(frames) != 3 && len(frames) != 4) || string(frames[0]) != CmdHistory {
		return History{}, errorf("%s takes 3 or 4 frames (HISTORY, channel, count[, skip or after]), got %d", CmdHistory, len(frames))
	}
	var h History
	var err error
	if h.Count, err = decimal(frames[2], 1, MaxHistory); err != nil {
		return History{}, errorf("count %q is not a number from 1 to %d", truncate(string(frames[2]), 16), MaxHistory)
	}
	if len(frames) == 4 {
		if err := h.decodeFourth(frames[3]); err != nil {
			return History{}, err
		}
	}
	h.Channel = string(frames[1])
	switch {
	case mode == SingleRoom && h.Channel != "":
		return History{}, errorf("this server has no channels: send an empty channel frame")
	case mode == MultiChannel && h.Channel == "":
		h.Channel = AllChannel // no channel named: every channel, as in parts 1 to 3
	case mode == MultiChannel:
		if h.Channel, err = NormalizeChannel(h.Channel); err != nil {
			return History{}, err
		}
	}
	return h, nil
}

// decodeFourth decodes a HISTORY request's fourth frame: how many to skip,
// or "after" and a number.
func (h *History) decodeFourth(f []byte) error {
	if rest, ok := bytes.CutPrefix(f, []byte(afterWord)); ok {
		n, err := ParseNumber(rest)
		if err != nil {
			return errorf("after: %v", err)
		}
		h.After = &n
		return nil
	}
	var err error
	if h.Skip, err = decimal(f, 0, MaxHistory-h.Count); err != nil {
		return errorf("skip %q is not a number from 0 to %d (count and skip reach back at most %d), nor \"after <number>\"", truncate(string(f), 16), MaxHistory-h.Count, MaxHistory)
	}
	return nil
}

// decimal parses a plain decimal number from lo to hi.
func decimal(b []byte, lo, hi int) (int, error) {
	n, err := strconv.Atoi(string(b))
	if err != nil || n < lo || n > hi || b[0] == '+' {
		return 0, strconv.ErrRange
	}
	return n, nil
}

// DecodeHistoryReply turns a server's reply to HISTORY into its messages,
// oldest first, and whether older ones were left out (MORE), or the
// server's reason (an *Error) for refusing. Each message is decoded as a
// publication is (see DecodePub).
func DecodeHistoryReply(frames [][]byte) (ms []Message, more bool, err error) {
	rest, more, err := listReply(frames)
	if err != nil {
		return nil, false, err
	}
	if len(rest)%5 != 0 {
		return nil, false, fmt.Errorf("malformed history from server (%d frames after %s, not a multiple of 5)", len(rest), frames[0])
	}
	ms = make([]Message, 0, len(rest)/5)
	for i := 0; i < len(rest); i += 5 {
		m, err := DecodePub(rest[i : i+5])
		if err != nil {
			return nil, false, fmt.Errorf("malformed history from server: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, more, nil
}

// PubFrames returns the publication of a POST request that DecodePost
// accepted as m, numbered n: its last four frames as received, which are
// the publication's fields (channel first, as the subscription topic) in
// its order, and n's frame. Nothing is copied or formatted, so a server
// publishes the time exactly as the client wrote it; only names that were
// not in their normal form are replaced by m's.
func PubFrames(post [][]byte, m Message, n Number) [][]byte {
	return AppendPubFrames(nil, post, m, n.Frame())
}

// AppendPubFrames is PubFrames into dst's space, with the number's frame
// given: a server's loop reuses both.
func AppendPubFrames(dst, post [][]byte, m Message, number []byte) [][]byte {
	pub := append(dst[:0], post[1], post[2], post[3], post[4], number)
	if string(pub[0]) != m.Channel || string(pub[1]) != m.Username {
		pub[0], pub[1] = []byte(m.Channel), []byte(m.Username)
	}
	return pub
}

// DecodePub decodes a publication. It checks only the shape (frame count and
// time), not the content rules: a subscriber shows whatever arrives, made
// safe for the terminal, since a rogue publisher need not follow the rules.
//
// The fifth frame, the message's number, may be missing (a server from
// before numbering): the message then has a zero Number.
func DecodePub(frames [][]byte) (Message, error) {
	if len(frames) != 4 && len(frames) != 5 {
		return Message{}, errorf("publication has %d frames, want 5 (channel, username, time, message, number)", len(frames))
	}
	t, err := ParseTime(string(frames[2]))
	if err != nil {
		return Message{}, err
	}
	m := Message{
		Channel:  string(frames[0]),
		Username: string(frames[1]),
		Time:     t,
		Body:     string(frames[3]),
	}
	if len(frames) == 5 {
		if m.Number, err = ParseNumber(frames[4]); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

// Channel is a channel as CHANNELS lists it: how many messages it has had,
// and the time of its last as posted (empty if the server no longer holds
// it in memory).
type Channel struct {
	Name  string
	Count uint64
	Last  string
}

// MaxChannels is the most channels a CHANNELS reply lists.
const MaxChannels = 1000

// listHead begins a reply that lists things (to HISTORY, CHANNELS, WHO),
// with room for n more frames: OK, or MORE if some were left out.
func listHead(more bool, n int) [][]byte {
	word := ReplyOK
	if more {
		word = ReplyMore
	}
	reply := make([][]byte, 1, 1+n)
	reply[0] = []byte(word)
	return reply
}

// listReply takes a reply that lists things (to HISTORY, CHANNELS): the
// frames after its first, OK or MORE, and whether it was MORE; or the
// server's reason for refusing (an *Error).
func listReply(frames [][]byte) (rest [][]byte, more bool, err error) {
	more = len(frames) > 0 && string(frames[0]) == ReplyMore
	if len(frames) == 0 || string(frames[0]) != ReplyOK && !more {
		if err := DecodeReply(frames); err != nil {
			return nil, false, err
		}
	}
	return frames[1:], more, nil
}

// EncodeChannels returns the frames of a CHANNELS request.
func EncodeChannels() [][]byte { return [][]byte{[]byte(CmdChannels)} }

// ChannelsReply returns the frames of a reply to CHANNELS: OK, then three
// frames a channel (name, count, time of its last message), or MORE if
// some were left out (past MaxChannels).
func ChannelsReply(cs []Channel, more bool) [][]byte {
	reply := listHead(more, 3*len(cs))
	for _, c := range cs {
		reply = append(reply, []byte(c.Name), strconv.AppendUint(nil, c.Count, 10), []byte(c.Last))
	}
	return reply
}

// DecodeChannelsReply decodes a reply to CHANNELS, or returns the server's
// reason (an *Error) for refusing.
func DecodeChannelsReply(frames [][]byte) (cs []Channel, more bool, err error) {
	rest, more, err := listReply(frames)
	if err != nil {
		return nil, false, err
	}
	if len(rest)%3 != 0 {
		return nil, false, fmt.Errorf("malformed channel list from server (%d frames after %s, not a multiple of 3)", len(rest), frames[0])
	}
	for i := 0; i < len(rest); i += 3 {
		n, err := strconv.ParseUint(string(rest[i+1]), 10, 64)
		if err != nil {
			return nil, false, fmt.Errorf("malformed channel list from server: count %q", truncate(string(rest[i+1]), 16))
		}
		cs = append(cs, Channel{Name: string(rest[i]), Count: n, Last: string(rest[i+2])})
	}
	return cs, more, nil
}

// Tick returns the message a server's publish port sends, now and then
// while a channel was lately active, to say the channel's last number:
// the channel (the topic) and its number. A subscriber that lost the last
// messages before a quiet spell (dropped at its high-water mark) learns of
// them from it.
func Tick(channel string, n Number) [][]byte {
	return [][]byte{[]byte(channel), n.Frame()}
}

// DecodeTick decodes a tick, and reports whether frames is one.
func DecodeTick(frames [][]byte) (channel string, n Number, ok bool) {
	if len(frames) != 2 {
		return "", Number{}, false
	}
	n, err := ParseNumber(frames[1])
	return string(frames[0]), n, err == nil
}

// WelcomeTopic begins the message a server's publish port sends each new
// subscriber: "zmqchat <numbering> <post_port>". A subscriber to one
// channel subscribes to it too, to be welcomed.
const WelcomeTopic = "zmqchat "

// UnknownNumbering stands for the numbering in a relay's welcome: a relay
// passes on the numbering of the server it stands for, which it does not
// know.
const UnknownNumbering = "-"

// Welcome returns the message a server's publish port sends each new
// subscriber: its numbering's identity, and the port it takes posts and
// HISTORY on, so that a subscriber given only the publish port can fetch
// what it missed. It is one frame, so no publication is taken for it.
func Welcome(numbering string, postPort int) []byte {
	return fmt.Appendf(nil, "%s%s %d", WelcomeTopic, numbering, postPort)
}

// DecodeWelcome decodes a welcome message, and reports whether frames is
// one.
func DecodeWelcome(frames [][]byte) (numbering string, postPort int, ok bool) {
	if len(frames) != 1 || !bytes.HasPrefix(frames[0], []byte(WelcomeTopic)) {
		return "", 0, false
	}
	f := strings.Fields(string(frames[0][len(WelcomeTopic):]))
	if len(f) != 2 {
		return "", 0, false
	}
	port, err := strconv.Atoi(f[1])
	if err != nil || port < 1 || port > 65535 {
		return "", 0, false
	}
	return f[0], port, true
}

// ErrReply returns the frames of an ERR reply for err.
func ErrReply(err error) [][]byte {
	return [][]byte{[]byte(ReplyErr), []byte(err.Error())}
}

// OKReply returns the frames of an OK reply, the same each time: not to be
// changed.
func OKReply() [][]byte { return okReply }

var okReply = [][]byte{[]byte(ReplyOK)}

// DecodeReply turns a server's reply into nil (OK) or an *Error carrying the
// server's reason.
func DecodeReply(frames [][]byte) error {
	switch {
	case len(frames) == 1 && string(frames[0]) == ReplyOK:
		return nil
	case len(frames) == 2 && string(frames[0]) == ReplyErr:
		return &Error{Reason: string(frames[1])}
	default:
		return fmt.Errorf("malformed reply from server (%d frames)", len(frames))
	}
}

// truncate shortens s for quoting in a reason, so that an absurd input does
// not make an absurd error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
