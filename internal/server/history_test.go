package server

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/store"
)

func post(channel, user, body string) [][]byte {
	return frames("POST", channel, user, tm, body)
}

func history(channel, n string) [][]byte { return frames("HISTORY", channel, n) }

// handleAll answers reqs in order.
func handleAll(h *tester, reqs ...[][]byte) [][][]byte {
	var replies [][][]byte
	for _, r := range reqs {
		// A reply is good until the next request (the server has sent it
		// by then): a copy is kept.
		var reply [][]byte
		for _, f := range h.Handle(r, "") {
			reply = append(reply, bytes.Clone(f))
		}
		replies = append(replies, reply)
	}
	return replies
}

// HISTORY answers with the messages' publication frames, oldest first,
// after the posts before it; malformed ones get ERR.
func TestHandleHistory(t *testing.T) {
	h, _ := newHandler(msg.MultiChannel)
	replies := handleAll(h,
		post("dev", "ann", "one"),
		post("ops", "bob", "two"),
		history("dev", "10"),
		post("dev", "ann", "three"),
		history("ALL", "2"),
		history("nobody-here", "5"),
		history("dev", "0"),
		history("dev", "1001"),
		history("dev", "+1"),
		history("", "1"),
		frames("HISTORY", "dev"),
		frames("HISTORY", "ALL", "2", "1"),
		frames("HISTORY", "dev", "5", "5"),
		frames("HISTORY", "dev", "999", "2"),
		frames("HISTORY", "dev", "1", "x"),
	)
	want := []string{
		"OK", "OK",
		"OK|dev|ann|" + tm + "|one|N 1 1",
		"OK",
		"OK|ops|bob|" + tm + "|two|N 1 2|dev|ann|" + tm + "|three|N 2 3",
		"OK",
		"ERR|count \"0\" is not a number from 1 to 1000",
		"ERR|count \"1001\" is not a number from 1 to 1000",
		"ERR|count \"+1\" is not a number from 1 to 1000",
		"OK|dev|ann|" + tm + "|three|N 2 3", // "" is every channel, as ALL
		"ERR|HISTORY takes 3 or 4 frames (HISTORY, channel, count[, skip or after]), got 2",
		"OK|dev|ann|" + tm + "|one|N 1 1|ops|bob|" + tm + "|two|N 1 2", // the newest left out
		"OK", // all skipped
		"ERR|skip \"2\" is not a number from 0 to 1 (count and skip reach back at most 1000), nor \"after <number>\"",
		"ERR|skip \"x\" is not a number from 0 to 999 (count and skip reach back at most 1000), nor \"after <number>\"",
	}
	numbering := h.Store.Numbering()
	for i, r := range replies {
		if got := strings.ReplaceAll(string(bytesJoin(r)), numbering, "N"); got != want[i] {
			t.Errorf("reply %d = %q, want %q", i, got, want[i])
		}
	}
	single, _ := newHandler(msg.SingleRoom)
	single.Handle(frames("POST", "", "ann", tm, "hi"), "")
	if got := string(bytesJoin(single.Handle(frames("HISTORY", "", "5"), ""))); got != "OK||ann|"+tm+"|hi|"+single.Store.Numbering()+" 1 1" {
		t.Errorf("part 1-3 history: %q", got)
	}
	if got := string(bytesJoin(single.Handle(frames("HISTORY", "dev", "5"), ""))); !strings.HasPrefix(got, "ERR|this server has no channels") {
		t.Errorf("part 1-3 history of a channel: %q", got)
	}
}

func bytesJoin(frames [][]byte) []byte {
	var b []byte
	for i, f := range frames {
		if i > 0 {
			b = append(b, '|')
		}
		b = append(b, f...)
	}
	return b
}

// Posts in a row are stored once each, a resend included, and each is
// published once, in order.
func TestHandlePostsInARow(t *testing.T) {
	h, published := newHandler(msg.MultiChannel)
	replies := handleAll(h,
		post("dev", "ann", "a"),
		post("dev", "ann", "a"), // a resend: the reply was lost
		post("dev", "ann", "b"),
		post("ALL", "ann", "c"),
		post("dev", "ann", "d"),
	)
	var got []string
	for _, r := range replies {
		got = append(got, string(r[0]))
	}
	if strings.Join(got, " ") != "OK OK OK ERR OK" {
		t.Errorf("replies %v", got)
	}
	var bodies []string
	for _, m := range *published {
		bodies = append(bodies, m.Body)
	}
	if strings.Join(bodies, "") != "abd" || h.Store.Len() != 3 {
		t.Errorf("published %v, stored %d; want a b d, 3", bodies, h.Store.Len())
	}
}

// A store file that cannot take the posts (here past the file size
// limit, as on a full disk) makes each of them ERR, never OK, and nothing
// is published or held; reads are still served, and posts are taken
// again once there is room.
func TestHandleStoreFailure(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "chat.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, published := newHandler(msg.MultiChannel)
	h.Store = st
	h.Handle(frames("POST", "dev", "ann", tm, "before"), "")

	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old)
	lim := old
	lim.Cur = 0
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("cannot limit the file size: %v", err)
	}
	restore := func() { syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) }
	defer restore()
	replies := handleAll(h, post("dev", "ann", strings.Repeat("x", 5000)), post("dev", "bob", "y"))
	restore()
	for _, r := range replies {
		if string(r[0]) != "ERR" || !strings.Contains(string(r[1]), "not stored, try again later") {
			t.Errorf("a post the file could not take got %q", r)
		}
	}
	if len(*published) != 1 || st.Len() != 1 {
		t.Errorf("published %d, stored %d after the failure; want 1, 1", len(*published), st.Len())
	}
	if got := string(bytesJoin(h.Handle(frames("HISTORY", "dev", "10"), ""))); got != "OK|dev|ann|"+tm+"|before|"+st.Numbering()+" 1 1" {
		t.Errorf("history after the failure: %q", got)
	}
	if r := h.Handle(frames("POST", "dev", "ann", tm, "after"), ""); string(r[0]) != "OK" {
		t.Errorf("a post once there is room again: %q", r)
	}
}

// A HISTORY reply stops at msg.HistoryBytes: MORE, with the newest that
// fit; asking again, leaving those out, gets the older rest.
func TestHistoryStopsAtItsByteCap(t *testing.T) {
	h, _ := newHandler(msg.MultiChannel)
	body := strings.Repeat("x", 16000)
	for i := 0; i < 100; i++ {
		h.Handle(post("dev", "ann", fmt.Sprintf("%03d%s", i, body[3:])), "")
	}
	reply := h.Handle(history("dev", "100"), "")
	ms, more, err := msg.DecodeHistoryReply(reply)
	size := 0
	for _, f := range reply {
		size += len(f)
	}
	if err != nil || !more || size > msg.HistoryBytes+4 || len(ms) != 65 || ms[len(ms)-1].Body[:3] != "099" {
		t.Fatalf("100 bodies of 16,000 bytes: %d messages, %d bytes, more %v, err %v; want the newest 65 (1 MiB), more", len(ms), size, more, err)
	}
	rest, more, err := msg.DecodeHistoryReply(h.Handle(frames("HISTORY", "dev", "35", "65"), ""))
	if err != nil || more || len(rest) != 35 || rest[0].Body[:3] != "000" || rest[34].Body[:3] != "034" {
		t.Fatalf("the older 35: %d messages, more %v, err %v", len(rest), more, err)
	}
}

// CHANNELS lists the channels posted to, with their counts and last
// times; it takes no argument.
func TestHandleChannels(t *testing.T) {
	h, _ := newHandler(msg.MultiChannel)
	handleAll(h, post("dev", "ann", "one"), post("ops", "bob", "two"), post("dev", "ann", "three"))
	if got := string(bytesJoin(h.Handle(frames("CHANNELS"), ""))); got != "OK|dev|2|"+tm+"|ops|1|"+tm {
		t.Errorf("CHANNELS: %q", got)
	}
	if got := string(bytesJoin(h.Handle(frames("CHANNELS", "dev"), ""))); got != "ERR|CHANNELS takes 1 frame, got 2" {
		t.Errorf("CHANNELS with an argument: %q", got)
	}
}

// A HISTORY reply is built in the Handler's reused memory, its frames the
// store's: of 100 messages, it allocates only the store's list of them
// and the request's channel name (before, 305 times and 40 KiB).
func TestHistoryReplyAllocatesOnlyTheList(t *testing.T) {
	h, _ := newHandler(msg.MultiChannel)
	for i := range 200 {
		h.Handle(post("dev", "ann", fmt.Sprint("line ", i)), "")
	}
	req := history("dev", "100")
	if r := h.Handler.Handle(req, "").Reply; len(r) != 1+5*100 {
		t.Fatalf("%d frames", len(r))
	}
	if a := testing.AllocsPerRun(100, func() { h.Handler.Handle(req, "") }); a > 2 {
		t.Errorf("a HISTORY of 100 allocates %.0f times, want at most 2", a)
	}
}
