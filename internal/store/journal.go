package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"sync"
	"unsafe"
)

// A File's journal holds the posts it has acknowledged that SQLite may not
// have committed yet. A post is appended to it (one write) before its
// reply; a goroutine of the File's own commits what the journal holds to
// SQLite, many posts a transaction, then empties it. A commit of its own
// per post, in the server's loop, cost about 20 µs, where the append
// costs about 1. A server that stops without committing (killed, or its
// disk full) puts what its journal holds into SQLite when it opens the
// file again.
//
// There are two journal files, beside the store: the server appends to
// one while the writer commits what the other holds, then empties it, so
// that emptying never races an append.
type journal struct {
	mu        sync.Mutex
	settled   sync.Cond // committed or failed moved
	files     [2]*os.File
	size      [2]int64 // what each file holds
	cur       int      // the file appended to
	pend      []byte   // the records appended since the writer last took them
	spare     []byte   // pend's memory, back from the writer
	sync      bool     // each append flushed to the disk before its reply
	written   uint64   // the number (All) of the last post appended
	committed uint64   // ... of the last post in SQLite
	failed    error    // the writer's last commit failed: posts are refused
	broken    error    // a failed append could not be cut back: refused for good
	started   int      // commits the writer began
	finished  int      // ... and ended
	wake      chan struct{}
	now       chan struct{}
}

// maxPending is how much the journal holds uncommitted before Add waits
// for the writer: bounds memory if SQLite falls behind.
const maxPending = 32 << 20

// journalNames are the journal files of the store at path.
func journalNames(path string) [2]string {
	return [2]string{path + "-posts-0", path + "-posts-1"}
}

// openJournal opens the store's journal files, emptied: the caller has
// put what they held into SQLite, whose last post is last.
func openJournal(path string, sync bool, last uint64) (*journal, error) {
	j := &journal{sync: sync, written: last, committed: last,
		wake: make(chan struct{}, 1), now: make(chan struct{}, 1)}
	j.settled.L = &j.mu
	for i, name := range journalNames(path) {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
		if err != nil {
			j.close(path)
			return nil, fmt.Errorf("open its journal: %w", unwrapPath(err))
		}
		j.files[i] = f
	}
	return j, nil
}

// add appends r to the journal, on the disk once it returns (flushed
// with sync), for the writer to commit. If the writer's last commit
// failed, or too much waits, it first asks for a commit and waits for it.
func (j *journal) add(r Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.broken != nil {
		return j.broken
	}
	if j.failed != nil || len(j.pend) >= maxPending {
		if err := j.settleLocked(); err != nil {
			return err
		}
	}
	start := len(j.pend)
	j.pend = appendRecord(j.pend, r)
	f := j.files[j.cur]
	_, err := f.Write(j.pend[start:])
	if err == nil && j.sync {
		err = f.Sync()
	}
	if err != nil {
		j.pend = j.pend[:start]
		// Cut what was written of it, so that what follows is read back
		// after a crash; if it cannot be, nothing may follow it.
		if cut := f.Truncate(j.size[j.cur]); cut != nil {
			j.broken = fmt.Errorf("store: its journal could not be cut back after a failed write (%v): posts are refused from now on; restart the server", cut)
		}
		return fmt.Errorf("store: write its journal: %w", err)
	}
	j.size[j.cur] += int64(len(j.pend) - start)
	j.written = r.All
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return nil
}

// settle returns once SQLite holds every post appended, or a commit begun
// after it was called has failed: what reads the database calls it, so
// that the database holds all that was acknowledged.
func (j *journal) settle() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.settleLocked()
}

// settleLocked is settle with j.mu held.
func (j *journal) settleLocked() error {
	asked := j.started
	for j.failed != nil || j.committed < j.written {
		if j.failed != nil && j.finished > asked {
			return fmt.Errorf("store: %w", j.failed)
		}
		select {
		case j.now <- struct{}{}:
		default:
		}
		j.settled.Wait()
	}
	return nil
}

// A batch is what the writer commits in one transaction: records, from
// one journal file, the last numbered last.
type batch struct {
	recs []byte
	file int
	last uint64
}

// take returns the batch the writer is to commit: held, a batch whose
// commit failed, if there is one; else the records appended since the
// writer last took them, and appends go to the other file.
func (j *journal) take(held batch) batch {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.started++
	if len(held.recs) > 0 {
		return held
	}
	b := batch{recs: j.pend, file: j.cur, last: j.written}
	j.pend, j.spare, j.cur = j.spare[:0], nil, j.cur^1
	return b
}

// done records how b's commit ended: its file emptied and its memory
// given back, or the error. It returns what the writer still holds to
// commit: b, if its commit failed.
func (j *journal) done(b batch, err error) (held batch) {
	// Not emptied, the file's records are left for a restart to skip:
	// the database holds them.
	emptied := err == nil && len(b.recs) > 0 && j.files[b.file].Truncate(0) == nil
	j.mu.Lock()
	defer j.mu.Unlock()
	j.finished = j.started
	j.failed = err
	j.settled.Broadcast()
	if err != nil {
		return b
	}
	if emptied {
		j.size[b.file] = 0
	}
	j.committed, j.spare = b.last, b.recs[:0]
	return batch{}
}

// close closes the journal's files and, if every post it took is
// committed, deletes them; else it returns why not.
func (j *journal) close(path string) error {
	for _, f := range j.files {
		if f != nil {
			f.Close()
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed != nil || j.committed < j.written {
		return fmt.Errorf("%d posts not committed: %v", j.written-j.committed, j.failed)
	}
	for _, name := range journalNames(path) {
		os.Remove(name)
	}
	return nil
}

// A record is a post in the journal: a header (a CRC-32C of the rest, and
// the rest's length), then its numbers (All, Seq), the lengths of its
// channel, username and time (a byte each), and its texts. The CRC finds
// a record cut off by a crash of the machine, never acknowledged with
// Sync.
const (
	recordHead  = 8
	recordFixed = 8 + 8 + 3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func appendRecord(b []byte, r Record) []byte {
	start := len(b)
	b = append(b, make([]byte, recordHead)...)
	b = binary.LittleEndian.AppendUint64(b, r.All)
	b = binary.LittleEndian.AppendUint64(b, r.Seq)
	b = append(b, byte(len(r.Channel)), byte(len(r.Username)), byte(len(r.Time)))
	b = append(append(append(append(b, r.Channel...), r.Username...), r.Time...), r.Body...)
	rest := b[start+recordHead:]
	binary.LittleEndian.PutUint32(b[start:], crc32.Checksum(rest, castagnoli))
	binary.LittleEndian.PutUint32(b[start+4:], uint32(len(rest)))
	return b
}

// nextRecord reads the record b starts with, its texts b's own memory;
// ok is false if b does not start with a whole, intact record.
func nextRecord(b []byte) (r Record, rest []byte, ok bool) {
	if len(b) < recordHead+recordFixed {
		return r, b, false
	}
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if n < recordFixed || len(b)-recordHead < n {
		return r, b, false
	}
	body, rest := b[recordHead:recordHead+n], b[recordHead+n:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b) {
		return r, b, false
	}
	r.All, r.Seq = binary.LittleEndian.Uint64(body), binary.LittleEndian.Uint64(body[8:])
	c, u, t := int(body[16]), int(body[17]), int(body[18])
	texts := body[recordFixed:]
	if c+u+t > len(texts) {
		return r, b, false
	}
	r.Channel, r.Username, r.Time = stringOf(texts[:c]), stringOf(texts[c:c+u]), stringOf(texts[c+u:c+u+t])
	r.Body = stringOf(texts[c+u+t:])
	return r, rest, true
}

// stringOf returns b as a string, without a copy: b must not change while
// it is in use.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// records appends to recs the records b holds, and says how many bytes
// at its end are not a whole record.
func records(recs []Record, b []byte) ([]Record, int) {
	for {
		r, rest, ok := nextRecord(b)
		if !ok {
			return recs, len(b)
		}
		recs, b = append(recs, r), rest
	}
}

// readJournal reads the records of the store's journal files, and warns
// of a file whose end is not a whole record.
func readJournal(path string, warn func(string)) ([]Record, error) {
	var recs []Record
	for _, name := range journalNames(path) {
		b, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read its journal: %w", unwrapPath(err))
		}
		var cut int
		if recs, cut = records(recs, b); cut > 0 {
			warn(fmt.Sprintf("store %s: the last %d bytes of %s are not a whole post (a write cut off by a crash of the machine): left out", path, cut, name))
		}
	}
	return recs, nil
}
