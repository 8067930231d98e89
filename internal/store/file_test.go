package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func open(t *testing.T, path string, opts Options) *File {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// What a store file holds survives a restart: HISTORY from it, resends
// recognized, and new messages numbered after the old.
func TestFileOutlivesTheServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := open(t, path, Options{})
	for i := 0; i < 10; i++ {
		add(s, on("dev", i))
	}
	add(s, on("ops", 0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	again := open(t, path, Options{})
	if again.Len() != 11 {
		t.Fatalf("reopened: Len %d, want 11", again.Len())
	}
	if got, _ := again.History("dev", false, 3); bodies(got) != "dev7 dev8 dev9" {
		t.Errorf("history after a restart: %q", bodies(got))
	}
	if add(again, on("dev", 9)) || add(again, on("dev", 0)) {
		t.Error("a resend after a restart was stored again")
	}
	add(again, on("dev", 10))
	if got, _ := again.History("", true, 2); bodies(got) != "ops0 dev10" {
		t.Errorf("after a restart and a post: %q", bodies(got))
	}
	// Committed by the writer moments later; surely once closed.
	again.Close()
	var n int
	db, _ := sql.Open("sqlite3", path)
	defer db.Close()
	if err := db.QueryRow("SELECT count(*) FROM messages WHERE seq = 12 AND body = 'dev10'").Scan(&n); err != nil || n != 1 {
		t.Errorf("the new message is not row 12 of the file: %d, %v", n, err)
	}
}

// With more in the file than in memory, HISTORY reads the file; a resend
// of a message no longer in memory is still recognized.
func TestFileServesWhatMemoryDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	per := Size(rec(on("dev", 1)))
	s := open(t, path, Options{Budget: 5 * per})
	for i := 1; i <= 20; i++ {
		add(s, on("dev", i))
		add(s, on("ops", i))
	}
	if len(s.Messages()) > 5 {
		t.Fatalf("memory holds %d, budget 5", len(s.Messages()))
	}
	if got, _ := s.History("dev", false, 4); bodies(got) != "dev17 dev18 dev19 dev20" {
		t.Errorf("history past memory: %q", bodies(got))
	}
	if got, _ := s.History("", true, 8); bodies(got) != "dev17 ops17 dev18 ops18 dev19 ops19 dev20 ops20" {
		t.Errorf("all past memory: %q", bodies(got))
	}
	if add(s, on("dev", 2)) {
		t.Error("a resend of a message only in the file was stored again")
	}
	if s.Evicted() == 0 || s.Len() != 40 {
		t.Errorf("Evicted %d, Len %d; want some, 40", s.Evicted(), s.Len())
	}
	// Reopened with the same budget: memory holds the newest, the file the rest.
	s.Close()
	again := open(t, path, Options{Budget: 5 * per})
	if got, _ := again.History("ops", false, 20); len(got) != 20 || got[0].Body != "ops1" {
		t.Errorf("after a restart: %d messages from %q", len(got), got[0].Body)
	}
}

// Files that are not a zmqchat store, or not of this schema, or in use,
// are refused with a reason a person can act on, and left as they were.
func TestFileRefusals(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 100)), 0o600)
	other := filepath.Join(dir, "other.db")
	db, _ := sql.Open("sqlite3", other)
	db.Exec("CREATE TABLE t (x)")
	db.Close()
	newer := filepath.Join(dir, "newer.db")
	s := open(t, newer, Options{})
	s.Close()
	db, _ = sql.Open("sqlite3", newer)
	db.Exec(fmt.Sprintf("PRAGMA user_version = %d", schema+1))
	db.Close()
	inUse := filepath.Join(dir, "in-use.db")
	open(t, inUse, Options{})

	for _, tt := range []struct{ path, want string }{
		{notDB, "not a zmqchat store (not an SQLite database)"},
		{other, "not a zmqchat store (an SQLite database of something else)"},
		{newer, "made by a newer zmqchat (schema 3; this one knows schema 2)"},
		{inUse, "is in use by another server"},
		{filepath.Join(dir, "no", "such", "chat.db"), "does not exist: create it first"},
	} {
		before, _ := os.ReadFile(tt.path)
		_, err := Open(tt.path, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
			t.Errorf("Open(%s) = %v, want an error naming it and saying %q", filepath.Base(tt.path), err, tt.want)
		}
		if after, _ := os.ReadFile(tt.path); string(after) != string(before) {
			t.Errorf("Open(%s) changed the file", filepath.Base(tt.path))
		}
	}
}

// Each post is a row with its own place in the order; a restart reads
// them back in that order, and a file reopened with a budget smaller than
// one message still holds the newest.
func TestFileRowsAndTinyBudget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := open(t, path, Options{})
	for i := 0; i <= 6; i++ {
		add(s, on("dev", i))
	}
	s.Close()
	// Closed cleanly, the file holds everything and its log is emptied.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the write-ahead log still holds %d bytes after Close", fi.Size())
	}
	db, _ := sql.Open("sqlite3", path)
	rows, err := db.Query("SELECT seq, body FROM messages ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var seq int
		var body string
		rows.Scan(&seq, &body)
		got = append(got, fmt.Sprint(seq, "=", body))
	}
	rows.Close()
	db.Close()
	if strings.Join(got, " ") != "1=dev0 2=dev1 3=dev2 4=dev3 5=dev4 6=dev5 7=dev6" {
		t.Errorf("rows %q", got)
	}
	// A budget of exactly the last two messages holds both.
	two := Size(rec(on("dev", 5))) + Size(rec(on("dev", 6)))
	exact := open(t, path, Options{Budget: two})
	if held := exact.Messages(); len(held) != 2 {
		t.Errorf("with a budget of exactly two messages a restart holds %d", len(held))
	}
	exact.Close()
	tiny := open(t, path, Options{Budget: 1})
	if held := tiny.Messages(); len(held) != 1 || held[0].Body != "dev6" {
		t.Errorf("with a tiny budget a restart holds %v", held)
	}
	if got, _ := tiny.History("dev", false, 3); bodies(got) != "dev4 dev5 dev6" {
		t.Errorf("history from the file: %q", bodies(got))
	}
}

// A file name with the characters an SQLite URI reserves is taken as it is.
func TestFileNameWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat?#%20.db")
	s := open(t, path, Options{})
	add(s, on("dev", 1))
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the store is not at %s: %v", path, err)
	}
	if again := open(t, path, Options{}); again.Len() != 1 {
		t.Errorf("reopened %s: %d messages, want 1", path, again.Len())
	}
}

// Sync is SQLite's synchronous=FULL: each commit flushed to the disk;
// without it, NORMAL.
func TestFileSync(t *testing.T) {
	for _, tt := range []struct {
		sync bool
		want int
	}{{false, 1}, {true, 2}} {
		s := open(t, filepath.Join(t.TempDir(), "chat.db"), Options{Sync: tt.sync})
		var got int
		if err := s.wc.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&got); err != nil || got != tt.want {
			t.Errorf("Sync %v: synchronous = %d (%v), want %d", tt.sync, got, err, tt.want)
		}
	}
}

// The file going away or changing under the server is noticed before the
// next post is acknowledged: deleted, replaced or truncated, posts are
// refused and it is said once; and the lock, beside the file, still keeps
// a second server off the path.
func TestFileNoticesItsFileChanging(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		change     func(path string)
	}{
		{"deleted", "was deleted while the server ran", func(path string) { os.Remove(path) }},
		{"replaced", "was replaced by another file", func(path string) {
			os.Rename(path, path+".old")
			os.WriteFile(path, []byte("something else"), 0o600)
		}},
		{"truncated", "was truncated while the server ran", func(path string) { os.Truncate(path, 0) }},
	} {
		path := filepath.Join(t.TempDir(), "chat.db")
		var said []string
		s, err := Open(path, Options{Warn: func(w string) { said = append(said, w) }})
		if err != nil {
			t.Fatal(err)
		}
		add(s, on("dev", 1))
		s.Close() // checkpointed: the file itself holds the row
		if s, err = Open(path, Options{Warn: func(w string) { said = append(said, w) }}); err != nil {
			t.Fatal(err)
		}
		tt.change(path)
		for i := 0; i < 2; i++ {
			if _, _, err := s.Add(idOf(rec(on("dev", 2+i))), rec(on("dev", 2+i))); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: a post after the change: %v, want an error saying it %s", tt.name, err, tt.want)
			}
		}
		if len(said) != 1 || !strings.Contains(said[0], "posts are refused from now on") {
			t.Errorf("%s: said %q, want it said once", tt.name, said)
		}
		if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "in use by another server") {
			t.Errorf("%s: a second server on the path: %v, want it refused", tt.name, err)
		}
		s.Close()
	}
}

// Rows that are not valid messages (written by something other than
// zmqchat) are named once and skipped, at a restart and in history read
// from the file; the count of messages is the rows'.
func TestFileSkipsRowsThatAreNotMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := open(t, path, Options{})
	add(s, on("dev", 1))
	s.Close()
	db, _ := sql.Open("sqlite3", path)
	tm := "2026-11-25T07:30:00Z"
	for _, row := range [][]any{
		{5, "dev", "eve", tm, "\x1b[2Jcleared", 2},
		{6, "dev", "eve", tm, strings.Repeat("x", 3<<20), 3},
		{7, "ALL", "eve", tm, "to all", 1},
		{8, "dev", "e\xffe", tm, "bad name", 4},
		{9, "dev", "eve", "not a time", "when?", 5},
		{13, "dev", "ann", tm, "fine", 6},
	} {
		if _, err := db.Exec("INSERT INTO messages (seq, channel, username, time, body, chseq) VALUES (?, ?, ?, ?, ?, ?)", row...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	var said []string
	again, err := Open(path, Options{Warn: func(w string) { said = append(said, w) }})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, _ := again.History("dev", false, 20); bodies(got) != "dev1 fine" {
		t.Errorf("history: %q", bodies(got))
	}
	if got, _ := again.History("", true, 20); bodies(got) != "dev1 fine" {
		t.Errorf("history of every channel: %q", bodies(got))
	}
	if len(said) != 5 || !strings.Contains(said[0], "row 9 is not a valid message") {
		t.Errorf("said %q, want the five bad rows named once each", said)
	}
	if again.Len() != 7 {
		t.Errorf("Len %d, want the 7 rows", again.Len())
	}
}
