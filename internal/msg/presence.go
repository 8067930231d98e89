package msg

import (
	"strconv"
	"time"
)

// Presence: who is on which channel now. A chat client says HERE every
// HereEvery while it runs, and LEAVE when it goes; the server forgets a
// client it has not heard from for QuietAfter, answers WHO, and publishes
// a Notice when someone joins or leaves a channel.
const (
	CmdHere  = "HERE"
	CmdLeave = "LEAVE"
	CmdWho   = "WHO"
)

// Here is a HERE request: Username is on Channel now (ALL when watching
// every channel; "" in parts 1 to 3), as Session, a tag the client makes
// up (1 to MaxSessionLen printable ASCII characters) that tells one
// client's announcements from another's under the same name.
type Here struct {
	Channel, Username, Session string
}

// MaxSessionLen is the longest session tag.
const MaxSessionLen = 32

// EncodeHere returns the frames of a HERE request.
func EncodeHere(h Here) [][]byte {
	return [][]byte{[]byte(CmdHere), []byte(h.Channel), []byte(h.Username), []byte(h.Session)}
}

// DecodeHere decodes and checks a HERE request (command word included):
// the channel, by the rules of mode (ALL allowed), the username and the
// session tag, in their normal forms.
func DecodeHere(frames [][]byte, mode Mode) (Here, error) {
	if len(frames) != 4 || string(frames[0]) != CmdHere {
		return Here{}, errorf("%s takes 4 frames (HERE, channel, username, session), got %d", CmdHere, len(frames))
	}
	h := Here{Channel: string(frames[1]), Session: string(frames[3])}
	var err error
	if h.Channel, err = presenceChannel(h.Channel, mode); err != nil {
		return Here{}, err
	}
	if h.Username, err = NormalizeName("username", string(frames[2])); err != nil {
		return Here{}, err
	}
	if err := checkSession(h.Session); err != nil {
		return Here{}, err
	}
	return h, nil
}

// presenceChannel checks a channel named by HERE or WHO: "" in SingleRoom;
// in MultiChannel a channel name, or ALL (also for "").
func presenceChannel(c string, mode Mode) (string, error) {
	switch {
	case mode == SingleRoom && c != "":
		return "", errorf("this server has no channels: send an empty channel frame")
	case mode == MultiChannel && c == "":
		return AllChannel, nil
	case mode == MultiChannel:
		return NormalizeChannel(c)
	}
	return c, nil
}

func checkSession(s string) error {
	if s == "" || len(s) > MaxSessionLen {
		return errorf("session tag: want 1 to %d characters, got %d", MaxSessionLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return errorf("session tag: printable ASCII only, without spaces")
		}
	}
	return nil
}

// HereReply returns the frames of a reply to HERE: OK, then how many other
// sessions are present under the same username.
func HereReply(others int) [][]byte {
	return [][]byte{[]byte(ReplyOK), strconv.AppendInt(nil, int64(others), 10)}
}

// DecodeHereReply decodes a reply to HERE: how many other sessions share
// the name, or the server's reason (an *Error) for refusing.
func DecodeHereReply(frames [][]byte) (others int, err error) {
	if len(frames) != 2 || string(frames[0]) != ReplyOK {
		if err := DecodeReply(frames); err != nil {
			return 0, err
		}
		return 0, errorf("malformed reply to %s (no count)", CmdHere)
	}
	n, err := decimal(frames[1], 0, 1<<30)
	if err != nil {
		return 0, errorf("malformed reply to %s: count %q", CmdHere, truncate(string(frames[1]), 16))
	}
	return n, nil
}

// EncodeLeave returns the frames of a LEAVE request: session goes.
func EncodeLeave(session string) [][]byte {
	return [][]byte{[]byte(CmdLeave), []byte(session)}
}

// DecodeLeave decodes a LEAVE request: the session that goes.
func DecodeLeave(frames [][]byte) (string, error) {
	if len(frames) != 2 || string(frames[0]) != CmdLeave {
		return "", errorf("%s takes 2 frames (LEAVE, session), got %d", CmdLeave, len(frames))
	}
	s := string(frames[1])
	return s, checkSession(s)
}

// Present is someone on a channel, as WHO lists them.
type Present struct {
	Channel, Username string
}

// MaxWho is the most a WHO reply lists.
const MaxWho = 1000

// EncodeWho returns the frames of a WHO request: who is on channel (ALL:
// on any channel).
func EncodeWho(channel string) [][]byte {
	return [][]byte{[]byte(CmdWho), []byte(channel)}
}

// DecodeWho decodes a WHO request: the channel asked about, by the rules
// of mode ("" is ALL in MultiChannel).
func DecodeWho(frames [][]byte, mode Mode) (string, error) {
	if len(frames) != 2 || string(frames[0]) != CmdWho {
		return "", errorf("%s takes 2 frames (WHO, channel), got %d", CmdWho, len(frames))
	}
	return presenceChannel(string(frames[1]), mode)
}

// WhoReply returns the frames of a reply to WHO: OK, then two frames for
// each one present (channel, username), or MORE if some were left out.
func WhoReply(ps []Present, more bool) [][]byte {
	reply := listHead(more, 2*len(ps))
	for _, p := range ps {
		reply = append(reply, []byte(p.Channel), []byte(p.Username))
	}
	return reply
}

// DecodeWhoReply decodes a reply to WHO, or returns the server's reason
// (an *Error) for refusing.
func DecodeWhoReply(frames [][]byte) (ps []Present, more bool, err error) {
	rest, more, err := listReply(frames)
	if err != nil {
		return nil, false, err
	}
	if len(rest)%2 != 0 {
		return nil, false, errorf("malformed reply to %s (%d frames after %s, not a multiple of 2)", CmdWho, len(rest), frames[0])
	}
	for i := 0; i < len(rest); i += 2 {
		ps = append(ps, Present{Channel: string(rest[i]), Username: string(rest[i+1])})
	}
	return ps, more, nil
}

// Notice is a publication that says someone joined or left a channel:
// three frames, the channel (the topic), the username, and "joined" or
// "left". Subscribers that show only messages skip it, as they skip a
// welcome or a tick.
type Notice struct {
	Channel, Username string
	Joined            bool
}

const (
	joinedWord = "joined"
	leftWord   = "left"
)

// Frames returns the notice's publication.
func (n Notice) Frames() [][]byte {
	word := leftWord
	if n.Joined {
		word = joinedWord
	}
	return [][]byte{[]byte(n.Channel), []byte(n.Username), []byte(word)}
}

// DecodeNotice decodes a notice, and reports whether frames is one.
func DecodeNotice(frames [][]byte) (Notice, bool) {
	if len(frames) != 3 {
		return Notice{}, false
	}
	n := Notice{Channel: string(frames[0]), Username: string(frames[1])}
	switch string(frames[2]) {
	case joinedWord:
		n.Joined = true
	case leftWord:
	default:
		return Notice{}, false
	}
	return n, true
}

// HereEvery is how often a chat client says HERE; a server forgets a
// client it has not heard from for QuietAfter, three times as long.
const (
	HereEvery  = 10 * time.Second
	QuietAfter = 3 * HereEvery
)
