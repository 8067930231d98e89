package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// lockFile takes the lock of the store at path: an flock on path-lock,
// beside it, held for the server's life. Not SQLite's own locks, which
// would keep the sqlite3 command (or a backup) from reading; and not on
// the store itself, which a person may delete while the server runs: the
// lock must still keep a second server off the path then.
func lockFile(path string) (*os.File, error) {
	lock, err := os.OpenFile(path+"-lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, unwrapPath(err))
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("store %s is in use by another server: stop it, or give this one another file", path)
		}
		return nil, fmt.Errorf("store %s: lock it: %w", path, err)
	}
	return lock, nil
}

// unlock lets the lock go. The lock file stays: removing it would let a
// server that opened it meanwhile lock a file no longer there.
func unlock(lock *os.File) { lock.Close() }

// fileWatch notices the store file going away or changing under the
// server (deleted, replaced, truncated), before the next post is
// acknowledged into a file nobody will read: a stat per post.
type fileWatch struct {
	path   string
	opened os.FileInfo // the file the server opened
	size   int64       // its size when last looked at: it never shrinks
	broken error       // once noticed, every post is refused
}

func watchFile(path string) (fileWatch, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileWatch{}, fmt.Errorf("store %s: %w", path, unwrapPath(err))
	}
	return fileWatch{path: path, opened: fi, size: fi.Size()}, nil
}

// check returns an error if the file is no longer the one opened, whole;
// the first time, it says so with warn.
func (w *fileWatch) check(warn func(string)) error {
	if w.broken != nil {
		return w.broken
	}
	fi, err := os.Stat(w.path)
	switch {
	case err != nil:
		w.broken = fmt.Errorf("store %s was deleted while the server ran", w.path)
	case !os.SameFile(fi, w.opened):
		w.broken = fmt.Errorf("store %s was replaced by another file while the server ran", w.path)
	case fi.Size() < w.size:
		w.broken = fmt.Errorf("store %s was truncated while the server ran (%d bytes, was %d)", w.path, fi.Size(), w.size)
	default:
		w.size = fi.Size()
		return nil
	}
	warn(w.broken.Error() + ": posts are refused from now on; restart the server to go on (messages held in memory are served meanwhile)")
	return w.broken
}

// valid reports whether a row read from the file is a message as a post is
// checked: a file changed by something other than zmqchat (a damaged
// disk, the sqlite3 command) is never served raw. A bad row is named, the
// first time it is read, and skipped.
func (f *File) valid(seq int64, r Record) bool {
	err := checkRecord(r)
	if err != nil && f.bad.Add(seq) {
		f.warn(fmt.Sprintf("store: row %d is not a valid message (%v): skipped", seq, err))
	}
	return err == nil
}

func checkRecord(r Record) error {
	t, err := msg.ParseTime(r.Time)
	if err != nil {
		return err
	}
	m := msg.Message{Channel: r.Channel, Username: r.Username, Time: t, Body: r.Body}
	mode := msg.SingleRoom
	if r.Channel != "" {
		mode = msg.MultiChannel
	}
	return m.Check(mode)
}

// seqs is the rows already named, so that each is named once; past
// maxNamed, no more are named.
type seqs map[int64]bool

const maxNamed = 100

// Add reports whether seq is newly added.
func (s *seqs) Add(seq int64) bool {
	if *s == nil {
		*s = make(seqs)
	}
	if (*s)[seq] || len(*s) >= maxNamed {
		return false
	}
	(*s)[seq] = true
	return true
}
