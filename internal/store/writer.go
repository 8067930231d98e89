package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// start puts into the database the posts its journal holds that the
// database does not, empties the journal and starts the writer.
func (f *File) start(sync bool) error {
	last, err := f.replay()
	if err != nil {
		return err
	}
	if f.j, err = openJournal(f.path, sync, last); err != nil {
		return err
	}
	f.stop, f.done = make(chan struct{}), make(chan struct{})
	go f.writes()
	return nil
}

// replay commits the posts in the journal that the database does not
// hold: acknowledged, but not committed before the server stopped (it was
// killed, or its disk was full). They must follow the database's last
// post, one by one, as a journal's do. It returns the number of the last
// post.
func (f *File) replay() (uint64, error) {
	var top sql.NullInt64
	if err := f.db.QueryRow("SELECT max(seq) FROM messages").Scan(&top); err != nil {
		return 0, err
	}
	recs, err := readJournal(f.path, f.warn)
	if err != nil {
		return 0, err
	}
	slices.SortFunc(recs, func(a, b Record) int { return cmp.Compare(a.All, b.All) })
	last, missing := uint64(top.Int64), recs[:0]
	for _, r := range recs {
		switch {
		case r.All <= last: // committed before the stop
		case r.All == last+1:
			missing, last = append(missing, r), r.All
		default:
			names := journalNames(f.path)
			return 0, fmt.Errorf("its journal (%s) does not follow it: after its post %d comes post %d. The journal is another store's, or the machine crashed without -sync; move the journal away to start without its posts", strings.Join(names[:], ", "), last, r.All)
		}
	}
	if err := f.insertAll(missing); err != nil {
		return 0, err
	}
	if len(missing) > 0 {
		f.warn(fmt.Sprintf("store %s: %d posts acknowledged before the server stopped were in its journal, not its database: they are in the database now", f.path, len(missing)))
	}
	return last, nil
}

// writes commits what the journal takes, a batch at a time, and
// checkpoints every checkpointEvery, until the file is closed. It is the
// one goroutine that writes to the database.
func (f *File) writes() {
	defer close(f.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	var held batch
	for {
		select {
		case <-f.stop:
			f.commit(held)
			return
		case <-tick.C:
			f.checkpoint()
			continue
		case <-f.j.now:
		case <-f.j.wake:
			select { // let more posts join the batch, unless asked for it now
			case <-time.After(batchEvery):
			case <-f.j.now:
			case <-f.stop:
			}
		}
		held = f.commit(held)
	}
}

// commit commits a batch from the journal: held, if the last commit
// failed, and returns what is still to commit.
func (f *File) commit(held batch) batch {
	b := f.j.take(held)
	var err error
	if len(b.recs) > 0 {
		f.batch, _ = records(f.batch[:0], b.recs)
		err = f.insertAll(f.batch)
	}
	return f.j.done(b, err)
}

// insertAll commits recs in one transaction, through the driver itself:
// database/sql's work per statement cost a fifth of each insert (4.0 µs a
// post against 3.1, in transactions of 64).
func (f *File) insertAll(recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	return f.wc.Raw(func(dc any) error {
		c := dc.(*sqlite3.SQLiteConn)
		st, err := c.Prepare("INSERT INTO messages (seq, channel, username, time, body, chseq) VALUES (?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := c.Exec("BEGIN IMMEDIATE", nil); err != nil {
			return err
		}
		insert := st.(driver.StmtExecContext)
		args := []driver.NamedValue{{Ordinal: 1}, {Ordinal: 2}, {Ordinal: 3}, {Ordinal: 4}, {Ordinal: 5}, {Ordinal: 6}}
		for _, r := range recs {
			args[0].Value, args[1].Value, args[2].Value = int64(r.All), r.Channel, r.Username
			args[3].Value, args[4].Value, args[5].Value = r.Time, r.Body, int64(r.Seq)
			if _, err = insert.ExecContext(context.Background(), args); err != nil {
				break
			}
		}
		if err == nil {
			_, err = c.Exec("COMMIT", nil)
		}
		if err != nil && !c.AutoCommit() {
			c.Exec("ROLLBACK", nil)
		}
		return err
	})
}

// checkpoint copies SQLite's log into the database without holding the
// writer's next commit back (PASSIVE); only a log past maxLog is emptied
// (TRUNCATE), which waits for the loop's reads.
func (f *File) checkpoint() {
	ctx := context.Background()
	var busy, log, copied int
	if err := f.wc.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied); err == nil && log > maxLog {
		f.wc.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
}
