package store

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// chunk is how many messages one block of the log holds. The log grows a
// block at a time, so no append ever copies what is stored, and no more
// than one block is ever spare.
const chunk = 4096

// maxInterned bounds the table of distinct channel and user names shared
// between messages; past it, names are simply stored with each message.
const maxInterned = 1 << 16

// overhead is what a stored message costs besides its text: the record,
// its share of a block, its entries in the resend window and the channel's
// index (make bench's memory row checks it).
const overhead = 136

// Memory is the message log in memory, within a byte budget: past it, the
// oldest messages are dropped. It is the store of a server without a file,
// and the recent window in front of a File. It is safe for concurrent use,
// though a server has one goroutine add to it.
type Memory struct {
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
	channels map[string][]int  // each channel's indices held, oldest first
	seqs     map[string]uint64 // each channel's last number, held or not
	number   string            // the numbering's identity
	recent   map[uint64]int    // hash of a recent message -> its index
	ring     []uint64          // hashes of the last len(ring) messages, oldest at next
	window   int               // how long ring grows as messages come: it starts small
	next     int
}

// New returns an empty in-memory store that recognizes resends among the
// last window messages, within DefaultBudget (see SetBudget).
func New(window int) *Memory {
	return &Memory{
		names:    make(map[string]string),
		channels: make(map[string][]int),
		seqs:     make(map[string]uint64),
		number:   newNumbering(),
		recent:   make(map[uint64]int),
		window:   max(window, 1),
		budget:   DefaultBudget,
	}
}

// SetBudget sets how many bytes (by Size) the store may hold in memory.
func (s *Memory) SetBudget(bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget = bytes
	s.evictToBudget()
}

// Add stores r, whose post had the ID id, unless it is a resend of a
// message memory still holds; it reports whether r was added. A resend of
// an evicted message is new again, as far as memory can tell.
func (s *Memory) Add(id uint64, r Record) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.recentAt(id); ok && old.text() == r.text() {
		return old, false, nil
	}
	r = s.numbered(r)
	s.hold(r, id)
	return r, true, nil
}

// numbered returns r with the numbers the next message gets.
func (s *Memory) numbered(r Record) Record {
	r.All, r.Seq = uint64(s.n)+1, s.seqs[r.Channel]+1
	return r
}

// Numbering returns the identity of the store's numbering.
func (s *Memory) Numbering() string { return s.number }

// recentAt returns the message memory holds among the window's with ID id.
func (s *Memory) recentAt(id uint64) (Record, bool) {
	if i, ok := s.recent[id]; ok && i >= s.first {
		return s.at(i), true
	}
	return Record{}, false
}

// push adds r, whose post had the ID id, numbered by numberNext, as the next
// message, with no resend check (a File has made its own).
func (s *Memory) push(id uint64, r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold(r, id)
}

// numberNext returns r with the numbers the next message gets (a File writes
// them before it pushes r).
func (s *Memory) numberNext(r Record) Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.numbered(r)
}

// held returns message i if memory holds it.
func (s *Memory) held(i int) (Record, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if i < s.first || i >= s.n {
		return Record{}, false
	}
	return s.at(i), true
}

// recentIndex returns the index of the window's message with ID id, held
// or evicted (a File reads an evicted one back).
func (s *Memory) recentIndex(id uint64) (int, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.recent[id]
	return i, ok
}

// hold adds r, numbered, to memory as the next message, with its ID in the
// window.
func (s *Memory) hold(r Record, id uint64) {
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
	s.channels[r.Channel] = append(s.channels[r.Channel], idx)
	s.seqs[r.Channel] = max(s.seqs[r.Channel], r.Seq)
	s.size += Size(r)
	s.evictToBudget()
}

func (s *Memory) evictToBudget() {
	for s.size > s.budget && s.n-s.first > 1 {
		s.evictOldest()
	}
}

// evictOldest drops the oldest message from memory, and its block once it
// is empty.
func (s *Memory) evictOldest() {
	if s.evicted == 0 && s.Evicting != nil {
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

// at returns message i (an index from Add), which must be held. The
// oldest block may have lost its first messages to the budget, and, after
// a restart, may have started anywhere; the others are full blocks.
func (s *Memory) at(i int) Record {
	if i -= s.first; i < len(s.blocks[0]) {
		return s.blocks[0][i]
	}
	i -= len(s.blocks[0])
	return s.blocks[1+i/chunk][i%chunk]
}

// History returns the n most recent messages of channel that memory
// holds, oldest first; all says the channel is every channel (ALL, or the
// one room of parts 1 to 3).
func (s *Memory) History(channel string, all bool, n int) ([]Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !all {
		idx := s.channels[channel]
		idx = idx[max(0, len(idx)-n):]
		recs := make([]Record, len(idx))
		for j, i := range idx {
			recs[j] = s.at(i)
		}
		return recs, nil
	}
	from := max(s.first, s.n-n)
	recs := make([]Record, 0, s.n-from)
	for i := from; i < s.n; i++ {
		recs = append(recs, s.at(i))
	}
	return recs, nil
}

// After returns up to n messages of channel numbered after seq (by All
// when all), oldest first, of those memory holds.
func (s *Memory) After(channel string, all bool, seq uint64, n int) ([]Record, error) {
	recs, _ := s.after(channel, all, seq, n)
	return recs, nil
}

// after is After, and whether memory holds every message after seq (none
// of them was dropped).
func (s *Memory) after(channel string, all bool, seq uint64, n int) (recs []Record, whole bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if all {
		from := s.first + sort.Search(s.n-s.first, func(j int) bool { return s.at(s.first+j).All > seq })
		for i := from; i < s.n && len(recs) < n; i++ {
			recs = append(recs, s.at(i))
		}
		if s.first == s.n {
			return recs, uint64(s.n) <= seq
		}
		return recs, s.at(s.first).All <= seq+1
	}
	idx := s.channels[channel]
	from := sort.Search(len(idx), func(j int) bool { return s.at(idx[j]).Seq > seq })
	for _, i := range idx[from:min(len(idx), from+n)] {
		recs = append(recs, s.at(i))
	}
	return recs, len(idx) == 0 && s.seqs[channel] <= seq || len(idx) > 0 && s.at(idx[0]).Seq <= seq+1
}

// Channels lists the channels posted to, by name: each one's count (its
// last number) and the time of its last message if memory holds it.
func (s *Memory) Channels() []msg.Channel {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cs := make([]msg.Channel, 0, len(s.seqs))
	for name, n := range s.seqs {
		c := msg.Channel{Name: name, Count: n}
		if idx := s.channels[name]; len(idx) > 0 {
			c.Last = s.at(idx[len(idx)-1]).Time
		}
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b msg.Channel) int { return strings.Compare(a.Name, b.Name) })
	return cs
}

// Evicted returns how many messages the budget made the store drop from
// memory.
func (s *Memory) Evicted() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.evicted
}

// intern returns the stored copy of name, so that the many messages of one
// user or channel share one string.
func (s *Memory) intern(name string) string {
	if v, ok := s.names[name]; ok {
		return v
	}
	if len(s.names) < maxInterned {
		s.names[name] = name
	}
	return name
}

// Len returns the number of messages memory holds.
func (s *Memory) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n - s.first
}

// added returns the index the next message will have: how many were added,
// evicted ones included.
func (s *Memory) added() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}

// Messages returns a copy of the messages held in memory, oldest first.
func (s *Memory) Messages() []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var all []Record
	for _, b := range s.blocks {
		all = append(all, b...)
	}
	return all
}

// Close does nothing: memory is let go with the store.
func (s *Memory) Close() error { return nil }
