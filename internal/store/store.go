// Package store keeps a server's messages, in arrival order: in memory,
// within a byte budget, and optionally in an SQLite file (see Open) that
// outlives the process. It recognizes a message that a client resent
// because it missed the reply, and answers HISTORY.
package store

import (
	"fmt"
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
// Size): 512 MiB. A store with a file keeps only DefaultFileBudget of its
// newest messages in memory.
const (
	DefaultBudget     = 512 << 20
	DefaultFileBudget = 64 << 20
)

// overhead is what a stored message costs besides its text: the record,
// its share of a block, its entries in the resend window and the channel's
// index, as measured.
const overhead = 112

// Record is a stored message: its publication's four frames, as they were
// published (the time as the client wrote it), so that HISTORY returns
// exactly what subscribers received.
type Record struct {
	Channel, Username, Time, Body string
}

// Frames returns r's publication frames.
func (r Record) Frames() [][]byte {
	return [][]byte{[]byte(r.Channel), []byte(r.Username), []byte(r.Time), []byte(r.Body)}
}

// Store is an append-only message log with a byte budget for what it
// holds in memory: past it, the oldest messages are dropped from memory (or
// left to the file, with one). It is safe for concurrent use, though a
// server has one goroutine add to it.
type Store struct {
	mu      sync.RWMutex
	blocks  [][]Record
	n       int   // messages added, evicted ones included: the next index
	first   int   // the index of the oldest message held in memory
	size    int64 // bytes held, by Size
	budget  int64
	evicted int64
	// Evicting, if set, is called the first time the budget makes the
	// store drop messages it has no file for.
	Evicting func(budget int64)
	names    map[string]string // interned channel and user names
	channels map[string][]int  // each channel's newest indices held, up to MaxHistory
	seed     maphash.Seed
	recent   map[uint64]int // hash of a recent message -> its index
	ring     []uint64       // hashes of the last len(ring) messages, oldest at next
	window   int            // how long ring grows as messages come: it starts small
	next     int
	file     *file // nil for memory only
}

// New returns an empty in-memory store that recognizes resends among the
// last window messages, within DefaultBudget (see SetBudget).
func New(window int) *Store {
	window = max(window, 1)
	return &Store{
		names:    make(map[string]string),
		channels: make(map[string][]int),
		seed:     maphash.MakeSeed(),
		recent:   make(map[uint64]int),
		window:   window,
		budget:   DefaultBudget,
	}
}

// SetBudget sets how many bytes (by Size) the store may hold in memory.
func (s *Store) SetBudget(bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget = bytes
	s.evictToBudget()
}

// Size is what a message counts against the budget: its text and a fixed
// overhead. Names shared between messages are counted each time, so the
// count errs on the safe side.
func Size(r Record) int64 {
	return int64(len(r.Channel)+len(r.Username)+len(r.Time)+len(r.Body)) + overhead
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

// Seen reports whether r, whose post had the ID id, is a resend of a
// recent message: one of the window's with that ID and the same fields.
func (s *Store) Seen(id uint64, r Record) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.recent[id]
	if !ok {
		return false
	}
	if i >= s.first {
		return s.at(i) == r
	}
	if s.file == nil {
		return false // evicted, so new again as far as the store can tell
	}
	old, err := s.file.get(i)
	return err == nil && old == r
}

// Append stores recs, whose posts had the IDs ids, in order: in the file
// first, in one transaction, so that an error stores none of them; then
// in memory.
func (s *Store) Append(recs []Record, ids []uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		if err := s.file.append(s.n, recs); err != nil {
			return err
		}
	}
	for i, r := range recs {
		s.hold(r, ids[i])
	}
	s.evictToBudget()
	return nil
}

// hold adds r to memory as the next message, with its ID in the window.
func (s *Store) hold(r Record, id uint64) {
	idx := s.n
	r.Channel, r.Username = s.intern(r.Channel), s.intern(r.Username)
	if len(s.blocks) == 0 || len(s.blocks[len(s.blocks)-1]) == cap(s.blocks[len(s.blocks)-1]) {
		s.blocks = append(s.blocks, make([]Record, 0, chunk))
	}
	last := len(s.blocks) - 1
	s.blocks[last] = append(s.blocks[last], r)
	s.n++
	if len(s.ring) < s.window {
		s.ring = append(s.ring, id)
	} else {
		old := s.ring[s.next]
		if i, ok := s.recent[old]; ok && i == idx-len(s.ring) {
			delete(s.recent, old)
		}
		s.ring[s.next] = id
		s.next = (s.next + 1) % len(s.ring)
	}
	s.recent[id] = idx
	c := append(s.channels[r.Channel], idx)
	if len(c) > msg.MaxHistory {
		c = c[1:]
	}
	s.channels[r.Channel] = c
	s.size += Size(r)
}

func (s *Store) evictToBudget() {
	for s.size > s.budget && s.n-s.first > 1 {
		s.evictOldest()
	}
}

// evictOldest drops the oldest message from memory, and its block once it
// is empty.
func (s *Store) evictOldest() {
	if s.evicted == 0 && s.file == nil && s.Evicting != nil {
		s.Evicting(s.budget)
	}
	r := s.blocks[0][0]
	s.size -= Size(r)
	if c := s.channels[r.Channel]; len(c) > 0 && c[0] == s.first {
		if len(c) == 1 {
			delete(s.channels, r.Channel)
		} else {
			s.channels[r.Channel] = c[1:]
		}
	}
	s.blocks[0][0] = Record{} // let its text go
	s.blocks[0] = s.blocks[0][1:]
	s.first++
	s.evicted++
	if len(s.blocks[0]) == 0 { // a newer block holds the newest message
		s.blocks = s.blocks[1:]
	}
}

// at returns message i (an index from Append), which must be held. The
// oldest block may have lost its first messages to the budget, and, after
// a restart, may have started anywhere; the others are full blocks.
func (s *Store) at(i int) Record {
	if i -= s.first; i < len(s.blocks[0]) {
		return s.blocks[0][i]
	}
	i -= len(s.blocks[0])
	return s.blocks[1+i/chunk][i%chunk]
}

// History returns the n most recent messages of channel, oldest first; all
// says the channel is every channel (ALL, or the one room of parts 1 to
// 3). It reads memory when memory holds enough, the file otherwise.
func (s *Store) History(channel string, all bool, n int) ([]Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var idx []int
	if !all {
		idx = s.channels[channel]
		if len(idx) < n && s.first > 0 && s.file != nil {
			return s.file.history(channel, false, n)
		}
		idx = idx[max(0, len(idx)-n):]
		recs := make([]Record, len(idx))
		for j, i := range idx {
			recs[j] = s.at(i)
		}
		return recs, nil
	}
	if s.n-s.first < n && s.first > 0 && s.file != nil {
		return s.file.history("", true, n)
	}
	from := max(s.first, s.n-n)
	recs := make([]Record, 0, s.n-from)
	for i := from; i < s.n; i++ {
		recs = append(recs, s.at(i))
	}
	return recs, nil
}

// Evicted returns how many messages the budget made the store drop from
// memory.
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

// Len returns the number of messages stored: all of them with a file,
// those held in memory without one.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.file != nil {
		return s.n
	}
	return s.n - s.first
}

// Messages returns a copy of the messages held in memory, oldest first.
func (s *Store) Messages() []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var all []Record
	for _, b := range s.blocks {
		all = append(all, b...)
	}
	return all
}

// Durable reports whether the store keeps its messages in a file.
func (s *Store) Durable() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.file != nil
}

// Close closes the store's file, if it has one.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.close()
	s.file = nil
	if err != nil {
		return fmt.Errorf("close the store: %w", err)
	}
	return nil
}
