package store

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/zmqchat/zmqchat/internal/msg"
)

func message(i int) msg.Message {
	return msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(1700000000, int64(i)), Body: fmt.Sprint("m", i)}
}

func TestAddKeepsOrder(t *testing.T) {
	s := New(8)
	for i := 0; i < 20; i++ {
		if !s.Add(message(i)) {
			t.Fatalf("Add(message %d) = false for a new message", i)
		}
	}
	got := s.Messages()
	if len(got) != 20 || s.Len() != 20 {
		t.Fatalf("stored %d (Len %d), want 20", len(got), s.Len())
	}
	for i, m := range got {
		if m.Body != fmt.Sprint("m", i) {
			t.Fatalf("message %d is %q: order lost", i, m.Body)
		}
	}
}

func TestResendIsNotStoredTwice(t *testing.T) {
	s := New(8)
	m := message(1)
	s.Add(m)
	// The same instant written in another zone is the same time.
	again := m
	again.Time = m.Time.In(time.FixedZone("X", 7200))
	if s.Add(again) {
		t.Fatalf("resend was stored again")
	}
	for _, differs := range []func(*msg.Message){
		func(m *msg.Message) { m.Channel = "ops" },
		func(m *msg.Message) { m.Username = "bob" },
		func(m *msg.Message) { m.Time = m.Time.Add(time.Nanosecond) },
		func(m *msg.Message) { m.Body += "!" },
	} {
		d := m
		differs(&d)
		if !s.Add(d) {
			t.Errorf("message differing from a stored one (%+v) was taken for a resend", d)
		}
	}
	if s.Len() != 5 {
		t.Errorf("Len = %d, want 5", s.Len())
	}
}

func TestWindowForgetsOldMessages(t *testing.T) {
	s := New(4)
	for i := 0; i < 10; i++ {
		s.Add(message(i))
	}
	if s.Add(message(9)) || s.Add(message(6)) {
		t.Errorf("a message within the window was stored twice")
	}
	if !s.Add(message(2)) {
		t.Errorf("a message older than the window was not stored again")
	}
	if s.Add(message(2)) {
		t.Errorf("the message just stored was stored twice")
	}
}

func TestManyMessagesAcrossBlocks(t *testing.T) {
	s := New(16)
	const n = 3*chunk + 7
	for i := 0; i < n; i++ {
		m := message(i)
		m.Username = fmt.Sprint("user", i%5)
		s.Add(m)
	}
	got := s.Messages()
	if len(got) != n || s.Len() != n {
		t.Fatalf("stored %d (Len %d), want %d", len(got), s.Len(), n)
	}
	for i, m := range got {
		if m.Body != fmt.Sprint("m", i) || m.Username != fmt.Sprint("user", i%5) {
			t.Fatalf("message %d is %+v", i, m)
		}
	}
	if s.Add(got[n-1]) {
		t.Fatalf("the last message, in the last block, was stored twice")
	}
}

// A resend is recognized among the whole window, not just the newest few:
// a client's retry may come after other clients' posts.
func TestResendFoundAnywhereInTheWindow(t *testing.T) {
	s := New(DefaultWindow)
	first := msg.Message{Username: "ann", Time: time.Unix(1, 0), Body: "first"}
	s.Add(first)
	for i := 0; i < 1000; i++ {
		s.Add(msg.Message{Username: "bob", Time: time.Unix(int64(i+2), 0), Body: "filler"})
	}
	if s.Add(first) {
		t.Fatal("a resend after 1,000 other posts was stored again")
	}
	if s.Len() != 1001 {
		t.Fatalf("Len %d, want 1001", s.Len())
	}
}

// The many messages of one user share one copy of the name, up to
// maxInterned distinct names; past it names are stored as they come.
func TestNamesAreShared(t *testing.T) {
	s := New(4)
	a := msg.Message{Username: strings.Clone("ann"), Time: time.Unix(1, 0), Body: "a"}
	b := msg.Message{Username: strings.Clone("ann"), Time: time.Unix(2, 0), Body: "b"}
	s.Add(a)
	s.Add(b)
	got := s.Messages()
	if unsafe.StringData(got[0].Username) != unsafe.StringData(got[1].Username) {
		t.Error("two messages of ann hold two copies of the name")
	}
	for i := len(s.names); i < maxInterned+10; i++ {
		s.Add(msg.Message{Username: fmt.Sprint("u", i), Time: time.Unix(int64(i+3), 0), Body: "x"})
	}
	if len(s.names) != maxInterned {
		t.Errorf("%d names interned, want the bound, %d", len(s.names), maxInterned)
	}
}

// At its byte budget the store drops its oldest messages, saying so once;
// what it holds stays within the budget, in order, and resends of what it
// still holds are still recognized.
func TestBudgetEvictsTheOldest(t *testing.T) {
	s := New(DefaultWindow)
	body := strings.Repeat("b", 1000)
	per := Size(msg.Message{Channel: "dev", Username: "ann", Body: body})
	s.SetBudget(100 * per)
	told := 0
	s.Evicting = func(int64) { told++ }
	const n = 3*chunk + 123
	for i := 0; i < n; i++ {
		s.Add(msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(int64(i), 0), Body: body})
	}
	if s.Len() != 100 || s.Evicted() != n-100 || told != 1 {
		t.Fatalf("Len %d, Evicted %d, told %d; want 100, %d, 1", s.Len(), s.Evicted(), told, n-100)
	}
	held := s.Messages()
	for i, m := range held {
		if want := int64(n - 100 + i); m.Time.Unix() != want {
			t.Fatalf("message %d is from %d, want %d", i, m.Time.Unix(), want)
		}
	}
	// The newest are still recognized when resent; an evicted one is not
	// (it is new again, as far as the store can tell).
	if s.Add(msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(n-1, 0), Body: body}) {
		t.Error("a resend of the newest message was stored again")
	}
	if !s.Add(msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(0, 0), Body: body}) {
		t.Error("a message evicted long ago was not taken")
	}
	// A budget smaller than one message keeps the newest.
	tiny := New(4)
	tiny.SetBudget(1)
	tiny.Add(message(1))
	tiny.Add(message(2))
	if got := tiny.Messages(); len(got) != 1 || got[0].Body != "m2" {
		t.Errorf("with a tiny budget: %+v", got)
	}
}
