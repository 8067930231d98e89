package transport

import (
	"fmt"
	"sync"
	"time"
)

// Limited says lines at most once a second, so that a peer who reconnects
// in a loop (a stranger's key, a flood the guards cut off) cannot fill the
// terminal: the lines held back meanwhile are counted, and the next line
// said carries the count. It is safe for concurrent use.
type Limited struct {
	say  func(string)
	what string // what the held lines did: "refused", "cut off"
	now  func() time.Time
	mu   sync.Mutex
	said time.Time // when a line was last said
	held int       // lines since, not said
}

// NewLimited returns a Limited that says lines with say, counting the
// ones held back as "N more <what> since the last said".
func NewLimited(say func(string), what string) *Limited {
	return &Limited{say: say, what: what, now: time.Now}
}

// Say says line, unless a line was said less than a second ago.
func (l *Limited) Say(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.said) < time.Second {
		l.held++
		return
	}
	if l.held > 0 {
		line += fmt.Sprintf("; %d more %s since the last said", l.held, l.what)
	}
	l.say(line)
	l.said, l.held = now, 0
}
