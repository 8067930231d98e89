package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// The store file's identity: SQLite's application_id (the bytes "zmqc")
// and user_version, the schema this code reads and writes. A file of a
// newer schema is refused rather than misread.
const (
	applicationID = 0x7a6d7163
	schema        = 2
)

// ddl creates schema 2: one row per message, seq the order the server
// took them in (its number among all), chseq its number in its channel;
// the index serves HISTORY of one channel. The numbering's identity is
// kept with them, so that numbering goes on after a restart.
const ddl = `
CREATE TABLE messages (
	seq      INTEGER PRIMARY KEY,
	channel  TEXT NOT NULL,
	username TEXT NOT NULL,
	time     TEXT NOT NULL,
	body     TEXT NOT NULL,
	chseq    INTEGER NOT NULL
);
CREATE INDEX messages_by_chseq ON messages (channel, chseq);
CREATE TABLE numbering (id TEXT NOT NULL);
`

// migrate1 turns schema 1, which had no channel numbers, into schema 2:
// each channel's messages are numbered in the order they came.
const migrate1 = `
ALTER TABLE messages ADD COLUMN chseq INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET chseq = n.chseq FROM
	(SELECT seq, row_number() OVER (PARTITION BY channel ORDER BY seq) AS chseq FROM messages) AS n
	WHERE messages.seq = n.seq;
DROP INDEX messages_by_channel;
CREATE INDEX messages_by_chseq ON messages (channel, chseq);
CREATE TABLE numbering (id TEXT NOT NULL);
`

// pageSize is the new file's page size: each post's commit writes its
// pages to the log, and small pages make that write small.
const pageSize = "PRAGMA page_size = 1024;"

// Options are how a store file is kept.
type Options struct {
	// Sync makes every acknowledged post survive a power loss too, at the
	// cost of a disk flush (fsync) per post, of the journal, and one per
	// commit of the writer's. Without it a post
	// survives the process being killed, and a power loss may lose the
	// posts of the last moments, but never corrupts the file.
	Sync bool
	// Budget is what the store may hold in memory (see SetBudget); 0 for
	// DefaultFileBudget.
	Budget int64
	// Window is as for New; 0 for DefaultWindow.
	Window int
	// Warn, if set, is told, a line at a time, of rows that are not valid
	// messages (skipped) and of the file going away under the server.
	Warn func(string)
}

// File is a store in an SQLite file, written by one server at a time,
// with its newest messages in a Memory in front: resends are recognized
// and HISTORY answered from memory when it holds enough.
type File struct {
	recent  *Memory
	path    string    // the store file's; its journal's are beside it
	number  string    // the numbering's identity, from the file
	older   bool      // the file holds messages that recent never held (from before a restart)
	rows    int       // rows in the file when it was opened
	last    int       // the highest seq then
	db      *sql.DB   // the server's loop's connection: it reads
	w       *sql.DB   // the writer's, held as wc
	wc      *sql.Conn // it commits the journal, and checkpoints
	get1    *sql.Stmt
	j       *journal
	batch   []Record // the writer's, reused
	lock    *os.File // flock'd: a second server is refused
	watch   fileWatch
	warn    func(string)
	bad     seqs // rows named as not valid messages
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
}

// checkpointEvery is how often the writer copies SQLite's write-ahead log
// into the database proper (a checkpoint, which flushes both to the
// disk). maxLog is the log's size, in pages, past which the checkpoint
// also empties it. batchEvery is how long the writer lets posts gather
// in the journal before it commits them, after the first: a transaction
// of 64 posts costs each about 4 µs, one of its own about 20, and each
// commit wakes the writer; with 1 ms one lockstep client's server ran at
// 0.72 of raw libzmq, with 5 ms at 0.90 (medians of 5 and 7 rounds).
const (
	checkpointEvery = 250 * time.Millisecond
	maxLog          = 16384 // 16 MiB of 1 KiB pages
	batchEvery      = 5 * time.Millisecond
)

// Open opens (or creates) the store file at path and loads its newest
// messages into memory, up to the budget and the resend window, so that
// a restarted server serves HISTORY and recognizes resends at once. The
// errors are meant for a person: what is wrong and what to do.
func Open(path string, opts Options) (*File, error) {
	f, err := openFile(path, opts.Sync)
	if err != nil {
		return nil, err
	}
	f.recent = New(cmp.Or(opts.Window, DefaultWindow))
	f.recent.SetBudget(cmp.Or(opts.Budget, DefaultFileBudget))
	f.warn = opts.Warn
	if f.warn == nil {
		f.warn = func(string) {}
	}
	if err := f.start(opts.Sync); err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s: put its journal's posts into it: %w", path, err)
	}
	if err := f.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s: read its messages: %w", path, err)
	}
	return f, nil
}

func openFile(path string, sync bool) (*File, error) {
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("store %s: its folder %s does not exist: create it first", path, dir)
		}
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	syncMode := "NORMAL"
	if sync {
		syncMode = "FULL"
	}
	// A connection each for the loop and the writer, one at a time: a
	// connection's settings (the pragmas) then hold for every statement.
	// database/sql never lets two goroutines use a connection at once,
	// so SQLite need not lock one for each call (_mutex=no: a commit of
	// 64 posts took 3.6 µs a post where it took 4.1).
	uri := "file:" + uriPath.Replace(path) + "?_synchronous=" + syncMode + "&_busy_timeout=5000&_mutex=no"
	f := &File{path: path, lock: lock}
	for _, db := range []**sql.DB{&f.db, &f.w} {
		if *db, err = sql.Open("sqlite3", uri+"&_txlock=immediate"); err != nil {
			f.Close()
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		(*db).SetMaxOpenConns(1)
	}
	if err := f.prepare(); err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if f.watch, err = watchFile(path); err != nil {
		f.Close()
		return nil, err
	}
	if f.wc, err = f.w.Conn(context.Background()); err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return f, nil
}

// uriPath escapes what an SQLite URI filename would otherwise take for
// its query or fragment, or an escape.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// prepare checks that the file is a zmqchat store of a schema this code
// knows, or makes an empty file one.
func (f *File) prepare() error {
	var app, version, tables int
	err := f.db.QueryRow("PRAGMA application_id").Scan(&app)
	if err == nil {
		err = f.db.QueryRow("PRAGMA user_version").Scan(&version)
	}
	if err == nil {
		err = f.db.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&tables)
	}
	var se sqlite3.Error
	switch {
	case errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt):
		return errors.New("not a zmqchat store (not an SQLite database): give the server a new file name, or move this file away")
	case err != nil:
		return err
	case app == 0 && tables == 0:
		if err := f.create(pageSize + "BEGIN;" + ddl); err != nil {
			return fmt.Errorf("create its tables: %w", err)
		}
	case app != applicationID:
		return errors.New("not a zmqchat store (an SQLite database of something else): give the server a new file name")
	case version > schema:
		return fmt.Errorf("made by a newer zmqchat (schema %d; this one knows schema %d): run the newer server, or use another file", version, schema)
	case version == 1:
		if err := f.create("BEGIN;" + migrate1); err != nil {
			return fmt.Errorf("number its messages by channel (schema 1 to 2): %w", err)
		}
	}
	if err := f.db.QueryRow("SELECT id FROM numbering").Scan(&f.number); err != nil {
		return fmt.Errorf("read its numbering: %w", err)
	}
	// Write-ahead logging: a commit is one append to the log, readers
	// (the loop, the sqlite3 command) do not block the writer, and a
	// crash loses nothing that was committed. Set only once the file is
	// known to be ours. The writer checkpoints when it chooses (see
	// writes), not when a commit happens to fill the log.
	if _, err := f.db.Exec("PRAGMA journal_mode = WAL"); err != nil {
		return err
	}
	if _, err := f.w.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
		return err
	}
	f.get1, err = f.db.Prepare("SELECT channel, username, time, body, chseq FROM messages WHERE seq = ?")
	return err
}

// create runs ddl, which begins a transaction, gives the file a new
// numbering, and marks it as zmqchat's, of this schema.
func (f *File) create(ddl string) error {
	_, err := f.db.Exec(ddl + fmt.Sprintf("INSERT INTO numbering (id) VALUES ('%s'); PRAGMA application_id = %d; PRAGMA user_version = %d; COMMIT;", newNumbering(), applicationID, schema))
	return err
}

// Channels lists the channels, as its memory knows them: every channel's
// count was read from the file at the start.
func (f *File) Channels() []msg.Channel { return f.recent.Channels() }

// Numbering returns the identity of the file's numbering.
func (f *File) Numbering() string { return f.number }

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Add appends r to the file's journal, unless it is a resend of a recent
// message (read back from the file if memory no longer holds it); then
// holds it in memory. The writer commits it to the database moments
// later.
func (f *File) Add(id uint64, r Record) (Record, bool, error) {
	if err := fits(r); err != nil {
		return Record{}, false, err
	}
	if err := f.watch.check(f.warn); err != nil {
		return Record{}, false, err
	}
	if i, ok := f.recent.windowIndex(id); ok {
		if old, err := f.get(i); err == nil && old.text() == r.text() {
			return old, false, nil
		}
	}
	r = f.recent.numberNext(r)
	if err := f.j.add(r); err != nil {
		return Record{}, false, err
	}
	f.recent.push(id, r)
	return r, true, nil
}

// get returns message i (an index: its seq is i+1), from memory if it
// holds it.
func (f *File) get(i int) (Record, error) {
	if r, ok := f.recent.held(i); ok {
		return r, nil
	}
	r := Record{All: uint64(i) + 1}
	if err := f.j.settle(); err != nil {
		return r, err
	}
	err := f.get1.QueryRow(i+1).Scan(&r.Channel, &r.Username, &r.Time, &r.Body, &r.Seq)
	return r, err
}

// History reads memory when memory holds enough, the file otherwise.
func (f *File) History(channel string, all bool, n int) ([]Record, error) {
	recs, err := f.recent.History(channel, all, n)
	if err != nil || len(recs) == n || (!f.older && f.recent.Evicted() == 0) {
		return recs, err
	}
	return f.history(channel, all, n)
}

// Len returns the number of messages in the file.
func (f *File) Len() int { return f.rows + f.recent.added() - f.last }

// Messages returns a copy of the messages held in memory, oldest first.
func (f *File) Messages() []Record { return f.recent.Messages() }

// Evicted returns how many messages memory dropped, left to the file.
func (f *File) Evicted() int64 { return f.recent.Evicted() }

// history reads the n newest messages of channel (of every channel when
// all), oldest first.
func (f *File) history(channel string, all bool, n int) ([]Record, error) {
	var recs []Record
	var err error
	if all {
		recs, err = f.query("SELECT "+columns+" FROM messages ORDER BY seq DESC LIMIT ?", n)
	} else {
		recs, err = f.query("SELECT "+columns+" FROM messages WHERE channel = ? ORDER BY chseq DESC LIMIT ?", channel, n)
	}
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs, err
}

// After reads memory when it holds every message after seq, the file
// otherwise.
func (f *File) After(channel string, all bool, seq uint64, n int) ([]Record, error) {
	if recs, whole := f.recent.after(channel, all, seq, n); whole {
		return recs, nil
	}
	if all {
		return f.query("SELECT "+columns+" FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", seq, n)
	}
	return f.query("SELECT "+columns+" FROM messages WHERE channel = ? AND chseq > ? ORDER BY chseq LIMIT ?", channel, seq, n)
}

// columns are what query reads of each message.
const columns = "seq, channel, username, time, body, chseq"

// query reads the messages a SELECT of columns returns, in its order,
// leaving out (and naming) rows that are not valid messages.
func (f *File) query(query string, args ...any) ([]Record, error) {
	if err := f.j.settle(); err != nil {
		return nil, err
	}
	rows, err := f.db.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read history: %w", err)
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.All, &r.Channel, &r.Username, &r.Time, &r.Body, &r.Seq); err != nil {
			return nil, fmt.Errorf("store: read history: %w", err)
		}
		if f.valid(int64(r.All), r) {
			recs = append(recs, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read history: %w", err)
	}
	return recs, nil
}

// maxLoad bounds how many messages a restarted server reads back into
// memory: enough for resends over the clients' whole retry period (5 s) at
// the rates one server loop takes, and for every channel's recent history;
// few enough that a server with millions of messages serves again at once
// (make bench-store measures it). Older messages are read from the file
// when asked for.
const maxLoad = 1 << 17

// load reads the file's newest messages into memory, newest first until
// the budget, the window or maxLoad is reached, then holds them oldest
// first.
func (f *File) load() error {
	s := f.recent
	var last sql.NullInt64
	if err := f.db.QueryRow("SELECT max(seq), count(*) FROM messages").Scan(&last, &f.rows); err != nil {
		return err
	}
	recs, err := f.query("SELECT "+columns+" FROM messages ORDER BY seq DESC LIMIT ?", min(s.window.size, maxLoad))
	if err != nil {
		return err
	}
	var size int64
	for i, r := range recs {
		if size += Size(r); size > s.budget && i > 0 {
			recs = recs[:i]
			break
		}
	}
	seqs, err := f.channelSeqs()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seqs = seqs
	s.n = int(last.Int64) - len(recs)
	s.first, f.last = s.n, int(last.Int64)
	f.older = s.n > 0
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		s.hold(r, ID([]byte(r.Channel), []byte(r.Username), []byte(r.Time), []byte(r.Body)))
	}
	return nil
}

// channelSeqs reads each channel's last number.
func (f *File) channelSeqs() (map[string]uint64, error) {
	rows, err := f.db.Query("SELECT channel, max(chseq) FROM messages GROUP BY channel")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seqs := make(map[string]uint64)
	for rows.Next() {
		var channel string
		var seq uint64
		if err := rows.Scan(&channel, &seq); err != nil {
			return nil, err
		}
		seqs[channel] = seq
	}
	return seqs, rows.Err()
}

// Close stops the writer once it has committed what the journal holds,
// empties SQLite's log into the database and closes the file. The journal
// is deleted, unless its last commit failed: then the next start puts its
// posts into the database. Closing it again does nothing.
func (f *File) Close() error {
	var err error
	f.closing.Do(func() {
		if f.stop != nil {
			close(f.stop)
			<-f.done
		}
		if f.wc != nil {
			f.wc.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
			f.wc.Close()
		}
		if f.w != nil {
			f.w.Close()
		}
		if f.db != nil {
			if err = f.db.Close(); err != nil {
				err = fmt.Errorf("close the store: %w", err)
			}
		}
		if f.j != nil {
			if failed := f.j.close(f.path); failed != nil {
				err = fmt.Errorf("close the store: %w; its journal keeps the posts not committed, for the next start", failed)
			}
		}
		unlock(f.lock)
	})
	return err
}
