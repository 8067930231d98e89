package store

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyStore copies the store at path, as a crash would leave it, to a
// new folder, and returns its path there.
func copyStore(t *testing.T, path string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), filepath.Base(path))
	for _, suffix := range []string{"", "-wal", "-shm", "-posts-0", "-posts-1"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			continue
		}
		if err := os.WriteFile(to+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// rows counts the messages the database at path holds, as another
// program reading it sees them.
func rows(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM messages").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// holdWriteLock has another program take SQLite's write lock on the
// store at path, which keeps the writer from committing until it is let
// go (Rollback).
func holdWriteLock(t *testing.T, path string) *sql.Tx {
	t.Helper()
	other, err := sql.Open("sqlite3", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// state reads what j holds uncommitted, and the numbers of the last post
// appended and the last committed.
func state(j *journal) (pending int, written, committed uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.pend), j.written, j.committed
}

// A post is acknowledged once it is in the journal; the database may not
// have it yet. A server killed then (here, its files copied while another
// program holds SQLite's write lock, so the writer cannot commit) leaves
// the posts in the journal, and the next start puts them in the
// database, in order, numbered as they were, resends still recognized.
func TestJournalKeepsWhatWasNotCommitted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := open(t, path, Options{})
	add(s, on("dev", 1))
	add(s, on("ops", 1))
	s.j.settle()

	tx := holdWriteLock(t, path)
	for i := 2; i <= 4; i++ {
		add(s, on("dev", i))
	}
	crashed := copyStore(t, path)
	tx.Rollback()
	if n := rows(t, crashed); n != 2 {
		t.Fatalf("the database held %d rows while the writer was kept out, want 2", n)
	}

	var said []string
	again, err := Open(crashed, Options{Warn: func(w string) { said = append(said, w) }})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if len(said) != 1 || !strings.Contains(said[0], "3 posts acknowledged before the server stopped were in its journal") {
		t.Errorf("said %q, want the 3 posts put in the database named", said)
	}
	if got, _ := again.History("dev", false, 10); bodies(got) != "dev1 dev2 dev3 dev4" || got[3].Seq != 4 || got[3].All != 5 {
		t.Errorf("history after the restart: %q, %+v", bodies(got), got)
	}
	if add(again, on("dev", 3)) {
		t.Error("a resend of a post from the journal was stored again")
	}
	if n := rows(t, crashed); n != 5 {
		t.Errorf("the database holds %d rows after the restart, want 5", n)
	}
}

// What the writer commits another program reads moments later, without
// the server stopping; once closed, the journal files are gone.
func TestJournalIsCommittedAndDeleted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := open(t, path, Options{})
	for i := 0; i < 100; i++ {
		add(s, on("dev", i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for rows(t, path) != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s the database holds %d of 100 posts", rows(t, path))
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range journalNames(path) {
		if _, err := os.Stat(name); err == nil {
			t.Errorf("%s is still there after Close", name)
		}
	}
}

// A record cut off by a crash of the machine (a write half done) is left
// out and named; the records before it are read; damage anywhere in a
// record is found by its CRC.
func TestJournalRecordsCutOrDamaged(t *testing.T) {
	var b []byte
	for i := 1; i <= 3; i++ {
		r := rec(on("dev", i))
		r.All, r.Seq = uint64(i), uint64(i)
		b = appendRecord(b, r)
	}
	whole := len(b)
	got, cut := records(nil, b)
	if len(got) != 3 || cut != 0 || got[2].Body != "dev3" || got[2].All != 3 || got[2].Channel != "dev" {
		t.Fatalf("read %+v, %d bytes left", got, cut)
	}
	each := whole / 3
	changed := append([]byte{}, b...)
	changed[each+recordHead+recordFixed+1] ^= 1
	for _, tt := range []struct {
		name string
		b    []byte
		want int
	}{
		{"cut in its header", b[:2*each+3], 2},
		{"cut in its body", b[:whole-5], 2},
		{"a byte of the second changed", changed, 1},
	} {
		if got, cut := records(nil, tt.b); len(got) != tt.want || cut == 0 {
			t.Errorf("%s: read %d records, %d bytes left; want %d and the rest left", tt.name, len(got), cut, tt.want)
		}
	}

	path := filepath.Join(t.TempDir(), "chat.db")
	open(t, path, Options{}).Close()
	os.WriteFile(journalNames(path)[0], b[:whole-5], 0o600)
	var said []string
	s, err := Open(path, Options{Warn: func(w string) { said = append(said, w) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != 2 || len(said) != 2 || !strings.Contains(said[0], "are not a whole post") {
		t.Errorf("Len %d, said %q; want 2, the cut named", s.Len(), said)
	}
}

// A journal that does not follow its file (another store's, or one a
// crash of the machine left with a hole) is refused with what to do, and
// the files are left as they were.
func TestJournalThatDoesNotFollowIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := open(t, path, Options{})
	add(s, on("dev", 1))
	s.Close()
	var b []byte
	for _, n := range []uint64{2, 4} {
		r := rec(on("dev", int(n)))
		r.All, r.Seq = n, n
		b = appendRecord(b, r)
	}
	name := journalNames(path)[1]
	os.WriteFile(name, b, 0o600)
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "does not follow it: after its post 2 comes post 4") || !strings.Contains(err.Error(), "move the journal away") {
		t.Errorf("Open with a journal that skips post 3: %v", err)
	}
	if after, _ := os.ReadFile(name); string(after) != string(b) {
		t.Error("the journal was changed")
	}
	if n := rows(t, path); n != 1 {
		t.Errorf("the database holds %d rows, want the 1 it had", n)
	}
}

// An append that fails is cut back, so that what follows it is read
// after a crash; one that cannot be cut back (here, a file the server
// may not write to at all) refuses every post after it.
func TestJournalThatCannotBeCutBackRefusesPosts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := open(t, path, Options{})
	add(s, on("dev", 1))
	// Both files, whichever the writer has the server append to.
	s.j.mu.Lock()
	writable := s.j.files
	for i, f := range writable {
		readOnly, err := os.Open(f.Name())
		if err != nil {
			s.j.mu.Unlock()
			t.Fatal(err)
		}
		defer readOnly.Close()
		s.j.files[i] = readOnly
	}
	s.j.mu.Unlock()
	for i, want := range []string{"write its journal", "could not be cut back"} {
		r := rec(on("dev", 2+i))
		if _, _, err := s.Add(idOf(r), r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("post %d: %v, want an error saying %q", i+2, err, want)
		}
	}
	s.j.mu.Lock()
	s.j.files = writable
	s.j.mu.Unlock()
	if r := rec(on("dev", 9)); addErr(s, r) == nil {
		t.Error("a post after the journal broke was taken")
	}
	if s.Len() != 1 {
		t.Errorf("Len %d, want the 1 post taken before", s.Len())
	}
}

func addErr(s Store, r Record) error {
	_, _, err := s.Add(idOf(r), r)
	return err
}

// Past maxPending uncommitted, a post waits for the writer's commit
// rather than let the journal's memory grow: here the writer is kept out
// by another program's write lock, and the post is taken once it goes.
func TestJournalBoundsWhatWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := open(t, path, Options{})
	tx := holdWriteLock(t, path)
	body := strings.Repeat("x", 16000)
	n := 0
	for ; ; n++ {
		if pending, _, _ := state(s.j); pending >= maxPending {
			break
		}
		r := Record{Channel: "dev", Username: "ann", Time: "2026-12-06T10:00:00Z", Body: fmt.Sprint(n, body)}
		if err := addErr(s, r); err != nil {
			t.Fatalf("post %d: %v", n, err)
		}
	}
	_, waiting, _ := state(s.j) // the posts appended, none committed
	// The other program lets go while the post waits.
	go tx.Rollback()
	r := Record{Channel: "dev", Username: "ann", Time: "2026-12-06T10:00:00Z", Body: "one more"}
	if err := addErr(s, r); err != nil {
		t.Fatalf("the post past the bound: %v", err)
	}
	if _, _, committed := state(s.j); committed < waiting {
		t.Errorf("the post past %d bytes uncommitted (%d posts) was taken with %d of them committed: it did not wait", maxPending, n, committed)
	}
	if s.Len() != n+1 {
		t.Errorf("Len %d, want %d", s.Len(), n+1)
	}
}
