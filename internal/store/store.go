// Package store keeps a server's messages, in arrival order, behind one
// interface with two implementations: Memory, the assignment's store,
// within a byte budget; and File, an SQLite file that outlives the
// process, with a Memory as its recent window in front. Both recognize a
// message that a client resent because it missed the reply, and answer
// HISTORY.
package store

import (
	"hash/maphash"
)

// Store keeps a server's messages. One goroutine adds to it.
type Store interface {
	// Add stores r, whose post had the ID id, unless it is a resend of a
	// recent message; it reports whether r was added. Once it returns,
	// r is kept as the store promises (in a File, on the disk).
	Add(id uint64, r Record) (added bool, err error)
	// History returns the n most recent messages of channel, oldest
	// first; all says the channel is every channel (ALL, or the one room
	// of parts 1 to 3).
	History(channel string, all bool, n int) ([]Record, error)
	// Len returns the number of messages stored.
	Len() int
	Close() error
}

// DefaultWindow is how many recent messages a resend is looked for among:
// 2^20, the project's clients' whole retry period (2 × 2.5 s by default)
// at up to 200,000 posts a second, far more than one server loop takes.
const DefaultWindow = 1 << 20

// DefaultBudget is the memory a Memory may hold, by its own count (see
// Size): 384 MiB, three eighths of a server's default memory budget. A
// File keeps only DefaultFileBudget of its newest messages in memory.
const (
	DefaultBudget     = 384 << 20
	DefaultFileBudget = 64 << 20
)

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

// Size is what a message counts against the budget: its text and a fixed
// overhead. Names shared between messages are counted each time, so the
// count errs on the safe side.
func Size(r Record) int64 {
	return int64(len(r.Channel)+len(r.Username)+len(r.Time)+len(r.Body)) + overhead
}

var seed = maphash.MakeSeed()

// ID returns what identifies a post for resends: a hash of its channel,
// username, time and body frames, byte for byte as they came.
func ID(channel, username, time, body []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, f := range [][]byte{channel, username, time} {
		h.Write(f)
		h.WriteByte(0)
	}
	h.Write(body)
	return h.Sum64()
}
