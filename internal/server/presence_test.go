package server

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/store"
)

// Presence through the handler: HERE says how many others share the
// name; a name's first session on a channel is a join notice and its last
// a leave, not each session; moving is a leave and a join; WHO lists by
// channel and name.
func TestHandlePresence(t *testing.T) {
	h := &Handler{Store: store.New(store.DefaultWindow), Mode: msg.MultiChannel}
	here := func(channel, name, tag string) Result {
		t.Helper()
		r := h.Handle(msg.EncodeHere(msg.Here{Channel: channel, Username: name, Session: tag}), "")
		if string(r.Reply[0]) != msg.ReplyOK {
			t.Fatalf("HERE %s %s %s: %q", channel, name, tag, r.Reply)
		}
		return r
	}
	others := func(r Result) string { return string(r.Reply[1]) }
	joined := func(c, n string) msg.Notice { return msg.Notice{Channel: c, Username: n, Joined: true} }
	left := func(c, n string) msg.Notice { return msg.Notice{Channel: c, Username: n} }

	if r := here("dev", "bob", "b1"); others(r) != "0" || !reflect.DeepEqual(r.Notices, []msg.Notice{joined("dev", "bob")}) {
		t.Errorf("bob's first HERE: others %s, notices %v", others(r), r.Notices)
	}
	if r := here("dev", "bob", "b1"); others(r) != "0" || r.Notices != nil {
		t.Errorf("bob's HERE again: others %s, notices %v", others(r), r.Notices)
	}
	// A second bob, on the same channel: he is told of the first; no notice.
	if r := here("dev", "bob", "b2"); others(r) != "1" || r.Notices != nil {
		t.Errorf("a second bob: others %s, notices %v", others(r), r.Notices)
	}
	here("ALL", "eve", "e1")
	// The second bob moves to ops: bob is still on dev (the first), and joins ops.
	if r := here("ops", "bob", "b2"); !reflect.DeepEqual(r.Notices, []msg.Notice{joined("ops", "bob")}) {
		t.Errorf("the second bob moves to ops: notices %v", r.Notices)
	}
	who := func(channel string) string {
		r := h.Handle(msg.EncodeWho(channel), "")
		ps, _, err := msg.DecodeWhoReply(r.Reply)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(ps)
	}
	if got := who("ALL"); got != "[{ALL eve} {dev bob} {ops bob}]" {
		t.Errorf("WHO ALL: %s", got)
	}
	if got := who("dev"); got != "[{dev bob}]" {
		t.Errorf("WHO dev: %s", got)
	}
	if r := h.Handle(msg.EncodeLeave("b1"), ""); !reflect.DeepEqual(r.Notices, []msg.Notice{left("dev", "bob")}) {
		t.Errorf("the first bob leaves: notices %v", r.Notices)
	}
	if r := h.Handle(msg.EncodeLeave("nobody"), ""); string(r.Reply[0]) != "OK" || r.Notices != nil {
		t.Errorf("LEAVE of an unknown session: %q %v", r.Reply, r.Notices)
	}
	if r := h.Handle(msg.EncodeWho("a/b"), ""); string(r.Reply[0]) != "ERR" {
		t.Errorf("WHO of a bad channel: %q", r.Reply)
	}
}

// A client gone quiet is forgotten after msg.QuietAfter, with a leave
// notice; one that keeps saying HERE is not.
func TestPresenceExpiresTheQuiet(t *testing.T) {
	var p presence
	t0 := time.Now()
	p.here(msg.Here{Channel: "dev", Username: "bob", Session: "b"}, t0)
	p.here(msg.Here{Channel: "dev", Username: "ann", Session: "a"}, t0)
	for at := time.Duration(0); at <= msg.QuietAfter; at += msg.HereEvery {
		p.here(msg.Here{Channel: "dev", Username: "ann", Session: "a"}, t0.Add(at))
		if n := p.expire(t0.Add(at)); n != nil {
			t.Fatalf("at %s: %v expired", at, n)
		}
	}
	if n := p.expire(t0.Add(msg.QuietAfter + time.Second)); !reflect.DeepEqual(n, []msg.Notice{{Channel: "dev", Username: "bob"}}) {
		t.Errorf("past QuietAfter: expired %v, want bob", n)
	}
	if ps, _ := p.who("dev"); len(ps) != 1 || ps[0].Username != "ann" {
		t.Errorf("then on dev: %v", ps)
	}
}

// At most maxPresent sessions are kept; one more is refused, and a known
// session is still heard.
func TestPresenceIsBounded(t *testing.T) {
	var p presence
	now := time.Now()
	for i := 0; i < maxPresent; i++ {
		if _, _, err := p.here(msg.Here{Channel: "dev", Username: fmt.Sprint("u", i), Session: fmt.Sprint(i)}, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := p.here(msg.Here{Channel: "dev", Username: "late", Session: "late"}, now); err == nil || !strings.Contains(err.Error(), "10000 present at most") {
		t.Errorf("one past the bound: %v", err)
	}
	if _, _, err := p.here(msg.Here{Channel: "ops", Username: "u1", Session: "1"}, now); err != nil {
		t.Errorf("a known session moving, at the bound: %v", err)
	}
	if ps, more := p.who("ALL"); len(ps) != msg.MaxWho || !more {
		t.Errorf("WHO ALL of %d: %d listed, more %v", maxPresent, len(ps), more)
	}
}

// In keyed mode a client is present only under its key's name.
func TestHandleKeyedPresence(t *testing.T) {
	h := &Handler{Store: store.New(store.DefaultWindow), Mode: msg.MultiChannel,
		Owner: func(key string) (string, bool) { return "alice", key == "alice-key" }}
	r := h.Handle(msg.EncodeHere(msg.Here{Channel: "dev", Username: "bob", Session: "s"}), "alice-key")
	if got := string(r.Reply[len(r.Reply)-1]); got != "you cannot be present as bob: your key is alice's" || r.Notices != nil {
		t.Errorf("alice present as bob: %q %v", r.Reply, r.Notices)
	}
}
