package store

import (
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// Texts of every length up to the longest a post has go back to back
// across many segments and read back whole; a text that would straddle a
// segment's end goes at the next one's start.
func TestTextLogAcrossSegments(t *testing.T) {
	var l textLog
	var at []uint64
	var want []string
	for i := 0; l.end < 5*segSize; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), (i*7919)%(msg.MaxBodyLen+1))
		pos, ok := l.add("#", s)
		if !ok {
			t.Fatalf("text %d (%d bytes) did not fit", i, len(s)+1)
		}
		if last := pos + uint64(len(s)); pos/segSize != last/segSize { // the text is len(s)+1 bytes
			t.Fatalf("text %d straddles segments at %d", i, pos)
		}
		at, want = append(at, pos), append(want, "#"+s)
	}
	for i, pos := range at {
		if got := string(l.bytes(pos, len(want[i]))); got != want[i] {
			t.Fatalf("text %d read back wrong", i)
		}
	}
	if _, ok := l.add(strings.Repeat("x", segSize+1)); ok {
		t.Error("a text longer than a segment was taken")
	}
}

// A store at its budget writes its segments again: past the first fill
// it takes no new one, however many messages come.
func TestMemoryReusesItsSegments(t *testing.T) {
	s := New(DefaultWindow)
	body := strings.Repeat("b", 1000)
	s.SetBudget(3 * segSize)
	var seen = map[*byte]bool{}
	for i := 0; i < 20*segSize/1000; i++ {
		add(s, msg.Message{Channel: "dev", Username: "ann", Time: time.Unix(int64(i), 0), Body: body})
		for _, seg := range s.text.segs {
			seen[unsafe.SliceData(seg)] = true
		}
	}
	// The budget holds 3 segments' worth; one more is being filled, one
	// being emptied, and maxSpare wait.
	if len(seen) > 3+2+maxSpare {
		t.Errorf("%d segments were made for a budget of 3", len(seen))
	}
	if got := s.Messages(); unix(got[len(got)-1]) != int64(20*segSize/1000-1) || got[0].Body != body {
		t.Errorf("the newest held is %+v", got[len(got)-1])
	}
}

// Add copies the texts it is given: a caller may reuse their memory (a
// server's are the received frames').
func TestAddCopiesTheTexts(t *testing.T) {
	s := New(4)
	b := []byte("hello")
	tm := []byte("2026-12-06T09:00:00Z")
	r := Record{Channel: "dev", Username: "ann", Time: unsafe.String(&tm[0], len(tm)), Body: unsafe.String(&b[0], len(b))}
	if _, added, err := s.Add(1, r); !added || err != nil {
		t.Fatalf("Add: %v %v", added, err)
	}
	copy(b, "world")
	copy(tm, "1999")
	if got := s.Messages()[0]; got.Body != "hello" || got.Time != "2026-12-06T09:00:00Z" {
		t.Errorf("stored %+v after the caller's memory changed", got)
	}
}

// A record too long to keep is refused with a reason, and nothing else
// changes.
func TestAddRefusesWhatDoesNotFit(t *testing.T) {
	s := New(4)
	for _, r := range []Record{
		{Channel: "dev", Username: "ann", Time: "t", Body: strings.Repeat("x", segSize)},
		{Channel: strings.Repeat("c", 256), Username: "ann", Time: "t", Body: "x"},
	} {
		if _, added, err := s.Add(2, r); added || err == nil || !strings.Contains(err.Error(), "too long to keep") {
			t.Errorf("Add of a %d-byte record: %v %v", len(r.Body)+len(r.Channel), added, err)
		}
	}
	if s.Len() != 0 {
		t.Errorf("Len %d after refusals", s.Len())
	}
}
