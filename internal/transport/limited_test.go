package transport

import (
	"fmt"
	"testing"
	"time"
)

// A burst of lines is one line; the next, a second on, counts the rest.
func TestLimitedSaysAtMostALineASecond(t *testing.T) {
	var said []string
	l := NewLimited(func(s string) { said = append(said, s) }, "refused")
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	for i := 0; i < 300; i++ {
		l.Say(fmt.Sprint("refused key ", i))
	}
	now = now.Add(999 * time.Millisecond)
	l.Say("refused key 300")
	now = now.Add(time.Millisecond)
	l.Say("refused key 301")
	l.Say("refused key 302")
	want := []string{"refused key 0", "refused key 301; 300 more refused since the last said"}
	if fmt.Sprint(said) != fmt.Sprint(want) {
		t.Errorf("said %q, want %q", said, want)
	}
}
