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
		if !add(s, message(i)) {
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
	add(s, m)
	if add(s, m) {
		t.Fatalf("resend was stored again")
	}
	// The same instant written in another zone is other bytes: not a
	// resend (a client resends its frames as they were).
	other := m
	other.Time = m.Time.In(time.FixedZone("X", 7200))
	if !add(s, other) {
		t.Errorf("the same instant in another zone was taken for a resend")
	}
	for _, differs := range []func(*msg.Message){
		func(m *msg.Message) { m.Channel = "ops" },
		func(m *msg.Message) { m.Username = "bob" },
		func(m *msg.Message) { m.Time = m.Time.Add(time.Nanosecond) },
		func(m *msg.Message) { m.Body += "!" },
	} {
		d := m
		differs(&d)
		if !add(s, d) {
			t.Errorf("message differing from a stored one (%+v) was taken for a resend", d)
		}
	}
	if s.Len() != 6 {
		t.Errorf("Len = %d, want 6", s.Len())
	}
}

func TestWindowForgetsOldMessages(t *testing.T) {
	s := New(4)
	for i := 0; i < 10; i++ {
		add(s, message(i))
	}
	if add(s, message(9)) || add(s, message(6)) {
		t.Errorf("a message within the window was stored twice")
	}
	if !add(s, message(2)) {
		t.Errorf("a message older than the window was not stored again")
	}
	if add(s, message(2)) {
		t.Errorf("the message just stored was stored twice")
	}
	// The window's edge: the last four are now 7, 8, 9 and 2, so 6, the
	// fifth back, is out of it.
	if !add(s, message(6)) {
		t.Errorf("a message just past the window of 4 was taken for a resend")
	}
}

func TestManyMessagesAcrossBlocks(t *testing.T) {
	s := New(16)
	const n = 3*chunk + 7
	for i := 0; i < n; i++ {
		m := message(i)
		m.Username = fmt.Sprint("user", i%5)
		add(s, m)
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
	if addRecord(s, got[n-1], idOf(got[n-1])) {
		t.Fatalf("the last message, in the last block, was stored twice")
	}
}

// The many messages of one user share one copy of the name, up to
// maxInterned distinct names; past it names are stored as they come.
func TestNamesAreShared(t *testing.T) {
	s := New(4)
	a := msg.Message{Username: strings.Clone("ann"), Time: time.Unix(1, 0), Body: "a"}
	b := msg.Message{Username: strings.Clone("ann"), Time: time.Unix(2, 0), Body: "b"}
	add(s, a)
	add(s, b)
	got := s.Messages()
	if unsafe.StringData(got[0].Username) != unsafe.StringData(got[1].Username) {
		t.Error("two messages of ann hold two copies of the name")
	}
	for i := len(s.names); i < maxInterned+10; i++ {
		add(s, msg.Message{Username: fmt.Sprint("u", i), Time: time.Unix(int64(i+3), 0), Body: "x"})
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
	per := Size(rec(msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(0, 0), Body: body}))
	s.SetBudget(100 * per)
	told := 0
	s.Evicting = func(int64) { told++ }
	const n = 3*chunk + 123
	for i := 0; i < n; i++ {
		add(s, msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(int64(i), 0), Body: body})
	}
	if s.Len() != 100 || s.Evicted() != n-100 || told != 1 {
		t.Fatalf("Len %d, Evicted %d, told %d; want 100, %d, 1", s.Len(), s.Evicted(), told, n-100)
	}
	held := s.Messages()
	for i, m := range held {
		if want := int64(n - 100 + i); unix(m) != want {
			t.Fatalf("message %d is from %d, want %d", i, unix(m), want)
		}
	}
	// The newest are still recognized when resent; an evicted one is not
	// (it is new again, as far as the store can tell).
	if add(s, msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(n-1, 0), Body: body}) {
		t.Error("a resend of the newest message was stored again")
	}
	if !add(s, msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(0, 0), Body: body}) {
		t.Error("a message evicted long ago was not taken")
	}
	// A budget smaller than one message keeps the newest.
	tiny := New(4)
	tiny.SetBudget(1)
	add(tiny, message(1))
	add(tiny, message(2))
	if got := tiny.Messages(); len(got) != 1 || got[0].Body != "m2" {
		t.Errorf("with a tiny budget: %+v", got)
	}
}

// add adds m as the server does, identified by its frames as a client
// would send them, unless it is a resend.
func add(s Store, m msg.Message) bool {
	r := rec(m)
	return addRecord(s, r, idOf(r))
}

// idOf is r's ID, as its post's frames would give it.
func idOf(r Record) uint64 {
	return ID([]byte(r.Channel), []byte(r.Username), []byte(r.Time), []byte(r.Body))
}

func addRecord(s Store, r Record, id uint64) bool {
	_, added, err := s.Add(id, r)
	if err != nil {
		panic(err)
	}
	return added
}

// rec is m's record, as its publication would carry it.
func rec(m msg.Message) Record {
	return Record{Channel: m.Channel, Username: m.Username, Time: m.Time.Format(msg.TimeLayout), Body: m.Body}
}

// unix is the time of a record, in seconds.
func unix(r Record) int64 {
	t, err := msg.ParseTime(r.Time)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

// Identical means identical bytes: the same instant written another way is
// another post, not a resend.
func TestResendMeansTheSameBytes(t *testing.T) {
	s := New(DefaultWindow)
	m := message(1)
	z := ID([]byte("dev"), []byte("ann"), []byte("2026-11-25T07:30:00Z"), []byte("hi"))
	utc := ID([]byte("dev"), []byte("ann"), []byte("2026-11-25T07:30:00+00:00"), []byte("hi"))
	if z == utc {
		t.Fatal("two ways of writing a time have one ID")
	}
	if !addRecord(s, rec(m), z) || addRecord(s, rec(m), z) || !addRecord(s, rec(m), utc) {
		t.Error("want: stored, a resend, stored")
	}
	// The frames are kept apart: moving a byte from one to the next is
	// another post.
	if ID([]byte("de"), []byte("vann"), nil, nil) == ID([]byte("dev"), []byte("ann"), nil, nil) {
		t.Error("frame boundaries are not part of the ID")
	}
}

// A resend is recognized among the whole window, not just the newest few:
// a client's retry may come after other clients' posts, 1,000 or 100,000
// of them (the window covers a client's whole retry period at any load a
// server takes).
func TestResendAfterManyPosts(t *testing.T) {
	for _, others := range []int{1000, 100000} {
		s := New(DefaultWindow)
		first := msg.Message{Username: "ann", Time: time.Unix(1, 0), Body: "first"}
		add(s, first)
		for i := 0; i < others; i++ {
			add(s, msg.Message{Username: "bob", Time: time.Unix(int64(i+2), 0), Body: "filler"})
		}
		if add(s, first) {
			t.Fatalf("a resend after %d other posts was stored again", others)
		}
		if s.Len() != others+1 {
			t.Fatalf("Len %d, want %d", s.Len(), others+1)
		}
	}
}

func TestSizeCountsEachField(t *testing.T) {
	if got, want := Size(Record{Channel: "dev", Username: "alice", Time: "2026-11-25T07:30:00Z", Body: "hello, world"}), int64(3+5+20+12+overhead); got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
}

// With the oldest block partly evicted and a newer block after it, a
// message in either is found again for a resend.
func TestResendAcrossAPartlyEvictedBlock(t *testing.T) {
	s := New(DefaultWindow)
	body := strings.Repeat("b", 100)
	m := func(i int) msg.Message {
		return msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(int64(i), 0), Body: body}
	}
	s.SetBudget(100 * Size(rec(m(0))))
	for i := 0; i < chunk+50; i++ {
		add(s, m(i))
	}
	// Held: chunk-50 to chunk+49, across the end of the first block.
	for _, i := range []int{chunk - 50, chunk - 1, chunk, chunk + 49} {
		if add(s, m(i)) {
			t.Errorf("a resend of message %d, still held, was stored again", i)
		}
	}
	if got := s.Messages(); len(got) != 100 || unix(got[0]) != chunk-50 || unix(got[99]) != chunk+49 {
		t.Errorf("held %d messages, from %v to %v", len(got), unix(got[0]), unix(got[len(got)-1]))
	}
}

// An ID tells apart posts that differ in a field, in a long body's length
// or in either of its ends; a long body's middle it leaves to the store's
// comparison of every byte.
func TestIDSamplesLongBodies(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	long := strings.Repeat("x", 1000)
	base := ID(b("dev"), b("ann"), b("t"), b(long))
	for _, other := range []uint64{
		ID(b("ops"), b("ann"), b("t"), b(long)),
		ID(b("dev"), b("bob"), b("t"), b(long)),
		ID(b("dev"), b("ann"), b("u"), b(long)),
		ID(b("dev"), b("ann"), b("t"), b(long+"x")),
		ID(b("dev"), b("ann"), b("t"), b("y"+long[1:])),
		ID(b("dev"), b("ann"), b("t"), b(long[1:]+"y")),
		ID(b("dev"), b("ann"), b("t"), b(long[:2*idSample])),
	} {
		if other == base {
			t.Error("two posts that differ share an ID")
		}
	}
	s := New(4)
	middle := long[:500] + "y" + long[501:]
	a := Record{Channel: "dev", Username: "ann", Time: "t", Body: long}
	c := Record{Channel: "dev", Username: "ann", Time: "t", Body: middle}
	if ID(b("dev"), b("ann"), b("t"), b(middle)) != base {
		t.Fatal("the middle of a long body changed its ID")
	}
	_, added1, _ := s.Add(base, a)
	_, added2, _ := s.Add(base, c)
	if !added1 || !added2 || s.Len() != 2 {
		t.Errorf("a post differing from another only in its body's middle was taken for a resend (%v %v)", added1, added2)
	}
}
