package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// on returns message i of channel ch.
func on(ch string, i int) msg.Message {
	return msg.Message{Channel: ch, Username: "ann", Time: time.Unix(1700000000, int64(i)), Body: fmt.Sprint(ch, i)}
}

func bodies(recs []Record) string {
	var b []string
	for _, r := range recs {
		b = append(b, r.Body)
	}
	return strings.Join(b, " ")
}

// HISTORY gives a channel's newest messages, or every channel's, oldest
// first; an unknown channel has none.
func TestHistory(t *testing.T) {
	s := New(DefaultWindow)
	for i := 0; i < 5; i++ {
		add(s, on("dev", i))
		add(s, on("ops", i))
	}
	for _, tt := range []struct {
		channel string
		all     bool
		n       int
		want    string
	}{
		{"dev", false, 3, "dev2 dev3 dev4"},
		{"dev", false, 100, "dev0 dev1 dev2 dev3 dev4"},
		{"ops", false, 1, "ops4"},
		{"", true, 3, "ops3 dev4 ops4"},
		{"", true, 1000, "dev0 ops0 dev1 ops1 dev2 ops2 dev3 ops3 dev4 ops4"},
		{"nope", false, 10, ""},
		{"de", false, 10, ""},
	} {
		got, err := s.History(tt.channel, tt.all, tt.n)
		if err != nil || bodies(got) != tt.want {
			t.Errorf("History(%q, %v, %d) = %q, %v; want %q", tt.channel, tt.all, tt.n, bodies(got), err, tt.want)
		}
	}
}

// A channel's index holds every message memory holds of it (what a
// client missed may be older than the newest thousand), and forgets what
// the budget evicts.
func TestHistoryIndexFollowsTheBudget(t *testing.T) {
	s := New(DefaultWindow)
	for i := 0; i < msg.MaxHistory+500; i++ {
		add(s, on("dev", i))
	}
	if n := len(s.channels["dev"]); n != msg.MaxHistory+500 {
		t.Errorf("the index holds %d, want %d", n, msg.MaxHistory+500)
	}
	got, _ := s.History("dev", false, msg.MaxHistory)
	if len(got) != msg.MaxHistory || got[0].Body != fmt.Sprint("dev", 500) {
		t.Errorf("history of %d starts at %q", len(got), got[0].Body)
	}
	// Evicting the whole of a channel drops its index.
	small := New(DefaultWindow)
	add(small, on("old", 0))
	small.SetBudget(3 * Size(rec(on("new", 4))))
	for i := 0; i < 5; i++ {
		add(small, on("new", i))
	}
	if _, ok := small.channels["old"]; ok {
		t.Error("an evicted channel keeps its index")
	}
	if got, _ := small.History("new", false, 10); bodies(got) != "new2 new3 new4" {
		t.Errorf("after eviction: %q", bodies(got))
	}
	if got, _ := small.History("", true, 10); bodies(got) != "new2 new3 new4" {
		t.Errorf("after eviction, all: %q", bodies(got))
	}
}
