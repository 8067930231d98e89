// Package store keeps a server's messages in memory, in arrival order, and
// recognizes a message that a client resent because it missed the reply.
package store

import (
	"hash/maphash"
	"sync"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// DefaultWindow is how many recent messages a resend is looked for among.
// A client resends within seconds, so this is generous.
const DefaultWindow = 1 << 16

// Store is an in-memory, append-only message log. It is safe for concurrent
// use, though a server has one goroutine add to it.
type Store struct {
	mu     sync.RWMutex
	msgs   []msg.Message
	seed   maphash.Seed
	recent map[uint64]int // hash of a recent message -> its index in msgs
	ring   []uint64       // hashes of the last len(ring) messages, oldest at next
	next   int
}

// New returns an empty store that recognizes resends among the last window
// messages.
func New(window int) *Store {
	if window < 1 {
		window = 1
	}
	return &Store{
		seed:   maphash.MakeSeed(),
		recent: make(map[uint64]int, window),
		ring:   make([]uint64, 0, window),
	}
}

// Add appends m unless it is identical (channel, username, time and body)
// to a recent message, and reports whether it was added.
func (s *Store) Add(m msg.Message) bool {
	h := s.hash(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.recent[h]; ok && same(s.msgs[i], m) {
		return false
	}
	idx := len(s.msgs)
	s.msgs = append(s.msgs, m)
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, h)
	} else {
		old := s.ring[s.next]
		if i, ok := s.recent[old]; ok && i == idx-len(s.ring) {
			delete(s.recent, old)
		}
		s.ring[s.next] = h
		s.next = (s.next + 1) % len(s.ring)
	}
	s.recent[h] = idx
	return true
}

// Len returns the number of stored messages.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.msgs)
}

// Messages returns a copy of the stored messages, oldest first.
func (s *Store) Messages() []msg.Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]msg.Message(nil), s.msgs...)
}

func (s *Store) hash(m msg.Message) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(m.Channel)
	h.WriteByte(0)
	h.WriteString(m.Username)
	h.WriteByte(0)
	var b [8]byte
	t := m.Time.UnixNano()
	for i := range b {
		b[i] = byte(t >> (8 * i))
	}
	h.Write(b[:])
	h.WriteString(m.Body)
	return h.Sum64()
}

func same(a, b msg.Message) bool {
	return a.Channel == b.Channel && a.Username == b.Username && a.Time.Equal(b.Time) && a.Body == b.Body
}
