package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/store"
)

// tester is a Handler whose Handle returns the reply and keeps what was
// to be published, as the server loop would publish it.
type tester struct {
	*Handler
	published []msg.Message
}

func (h *tester) Handle(frames [][]byte, key string) [][]byte {
	r := h.Handler.Handle(frames, key)
	if r.Pub != nil {
		m := r.Message
		if got, err := msg.DecodePub(r.Pub); err != nil || got.Body != m.Body || got.Channel != m.Channel || !got.Time.Equal(m.Time) {
			panic(fmt.Sprintf("publication %q does not carry %+v (%v)", r.Pub, m, err))
		}
		h.published = append(h.published, m)
	}
	return r.Reply
}

func newHandler(mode msg.Mode) (*tester, *[]msg.Message) {
	h := &tester{Handler: &Handler{Store: store.New(store.DefaultWindow), Mode: mode}}
	return h, &h.published
}

func frames(parts ...string) [][]byte {
	var f [][]byte
	for _, p := range parts {
		f = append(f, []byte(p))
	}
	return f
}

const tm = "2026-11-25T07:30:00.5Z"

func TestHandleRejectsMalformedRequests(t *testing.T) {
	for _, tt := range []struct {
		name string
		req  [][]byte
		mode msg.Mode
		want string
	}{
		{"no frames", nil, msg.SingleRoom, "empty request"},
		{"unknown command", frames("DELETE", "", "ann"), msg.SingleRoom, "unknown command"},
		{"command in another case", frames("post", "", "ann", tm, "hi"), msg.SingleRoom, "unknown command"},
		{"too few frames", frames("POST", "", "ann", tm), msg.SingleRoom, "5 frames"},
		{"too many frames", frames("POST", "", "ann", tm, "hi", "extra"), msg.SingleRoom, "5 frames"},
		{"invalid UTF-8 in command", frames("\xffPOST", "", "ann", tm, "hi"), msg.SingleRoom, "unknown command"},
		{"invalid UTF-8 in channel", frames("POST", "\xff", "ann", tm, "hi"), msg.MultiChannel, "UTF-8"},
		{"invalid UTF-8 in username", frames("POST", "", "\xff", tm, "hi"), msg.SingleRoom, "UTF-8"},
		{"invalid UTF-8 in time", frames("POST", "", "ann", "\xff", "hi"), msg.SingleRoom, "RFC 3339"},
		{"invalid UTF-8 in body", frames("POST", "", "ann", tm, "\xff"), msg.SingleRoom, "UTF-8"},
		{"bad time", frames("POST", "", "ann", "25/11/2026", "hi"), msg.SingleRoom, "RFC 3339"},
		{"empty body", frames("POST", "", "ann", tm, ""), msg.SingleRoom, "empty"},
		{"over-long body", frames("POST", "", "ann", tm, strings.Repeat("x", 16*1024+1)), msg.SingleRoom, "16384"},
		{"control characters", frames("POST", "", "ann", tm, "a\x1b[31mb"), msg.SingleRoom, "control"},
		{"invalid username", frames("POST", "", "ann!", tm, "hi"), msg.SingleRoom, "username"},
		{"long username", frames("POST", "", strings.Repeat("a", 33), tm, "hi"), msg.SingleRoom, "username"},
		{"invalid channel", frames("POST", "dev ops", "ann", tm, "hi"), msg.MultiChannel, "channel"},
		{"post to ALL", frames("POST", "ALL", "ann", tm, "hi"), msg.MultiChannel, "read-only"},
		{"channel on part 1-3 server", frames("POST", "dev", "ann", tm, "hi"), msg.SingleRoom, "no channels"},
	} {
		h, published := newHandler(tt.mode)
		reply := h.Handle(tt.req, "")
		if len(reply) != 2 || string(reply[0]) != "ERR" || !strings.Contains(string(reply[1]), tt.want) {
			t.Errorf("%s: reply %q, want ERR containing %q", tt.name, reply, tt.want)
		}
		if h.Store.Len() != 0 || len(*published) != 0 {
			t.Errorf("%s: a rejected request was stored or published", tt.name)
		}
	}
}

func TestHandleStoresPublishesAndAcknowledgesResends(t *testing.T) {
	h, published := newHandler(msg.MultiChannel)
	req := frames("POST", "dev", "ann", tm, "hello")
	for i := 0; i < 3; i++ {
		if reply := h.Handle(req, ""); len(reply) != 1 || string(reply[0]) != "OK" {
			t.Fatalf("attempt %d: reply %q, want OK", i, reply)
		}
	}
	if h.Store.Len() != 1 || len(*published) != 1 {
		t.Fatalf("a post sent 3 times was stored %d and published %d times, want once", h.Store.Len(), len(*published))
	}
	want := time.Date(2026, 11, 25, 7, 30, 0, 5e8, time.UTC)
	if m := (*published)[0]; m.Channel != "dev" || m.Username != "ann" || m.Body != "hello" || !m.Time.Equal(want) {
		t.Errorf("published %+v", m)
	}
}

// FuzzHandle drives the server's request handling with arbitrary frames:
// it always replies OK or ERR with a reason, and stores and publishes only
// valid messages, each once.
func FuzzHandle(f *testing.F) {
	sep := []byte{0}
	for _, seed := range [][][]byte{
		frames("POST", "", "ann", tm, "hello"),
		frames("POST", "dev", "ann", tm, "hello"),
		frames("POST", "ALL", "ann", tm, "hello"),
		frames("POST", "", "ann", tm),
		frames("HISTORY", "dev", "10"),
		frames("POST", "", "a\xffb", "now", "\x1b[2J"),
		{},
	} {
		f.Add(bytes.Join(seed, sep), false)
		f.Add(bytes.Join(seed, sep), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, channels bool) {
		req := bytes.Split(data, sep) // NUL splits the input into frames
		mode := msg.SingleRoom
		if channels {
			mode = msg.MultiChannel
		}
		h, published := newHandler(mode)
		for round := 0; round < 2; round++ { // the second is a resend
			reply := h.Handle(req, "")
			isHistory := len(req) > 0 && string(req[0]) == "HISTORY"
			switch {
			case isHistory && len(reply) > 0 && string(reply[0]) == "OK":
				hr, err := msg.DecodeHistory(req, mode)
				if err != nil {
					t.Fatalf("OK for an invalid request (%v): %q", err, req)
				}
				want := min(hr.Count, max(0, h.Store.Len()-hr.Skip))
				if got, more, err := msg.DecodeHistoryReply(reply); err != nil || more || len(got) != want {
					t.Fatalf("history of %d skipping %d with %d stored: %d messages, more %v (%v)", hr.Count, hr.Skip, h.Store.Len(), len(got), more, err)
				}
			case len(req) == 1 && string(req[0]) == "CHANNELS" && string(reply[0]) == "OK":
				if _, _, err := msg.DecodeChannelsReply(reply); err != nil {
					t.Fatalf("CHANNELS: %v", err)
				}
			case len(reply) == 1 && string(reply[0]) == "OK":
				if _, err := msg.DecodePost(req, mode); err != nil {
					t.Fatalf("OK for an invalid request (%v): %q", err, req)
				}
			case len(reply) == 2 && string(reply[0]) == "ERR" && len(reply[1]) > 0:
				if h.Store.Len() != 0 {
					t.Fatalf("ERR after storing %q", req)
				}
			default:
				t.Fatalf("reply %q is neither OK nor ERR with a reason", reply)
			}
		}
		if h.Store.Len() > 1 || len(*published) != h.Store.Len() {
			t.Fatalf("stored %d, published %d: a resend was stored twice or not published", h.Store.Len(), len(*published))
		}
		for _, r := range h.Store.(*store.Memory).Messages() {
			m, err := msg.DecodePub(r.AppendFrames(nil, msg.Number{Numbering: "n", Seq: r.Seq, All: r.All}.Frame()))
			if err == nil {
				err = m.Check(mode)
			}
			if err != nil {
				t.Fatalf("stored an invalid message: %v", err)
			}
		}
	})
}

// In keyed mode a post is taken only from the key its username is bound
// to, by the list in force.
func TestHandleKeyedChecksTheOwner(t *testing.T) {
	h, published := newHandler(msg.MultiChannel)
	owners := map[string]string{"alice-key": "alice"}
	h.Owner = func(key string) (string, bool) { n, ok := owners[key]; return n, ok }
	for _, tt := range []struct{ user, key, want string }{
		{"alice", "alice-key", "OK"},
		{"bob", "alice-key", "you cannot post as bob: your key is alice's"},
		{"alice", "removed-key", "your key is no longer on this server's allow-list"},
	} {
		reply := h.Handle(frames("POST", "dev", tt.user, tm, "hi from "+tt.key), tt.key)
		if got := string(reply[len(reply)-1]); got != tt.want {
			t.Errorf("%s with %s: reply %q, want %q", tt.user, tt.key, reply, tt.want)
		}
	}
	if h.Store.Len() != 1 || len(*published) != 1 {
		t.Errorf("stored %d, published %d; want only alice's own post", h.Store.Len(), len(*published))
	}
	// A key off the list gets nothing else either: no history.
	if r := h.Handle(frames("HISTORY", "dev", "10"), "removed-key"); string(r[0]) != "ERR" || string(r[1]) != "your key is no longer on this server's allow-list" {
		t.Errorf("HISTORY with a removed key: %q", r)
	}
	if r := h.Handle(frames("HISTORY", "dev", "10"), "alice-key"); string(r[0]) != "OK" || len(r) != 6 {
		t.Errorf("HISTORY with alice's key: %q", r)
	}
}

// A post allocates nothing on its way through the handler and into the
// memory store, stored or resent: the command word is compared, the time
// parsed and the body checked in place, and the store copies the texts it
// keeps into its own log. (What is left is the store's growth, a block or
// a table at a time: less than one allocation in a hundred posts.)
func TestHandlePostAllocatesNothing(t *testing.T) {
	h, _ := newHandler(msg.MultiChannel)
	post := frames("POST", "dev", "ann", tm, "hello 000000")
	body := post[4][len("hello "):]
	n := 0
	next := func() { // the next post: another body, in the same memory
		n++
		for i, k := len(body)-1, n; i >= 0; i, k = i-1, k/10 {
			body[i] = byte('0' + k%10)
		}
		if r := h.Handler.Handle(post, ""); string(r.Reply[0]) != "OK" || r.Pub == nil {
			t.Fatalf("post %d: %q", n, r.Reply)
		}
	}
	for range 10000 {
		next()
	}
	if a := testing.AllocsPerRun(1000, next); a != 0 {
		t.Errorf("a post allocates %.0f times, want none", a)
	}
	resend := func() {
		if r := h.Handler.Handle(post, ""); string(r.Reply[0]) != "OK" || r.Pub != nil {
			t.Fatalf("resend: %q", r.Reply)
		}
	}
	if a := testing.AllocsPerRun(1000, resend); a != 0 {
		t.Errorf("a resend allocates %.0f times, want none", a)
	}
	if got := h.Store.(*store.Memory).Messages(); len(got) != n || got[n-1].Body != fmt.Sprintf("hello %06d", n) || got[0].Body != "hello 000001" {
		t.Errorf("stored %d messages, the first %q, the last %q", len(got), got[0].Body, got[len(got)-1].Body)
	}
}
