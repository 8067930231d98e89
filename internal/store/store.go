// Package store keeps a server's messages in memory, in arrival order, and
// recognizes a message that a client resent because it missed the reply.
package store

import (
	"hash/maphash"
	"sync"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// DefaultWindow is how many recent messages a resend is looked for among:
// 2^20, which is the project's clients' whole retry period (2 × 2.5 s by
// default) at up to 200,000 posts a second, well past what a server here
// takes (make bench), for about 40 MiB at the most.
const DefaultWindow = 1 << 20

// chunk is how many messages one block of the log holds. The log grows a
// block at a time, so no append ever copies what is stored, and no more
// than one block is ever spare.
const chunk = 4096

// maxInterned bounds the table of distinct channel and user names shared
// between messages; past it, names are simply stored with each message.
const maxInterned = 1 << 16

// DefaultBudget is the memory a store may hold, by its own count (see
// Size): 512 MiB.
const DefaultBudget = 512 << 20

// overhead is what a stored message costs besides its text: the record,
// its share of a block, and its entry in the resend window, as measured.
const overhead = 96

// Store is an in-memory, append-only message log with a byte budget: past
// it, the oldest messages are dropped, a block at a time. It is safe for
// concurrent use, though a server has one goroutine add to it.
type Store struct {
	mu      sync.RWMutex
	blocks  [][]msg.Message
	n       int   // messages added, evicted ones included: the next index
	first   int   // the index of the oldest message still held
	size    int64 // bytes held, by Size
	budget  int64
	evicted int64
	// Evicting, if set, is called the first time the budget makes the
	// store drop messages.
	Evicting func(budget int64)
	names    map[string]string // interned channel and user names
	seed     maphash.Seed
	recent   map[uint64]int // hash of a recent message -> its index
	ring     []uint64       // hashes of the last len(ring) messages, oldest at next
	window   int            // how long ring grows as messages come: it starts small
	next     int
}

// New returns an empty store that recognizes resends among the last window
// messages, within DefaultBudget (see SetBudget).
func New(window int) *Store {
	window = max(window, 1)
	return &Store{
		names:  make(map[string]string),
		seed:   maphash.MakeSeed(),
		recent: make(map[uint64]int),
		window: window,
		budget: DefaultBudget,
	}
}

// SetBudget sets how many bytes (by Size) the store may hold.
func (s *Store) SetBudget(bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget = bytes
}

// Size is what a message counts against the budget: its text and a fixed
// overhead. Names shared between messages are counted each time, so the
// count errs on the safe side.
func Size(m msg.Message) int64 {
	return int64(len(m.Channel)+len(m.Username)+len(m.Body)) + overhead
}

// ID returns what identifies a post for resends: a hash of its channel,
// username, time and body frames, byte for byte as they came.
func (s *Store) ID(channel, username, time, body []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	for _, f := range [][]byte{channel, username, time} {
		h.Write(f)
		h.WriteByte(0)
	}
	h.Write(body)
	return h.Sum64()
}

// Add appends m, whose post had the ID id, unless a recent message had
// that ID (and the same fields): a resend. It reports whether it was added.
func (s *Store) Add(m msg.Message, id uint64) bool {
	h := id
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.recent[h]; ok && i >= s.first && same(s.at(i), m) {
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
	if len(s.ring) < s.window {
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
	s.size += Size(m)
	for s.size > s.budget && s.n-s.first > 1 {
		s.evictOldest()
	}
	return true
}

// evictOldest drops the oldest message, and its block once it is empty.
func (s *Store) evictOldest() {
	if s.evicted == 0 && s.Evicting != nil {
		s.Evicting(s.budget)
	}
	s.size -= Size(s.blocks[0][0])
	s.blocks[0][0] = msg.Message{} // let its text go
	s.blocks[0] = s.blocks[0][1:]
	s.first++
	s.evicted++
	if len(s.blocks[0]) == 0 { // a newer block holds the newest message
		s.blocks = s.blocks[1:]
	}
}

// at returns message i (an index from Add), which must be held. The
// oldest block may have lost its first messages to the budget; the others
// start at multiples of chunk.
func (s *Store) at(i int) msg.Message {
	base := s.first - s.first%chunk // the index blocks[0] started at
	if b := (i - base) / chunk; b > 0 {
		return s.blocks[b][i%chunk]
	}
	return s.blocks[0][i-s.first]
}

// Evicted returns how many messages the budget made the store drop.
func (s *Store) Evicted() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.evicted
}

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

// Len returns the number of messages held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n - s.first
}

// Messages returns a copy of the stored messages, oldest first.
func (s *Store) Messages() []msg.Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var all []msg.Message
	for _, b := range s.blocks {
		all = append(all, b...)
	}
	return all
}

func same(a, b msg.Message) bool {
	return a.Channel == b.Channel && a.Username == b.Username && a.Time.Equal(b.Time) && a.Body == b.Body
}
