package msg

import (
	"reflect"
	"strings"
	"testing"
)

func TestHereRoundTrip(t *testing.T) {
	h := Here{Channel: "dev", Username: "bob", Session: "a1b2c3"}
	got, err := DecodeHere(EncodeHere(h), MultiChannel)
	if err != nil || got != h {
		t.Fatalf("DecodeHere(EncodeHere(%v)) = %v, %v", h, got, err)
	}
	// No channel named is ALL in part 4: watching every channel.
	if got, err := DecodeHere(EncodeHere(Here{Username: "eve", Session: "x"}), MultiChannel); err != nil || got.Channel != AllChannel {
		t.Errorf("HERE with no channel in part 4: %v, %v", got, err)
	}
	for _, tt := range []struct {
		frames [][]byte
		mode   Mode
		want   string
	}{
		{EncodeHere(Here{Channel: "dev", Username: "bob", Session: "s"}), SingleRoom, "no channels"},
		{EncodeHere(Here{Channel: "dev", Username: "", Session: "s"}), MultiChannel, "username is empty"},
		{EncodeHere(Here{Channel: "a/b", Username: "bob", Session: "s"}), MultiChannel, "channel"},
		{EncodeHere(Here{Channel: "dev", Username: "bob", Session: ""}), MultiChannel, "session tag: want 1 to 32"},
		{EncodeHere(Here{Channel: "dev", Username: "bob", Session: strings.Repeat("s", 33)}), MultiChannel, "session tag: want 1 to 32"},
		{EncodeHere(Here{Channel: "dev", Username: "bob", Session: "a b"}), MultiChannel, "printable ASCII"},
		{EncodeHere(Here{Channel: "dev", Username: "bob", Session: "s"})[:3], MultiChannel, "HERE takes 4 frames"},
	} {
		if _, err := DecodeHere(tt.frames, tt.mode); err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeHere(%q): %v, want %q", tt.frames, err, tt.want)
		}
	}
	if n, err := DecodeHereReply(HereReply(2)); n != 2 || err != nil {
		t.Errorf("DecodeHereReply(HereReply(2)) = %d, %v", n, err)
	}
	if _, err := DecodeHereReply(ErrReply(errorf("too many"))); err == nil || err.Error() != "too many" {
		t.Errorf("a refusal of HERE: %v", err)
	}
	if _, err := DecodeHereReply(OKReply()); err == nil {
		t.Error("a reply to HERE without its count was taken")
	}
}

func TestLeaveAndWhoRoundTrip(t *testing.T) {
	if s, err := DecodeLeave(EncodeLeave("a1")); s != "a1" || err != nil {
		t.Errorf("DecodeLeave = %q, %v", s, err)
	}
	if _, err := DecodeLeave(EncodeLeave("")); err == nil {
		t.Error("LEAVE without a session was taken")
	}
	if c, err := DecodeWho(EncodeWho(""), MultiChannel); c != AllChannel || err != nil {
		t.Errorf("WHO with no channel in part 4: %q, %v", c, err)
	}
	if c, err := DecodeWho(EncodeWho(""), SingleRoom); c != "" || err != nil {
		t.Errorf("WHO in part 3: %q, %v", c, err)
	}
	if _, err := DecodeWho(EncodeWho("dev"), SingleRoom); err == nil {
		t.Error("WHO of a channel at a single-room server was taken")
	}
	ps := []Present{{"dev", "bob"}, {"ALL", "eve"}}
	got, more, err := DecodeWhoReply(WhoReply(ps, true))
	if err != nil || !more || !reflect.DeepEqual(got, ps) {
		t.Errorf("DecodeWhoReply(WhoReply(%v)) = %v, %v, %v", ps, got, more, err)
	}
	if _, _, err := DecodeWhoReply(WhoReply(ps, false)[:2]); err == nil {
		t.Error("a WHO reply with an odd frame was taken")
	}
}

func TestNoticeRoundTrip(t *testing.T) {
	for _, n := range []Notice{{"dev", "bob", true}, {"", "ann", false}} {
		if got, ok := DecodeNotice(n.Frames()); !ok || got != n {
			t.Errorf("DecodeNotice(%v.Frames()) = %v, %v", n, got, ok)
		}
	}
	// Not notices: a tick, a publication, three frames of something else.
	for _, f := range [][][]byte{
		Tick("dev", Number{Numbering: "n", Seq: 1, All: 1}),
		PubFrames(EncodePost(Message{Channel: "dev", Username: "bob", Body: "hi"}), Message{}, Number{}),
		{[]byte("dev"), []byte("bob"), []byte("came")},
	} {
		if n, ok := DecodeNotice(f); ok {
			t.Errorf("DecodeNotice(%q) = %v", f, n)
		}
	}
}
