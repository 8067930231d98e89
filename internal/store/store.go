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

// chunk is how many messages one block of the log holds. The log grows a
// block at a time, so no append ever copies what is stored, and no more
// than one block is ever spare.
const chunk = 4096

// maxInterned bounds the table of distinct channel and user names shared
// between messages; past it, names are simply stored with each message.
const maxInterned = 1 << 16

// Store is an in-memory, append-only message log. It is safe for concurrent
// use, though a server has one goroutine add to it.
type Store struct {
	mu     sync.RWMutex
	blocks [][]msg.Message
	n      int
	names  map[string]string // interned channel and user names
	seed   maphash.Seed
	recent map[uint64]int // hash of a recent message -> its index
	ring   []uint64       // hashes of the last len(ring) messages, oldest at next
	next   int
}

// New returns an empty store that recognizes resends among the last window
// messages.
func New(window int) *Store {
	window = max(window, 1)
	return &Store{
		names:  make(map[string]string),
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
	if i, ok := s.recent[h]; ok && same(s.at(i), m) {
		return false
	}
	idx := s.n
	m.Channel, m.Username = s.intern(m.Channel), s.intern(m.Username)
	if idx%chunk == 0 {
		s.blocks = append(s.blocks, make([]msg.Message, 0, chunk))
	}
	last := len(s.blocks) - 1
	s.blocks[last] = append(s.blocks[last], m)
	s.n++
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

func (s *Store) at(i int) msg.Message { return s.blocks[i/chunk][i%chunk] }

// intern returns the stored copy of name, so that the many messages of one
// user or channel share one string.
func (s *Store) intern(name string) string {
	if v, ok := s.names[name]; ok {
		return v
	}
	if len(s.names) < maxInterned {
		s.names[name] = name
	}
	return name
}

// Len returns the number of stored messages.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}

// Messages returns a copy of the stored messages, oldest first.
func (s *Store) Messages() []msg.Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := make([]msg.Message, 0, s.n)
	for _, b := range s.blocks {
		all = append(all, b...)
	}
	return all
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
