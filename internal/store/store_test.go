package store

import (
	"fmt"
	"testing"
	"time"

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
