package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// numbers says each record's channel, Seq and All: "dev:1/1 ops:1/2".
func numbers(recs []Record) string {
	s := ""
	for i, r := range recs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s:%d/%d", r.Channel, r.Seq, r.All)
	}
	return s
}

// Each message is numbered in its channel and among all, from 1, and a
// resend keeps its numbers.
func TestMessagesAreNumbered(t *testing.T) {
	for name, s := range map[string]Store{"memory": New(DefaultWindow), "file": open(t, filepath.Join(t.TempDir(), "f.db"), Options{})} {
		t.Run(name, func(t *testing.T) {
			for i, ch := range []string{"dev", "ops", "dev", "dev", "ops"} {
				add(s, on(ch, i))
			}
			r := rec(on("dev", 2))
			if got, added, err := s.Add(idOf(r), r); added || err != nil || got.Seq != 2 || got.All != 3 {
				t.Errorf("a resend: %+v, added %v, %v; want its first numbers, 2 and 3", got, added, err)
			}
			got, _ := s.History("", true, 10)
			if want := "dev:1/1 ops:1/2 dev:2/3 dev:3/4 ops:2/5"; numbers(got) != want {
				t.Errorf("numbers %q, want %q", numbers(got), want)
			}
			if len(s.Numbering()) != 16 {
				t.Errorf("numbering %q", s.Numbering())
			}
		})
	}
}

// After returns what came after a number, oldest first: in a channel by
// its numbers, among all by the server's, from memory or, for what memory
// dropped, from the file; a memory-only store returns what it still holds,
// whose numbers say what it dropped.
func TestAfter(t *testing.T) {
	// Room for 9 of the last messages, whatever a message's overhead.
	one := Size(rec(on("dev", 52)))
	budget := 9*one + one/2
	mem := New(DefaultWindow)
	file := open(t, filepath.Join(t.TempDir(), "f.db"), Options{Budget: budget})
	for _, s := range []Store{mem, file} {
		for i := 0; i < 60; i++ {
			add(s, on([]string{"dev", "ops", "dev"}[i%3], i))
		}
	}
	mem.SetBudget(budget)
	for _, tt := range []struct {
		s          Store
		channel    string
		all        bool
		after      uint64
		n          int
		want, name string
	}{
		{file, "dev", false, 37, 3, "dev:38/57 dev:39/58 dev:40/60", "a channel, from memory"},
		{file, "dev", false, 2, 2, "dev:3/4 dev:4/6", "a channel, from the file"},
		{file, "", true, 56, 10, "dev:38/57 dev:39/58 ops:20/59 dev:40/60", "all, from memory"},
		{file, "", true, 0, 2, "dev:1/1 ops:1/2", "all, from the file"},
		{file, "ops", false, 20, 5, "", "nothing after"},
		{mem, "dev", false, 2, 2, "dev:35/52 dev:36/54", "memory only: what it holds"},
		{mem, "", true, 0, 1, "dev:35/52", "memory only, all"},
	} {
		got, err := tt.s.After(tt.channel, tt.all, tt.after, tt.n)
		if err != nil || numbers(got) != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, numbers(got), err, tt.want)
		}
	}
}

// A restarted server numbers on from where the file left off, under the
// same numbering; a new file, or memory, numbers anew.
func TestNumberingOutlivesTheServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s := open(t, path, Options{})
	add(s, on("dev", 0))
	add(s, on("ops", 1))
	numbering := s.Numbering()
	s.Close()
	again := open(t, path, Options{Budget: 1})
	add(again, on("ops", 2))
	add(again, on("new", 3))
	got, _ := again.History("", true, 10)
	if again.Numbering() != numbering || numbers(got) != "dev:1/1 ops:1/2 ops:2/3 new:1/4" {
		t.Errorf("after a restart: %q under %s; want ops:2/3 new:1/4 under %s", numbers(got), again.Numbering(), numbering)
	}
	a, b := New(1), New(1)
	if other := open(t, filepath.Join(t.TempDir(), "g.db"), Options{}); other.Numbering() == numbering || a.Numbering() == b.Numbering() {
		t.Error("two stores share a numbering")
	}
}

// A file of schema 1, from before numbering, is numbered by channel in
// the order its messages came, once, and keeps them all.
func TestSchema1IsNumbered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`CREATE TABLE messages (seq INTEGER PRIMARY KEY, channel TEXT NOT NULL, username TEXT NOT NULL, time TEXT NOT NULL, body TEXT NOT NULL);
		CREATE INDEX messages_by_channel ON messages (channel, seq);` + fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 1;", applicationID))
	if err != nil {
		t.Fatal(err)
	}
	for i, ch := range []string{"dev", "ops", "dev"} {
		r := rec(on(ch, i))
		db.Exec("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", i+1, r.Channel, r.Username, r.Time, r.Body)
	}
	db.Close()
	s := open(t, path, Options{})
	add(s, on("dev", 3))
	got, _ := s.History("", true, 10)
	if numbers(got) != "dev:1/1 ops:1/2 dev:2/3 dev:3/4" {
		t.Errorf("schema 1, numbered: %q", numbers(got))
	}
	s.Close()
	again := open(t, path, Options{})
	if got, _ := again.After("dev", false, 1, 5); numbers(got) != "dev:2/3 dev:3/4" {
		t.Errorf("after a second start: %q", numbers(got))
	}
}

// Channels lists every channel posted to, by name, with its count and
// its last message's time while memory holds it; after a restart, the
// counts come from the file.
func TestChannels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s := open(t, path, Options{})
	for i, ch := range []string{"ops", "dev", "dev"} {
		add(s, on(ch, i))
	}
	got := s.Channels()
	if len(got) != 2 || got[0].Name != "dev" || got[0].Count != 2 || got[0].Last != rec(on("dev", 2)).Time || got[1].Name != "ops" || got[1].Count != 1 {
		t.Fatalf("channels: %+v", got)
	}
	s.Close()
	again := open(t, path, Options{Budget: 1}) // holds only the newest
	if got := again.Channels(); len(got) != 2 || got[0].Count != 2 || got[1].Count != 1 || got[1].Last != "" {
		t.Errorf("channels after a restart: %+v", got)
	}
}
