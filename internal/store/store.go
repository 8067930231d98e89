// Package store keeps a server's messages, in arrival order, behind one
// interface with two implementations: Memory, the assignment's store,
// within a byte budget; and File, an SQLite file that outlives the
// process, with a Memory as its recent window in front. Both recognize a
// message that a client resent because it missed the reply, and answer
// HISTORY.
package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"unsafe"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// Store keeps a server's messages. One goroutine adds to it.
type Store interface {
	// Add numbers r and stores it, whose post had the ID id, unless it is
	// a resend of a recent message; it returns r numbered and reports
	// whether it was added. Once it returns, r is kept as the store
	// promises (in a File, on the disk).
	Add(id uint64, r Record) (numbered Record, added bool, err error)
	// History returns the n most recent messages of channel, oldest
	// first; all says the channel is every channel (ALL, or the one room
	// of parts 1 to 3). The records' texts may be the store's own
	// memory, as After's are: good until the store is next added to.
	History(channel string, all bool, n int) ([]Record, error)
	// After returns, oldest first, up to n messages of channel numbered
	// after seq: by their channel's numbers, or with all by the server's
	// (All). What the store no longer keeps is skipped: the numbers say
	// how much.
	After(channel string, all bool, seq uint64, n int) ([]Record, error)
	// Numbering identifies the store's numbering: a store that starts
	// again from nothing numbers anew, under another identity.
	Numbering() string
	// Channels lists the channels posted to, by name, with their counts
	// and the times of their last messages that memory holds.
	Channels() []msg.Channel
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

// Record is a stored message: its publication's frames, as they were
// published (the time as the client wrote it), so that HISTORY returns
// exactly what subscribers received, and its numbers: Seq in its channel,
// All in the server's order, each from 1.
type Record struct {
	Channel, Username, Time, Body string
	Seq, All                      uint64
}

// AppendFrames appends r's publication frames to dst, number its fifth.
// The first four are r's texts' memory, not copies: they are to be sent,
// not changed.
func (r *Record) AppendFrames(dst [][]byte, number []byte) [][]byte {
	return append(dst, bytesOf(r.Channel), bytesOf(r.Username), bytesOf(r.Time), bytesOf(r.Body), number)
}

// bytesOf returns s's bytes, without a copy: they must not be changed.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// text is r without its numbers: what a resend is compared by.
func (r Record) text() Record {
	return Record{Channel: r.Channel, Username: r.Username, Time: r.Time, Body: r.Body}
}

// newNumbering returns a numbering identity no other store has: 16 hex
// digits from the system's random source.
func newNumbering() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Size is what a message counts against the budget: its text and a fixed
// overhead. Names shared between messages are counted each time, so the
// count errs on the safe side.
func Size(r Record) int64 {
	return int64(len(r.Channel)+len(r.Username)+len(r.Time)+len(r.Body)) + overhead
}

var seed = maphash.MakeSeed()

// idSample is how much of each end of a long body an ID hashes.
const idSample = 128

// ID returns what identifies a post for resends: a hash of its channel,
// username, time and body frames, byte for byte as they came; of a body
// longer than 2*idSample, its length and its two ends. A store compares
// every byte of a post whose ID it holds before it takes it for a resend,
// so an ID only has to tell posts apart nearly always, and hashing all of
// a 16 KiB body cost a tenth of the server's time for such posts.
func ID(channel, username, time, body []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, f := range [][]byte{channel, username, time} {
		h.Write(f)
		h.WriteByte(0)
	}
	n := len(body)
	if n <= 2*idSample {
		h.Write(body)
		return h.Sum64()
	}
	h.Write(body[:idSample])
	h.Write(body[n-idSample:])
	var length [8]byte
	binary.LittleEndian.PutUint64(length[:], uint64(n))
	h.Write(length[:])
	return h.Sum64()
}

// Both stores are Stores.
var (
	_ Store = (*Memory)(nil)
	_ Store = (*File)(nil)
)
