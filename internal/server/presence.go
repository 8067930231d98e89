package server

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// Presence's bounds: a client says HERE every msg.HereEvery; one not heard
// from for msg.QuietAfter is forgotten. At most maxPresent sessions are
// kept (about 200 bytes each); past that a new one is refused.
const maxPresent = 10000

// presence is who is on which channel now: the sessions that said HERE
// lately. The serving loop alone uses it.
type presence struct {
	sessions map[string]*session // by the client's session tag
	names    map[string]int      // sessions per username
	pairs    map[msg.Present]int // sessions per channel and username
	expired  time.Time           // when expire last ran
}

type session struct {
	msg.Present
	seen time.Time
}

// here records that h's session is present at now, and returns how many
// other sessions have its username, and the notices to publish: a join,
// and a leave if the session was on another channel, each only when the
// first of a name comes to a channel or the last goes.
func (p *presence) here(h msg.Here, now time.Time) (others int, notices []msg.Notice, err error) {
	if p.sessions == nil {
		p.sessions, p.names, p.pairs = map[string]*session{}, map[string]int{}, map[msg.Present]int{}
	}
	at := msg.Present{Channel: h.Channel, Username: h.Username}
	s, ok := p.sessions[h.Session]
	switch {
	case ok && s.Present == at:
		s.seen = now
		return p.names[at.Username] - 1, nil, nil
	case ok:
		notices = p.remove(h.Session)
	case len(p.sessions) >= maxPresent:
		return 0, nil, &msg.Error{Reason: fmt.Sprintf("the server keeps track of %d present at most, and has as many: try again later", maxPresent)}
	}
	p.sessions[h.Session] = &session{Present: at, seen: now}
	p.names[at.Username]++
	if p.pairs[at]++; p.pairs[at] == 1 {
		notices = append(notices, msg.Notice{Channel: at.Channel, Username: at.Username, Joined: true})
	}
	return p.names[at.Username] - 1, notices, nil
}

// remove forgets a session, and returns the leave notice to publish if it
// was the last of its name on its channel.
func (p *presence) remove(tag string) []msg.Notice {
	s, ok := p.sessions[tag]
	if !ok {
		return nil
	}
	delete(p.sessions, tag)
	if p.names[s.Username]--; p.names[s.Username] == 0 {
		delete(p.names, s.Username)
	}
	if p.pairs[s.Present]--; p.pairs[s.Present] > 0 {
		return nil
	}
	delete(p.pairs, s.Present)
	return []msg.Notice{{Channel: s.Channel, Username: s.Username}}
}

// expire forgets, once a second, the sessions not heard from for
// msg.QuietAfter, and returns the leave notices to publish.
func (p *presence) expire(now time.Time) []msg.Notice {
	if now.Sub(p.expired) < time.Second {
		return nil
	}
	p.expired = now
	var notices []msg.Notice
	for tag, s := range p.sessions {
		if now.Sub(s.seen) > msg.QuietAfter {
			notices = append(notices, p.remove(tag)...)
		}
	}
	return notices
}

// who lists who is on channel (everyone, with ALL), by channel and name,
// at most msg.MaxWho, and whether some were left out.
func (p *presence) who(channel string) ([]msg.Present, bool) {
	var ps []msg.Present
	for at := range p.pairs {
		if channel == msg.AllChannel || at.Channel == channel {
			ps = append(ps, at)
		}
	}
	slices.SortFunc(ps, func(a, b msg.Present) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Username, b.Username))
	})
	return ps[:min(len(ps), msg.MaxWho)], len(ps) > msg.MaxWho
}
