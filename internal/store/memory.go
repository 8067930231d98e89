package store

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// chunk is how many messages one block of slots holds. The slots grow a
// block at a time, so no append ever copies what is stored, and no more
// than one block is ever spare.
const chunk = 4096

// maxInterned bounds the table of distinct channel and user names that
// the messages read back share; past it, a name read back is a copy of
// its own.
const maxInterned = 1 << 16

// overhead is what a stored message costs besides its text: its slot (24
// bytes), its entries in the resend window (8, and 4 to 16 in the table)
// and in its channel's index (4, and as much again while it grows), and
// its share of a segment's unused end. make bench's memory row checks it.
const overhead = 56

// Memory is the message log in memory, within a byte budget: past it, the
// oldest messages are dropped. It is the store of a server without a file,
// and the recent window in front of a File. It is safe for concurrent use,
// though a server has one goroutine add to it.
//
// A message's texts (channel, username, time, body) are copied once, into
// a textLog; what indexes them (its slot, the resend window, the
// channels' indices) holds numbers, not pointers, so the collector has
// next to nothing to scan however many are kept.
type Memory struct {
	mu      sync.RWMutex
	slots   [][]slot
	text    textLog
	n       int   // messages added, evicted ones included: the next index
	first   int   // the index of the oldest message held in memory
	size    int64 // bytes held, by Size
	budget  int64
	evicted int64
	// Evicting, if set, is called the first time the budget makes the
	// store drop messages it has no file for.
	Evicting func(budget int64)
	names    map[string]string   // interned channel and user names
	channels map[string][]uint32 // each channel's indices held, oldest first (see index)
	seqs     map[string]uint64   // each channel's last number, held or not
	number   string              // the numbering's identity
	window   resends             // the IDs of the last messages, for resends
}

// slot is a message held: where its texts are in the log, and its number
// in its channel (its number in the server's order is its index plus 1).
type slot struct {
	pos  uint64 // channel, username, time and body, back to back
	seq  uint64
	lens uint32 // the lengths of its channel, username and time: a byte each
	body uint32 // the length of its body
}

// parts returns the lengths of the slot's channel, username and time, and
// of all its text.
func (sl *slot) parts() (c, u, t, all int) {
	c, u, t = int(sl.lens&0xff), int(sl.lens>>8&0xff), int(sl.lens>>16&0xff)
	return c, u, t, c + u + t + int(sl.body)
}

// fits says why r cannot be held, if it cannot: each name and the time at
// most 255 bytes, and all its text within a segment of the log (far more
// than a post may have).
func fits(r Record) error {
	if len(r.Channel) > 255 || len(r.Username) > 255 || len(r.Time) > 255 ||
		len(r.Channel)+len(r.Username)+len(r.Time)+len(r.Body) > segSize {
		return fmt.Errorf("a message of %d bytes, or with a name or time over 255, is too long to keep", len(r.Channel)+len(r.Username)+len(r.Time)+len(r.Body))
	}
	return nil
}

// New returns an empty in-memory store that recognizes resends among the
// last window messages, within DefaultBudget (see SetBudget).
func New(window int) *Memory {
	return &Memory{
		names:    make(map[string]string),
		channels: make(map[string][]uint32),
		seqs:     make(map[string]uint64),
		number:   newNumbering(),
		window:   resends{size: max(window, 1)},
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
// an evicted message is new again, as far as memory can tell. r's texts
// are copied: the caller may reuse their memory once Add returns.
func (s *Memory) Add(id uint64, r Record) (Record, bool, error) {
	if err := fits(r); err != nil {
		return Record{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.recentIndex(id); ok && i >= s.first && s.sameText(i, r) {
		r.Seq, r.All = s.slot(i).seq, uint64(i)+1 // the texts are r's: the same
		return r, false, nil
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

// sameText reports whether held message i has r's texts, byte for byte.
func (s *Memory) sameText(i int, r Record) bool {
	sl := s.slot(i)
	c, u, t, all := sl.parts()
	b := s.text.bytes(sl.pos, all)
	return string(b[:c]) == r.Channel && string(b[c:c+u]) == r.Username &&
		string(b[c+u:c+u+t]) == r.Time && string(b[c+u+t:]) == r.Body
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

// windowIndex returns the index of the window's message with ID id, held
// or evicted (a File reads an evicted one back).
func (s *Memory) windowIndex(id uint64) (int, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.recentIndex(id)
}

// recentIndex is windowIndex, with the lock held.
func (s *Memory) recentIndex(id uint64) (int, bool) {
	age, ok := s.window.age(id)
	return s.n - 1 - age, ok
}

// hold adds r, numbered, to memory as the next message, with its ID in the
// window. r must fit (see fits).
func (s *Memory) hold(r Record, id uint64) {
	idx := s.n
	channel := s.intern(r.Channel)
	s.intern(r.Username) // for the messages read back to share
	pos, ok := s.text.add(r.Channel, r.Username, r.Time, r.Body)
	if !ok {
		panic("store: hold of a message that does not fit") // Add and File.Add check first
	}
	if len(s.slots) == 0 || len(s.slots[len(s.slots)-1]) == cap(s.slots[len(s.slots)-1]) {
		s.slots = append(s.slots, make([]slot, 0, chunk))
	}
	last := len(s.slots) - 1
	s.slots[last] = append(s.slots[last], slot{pos: pos, seq: r.Seq,
		lens: uint32(len(r.Channel)) | uint32(len(r.Username))<<8 | uint32(len(r.Time))<<16, body: uint32(len(r.Body))})
	s.n++
	s.window.add(id)
	s.channels[channel] = append(s.channels[channel], uint32(idx))
	s.seqs[channel] = max(s.seqs[channel], r.Seq)
	s.size += Size(r)
	s.evictToBudget()
}

func (s *Memory) evictToBudget() {
	for s.size > s.budget && s.n-s.first > 1 {
		s.evictOldest()
	}
}

// evictOldest drops the oldest message from memory, its block of slots
// once that is empty, and the segments of the log it no longer needs.
func (s *Memory) evictOldest() {
	if s.evicted == 0 && s.Evicting != nil {
		s.Evicting(s.budget)
	}
	sl := s.slots[0][0]
	c, _, _, all := sl.parts()
	s.size -= int64(all) + overhead
	channel := s.name(s.text.bytes(sl.pos, c))
	if idx := s.channels[channel]; len(idx) > 0 && s.index(idx[0]) == s.first {
		if len(idx) == 1 {
			delete(s.channels, channel)
		} else {
			s.channels[channel] = idx[1:]
		}
	}
	s.slots[0] = s.slots[0][1:]
	s.first++
	s.evicted++
	if len(s.slots[0]) == 0 { // a newer block holds the newest message
		s.slots = s.slots[1:]
	}
	oldest := s.text.end
	if s.first < s.n {
		oldest = s.slot(s.first).pos
	}
	s.text.release(oldest)
}

// slot returns message i's slot (an index from Add), which must be held.
// The oldest block may have lost its first slots to the budget, and,
// after a restart, may have started anywhere; the others are full blocks.
func (s *Memory) slot(i int) *slot {
	if i -= s.first; i < len(s.slots[0]) {
		return &s.slots[0][i]
	}
	i -= len(s.slots[0])
	return &s.slots[1+i/chunk][i%chunk]
}

// index returns the index of a held message from its low 32 bits, as a
// channel's index keeps them (half the memory of an int): what memory
// holds spans far fewer than 2^32 indices.
func (s *Memory) index(low uint32) int { return s.first + int(low-uint32(s.first)) }

// at returns message i, which must be held. Its time and body are the
// log's memory, not copies (HISTORY of 1,000 bodies of 16 KiB would
// otherwise copy 16 MiB to send the 1 MiB that fits): good until the
// store is next added to.
func (s *Memory) at(i int) Record {
	sl := s.slot(i)
	c, u, t, all := sl.parts()
	b := s.text.bytes(sl.pos, all)
	return Record{Channel: s.name(b[:c]), Username: s.name(b[c : c+u]), Time: msg.InPlace(b[c+u : c+u+t]),
		Body: msg.InPlace(b[c+u+t:]), Seq: sl.seq, All: uint64(i) + 1}
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
			recs[j] = s.at(s.index(i))
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
		// Message i is numbered i+1 in the server's order.
		from := max(s.first, int(min(seq, uint64(s.n))))
		for i := from; i < s.n && len(recs) < n; i++ {
			recs = append(recs, s.at(i))
		}
		return recs, uint64(s.first) <= seq
	}
	idx := s.channels[channel]
	from := sort.Search(len(idx), func(j int) bool { return s.slot(s.index(idx[j])).seq > seq })
	for _, i := range idx[from:min(len(idx), from+n)] {
		recs = append(recs, s.at(s.index(i)))
	}
	return recs, len(idx) == 0 && s.seqs[channel] <= seq || len(idx) > 0 && s.slot(s.index(idx[0])).seq <= seq+1
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
			c.Last = s.at(s.index(idx[len(idx)-1])).Time
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
// user or channel share one string; past maxInterned names, a copy of its
// own (name may be in memory its caller reuses).
func (s *Memory) intern(name string) string {
	if v, ok := s.names[name]; ok {
		return v
	}
	name = strings.Clone(name)
	if len(s.names) < maxInterned {
		s.names[name] = name
	}
	return name
}

// name returns the string of a name read back from the log: the stored
// copy if it was interned.
func (s *Memory) name(b []byte) string {
	if v, ok := s.names[string(b)]; ok {
		return v
	}
	return string(b)
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
	all := make([]Record, 0, s.n-s.first)
	for i := s.first; i < s.n; i++ {
		r := s.at(i)
		r.Time, r.Body = strings.Clone(r.Time), strings.Clone(r.Body)
		all = append(all, r)
	}
	return all
}

// Close does nothing: memory is let go with the store.
func (s *Memory) Close() error { return nil }
