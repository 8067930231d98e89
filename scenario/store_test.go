package scenario

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// SIGKILL in the middle of a 20-client load, then a restart on the same
// file: every post that was acknowledged is there, once, in each client's
// order; HISTORY returns it; and a resend of one is recognized.
func TestStoreSurvivesKill(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "chat.db")
	s := startServerWith(t, "mc_server", "-store", file)
	const clients, posts = 20, 100
	acked := make([][][]string, clients) // each client's acknowledged posts' frames
	var total atomic.Int64
	var killOnce sync.Once
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := dialPost(t, s, wait/5)
			defer req.Close()
			for i := 0; i < posts; i++ {
				f := post(fmt.Sprint("ch", c%4), fmt.Sprint("user", c), fmt.Sprintf("c%02d-%03d", c, i))
				if _, err := req.SendMessage(f); err != nil {
					return
				}
				r, err := req.RecvMessage(0)
				if err != nil {
					return // the server is gone
				}
				if r[0] != "OK" {
					t.Errorf("post %s: %q", f[4], r)
					return
				}
				acked[c] = append(acked[c], f)
				if total.Add(1) == clients*posts/4 {
					killOnce.Do(func() { s.signal(syscall.SIGKILL) })
				}
			}
		}()
	}
	wg.Wait()
	killOnce.Do(func() { s.signal(syscall.SIGKILL) })
	s.wait()
	t.Logf("%d posts acknowledged before the kill", total.Load())

	again := startServerWith(t, "mc_server", "-store", file)
	line := again.err.waitFor(t, "mc_server", "keeping every message in "+file)
	stored := map[string]int{}
	var order [4][]string
	for ch := 0; ch < 4; ch++ {
		order[ch] = history(t, again, fmt.Sprint("ch", ch), 1000)
		for _, b := range order[ch] {
			stored[b]++
		}
	}
	for c, mine := range acked {
		pos := -1
		for _, f := range mine {
			if stored[f[4]] != 1 {
				t.Fatalf("acknowledged post %s is stored %d times", f[4], stored[f[4]])
			}
			i := indexOf(order[c%4], f[4])
			if i < pos {
				t.Fatalf("post %s is out of its client's order", f[4])
			}
			pos = i
		}
	}
	// A client that missed the last reply resends to the new server: it
	// is recognized, not stored again.
	if last := acked[0]; len(last) > 0 {
		f := last[len(last)-1]
		if r := rawPost(t, again.host, again.post, f...); r[0] != "OK" {
			t.Fatalf("resend: %q", r)
		}
		if got := history(t, again, "ch0", 1000); len(got) != len(order[0]) {
			t.Errorf("a resend after the restart was stored again: %d messages, had %d", len(got), len(order[0]))
		}
	}
	// The banner and the summary count what the file holds.
	n := len(order[0]) + len(order[1]) + len(order[2]) + len(order[3])
	if !strings.Contains(line, fmt.Sprintf("(%d messages there now)", n)) {
		t.Errorf("banner %q, want %d messages", line, n)
	}
	again.interrupt()
	again.out.waitFor(t, "mc_server", fmt.Sprintf("stopped; %d messages stored", n))
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// A store file the server cannot use stops it at start, with one line
// saying why and what to do, and exit status 1; the file is left as it was.
func TestStoreBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte(strings.Repeat("my notes\n", 200)), 0o600)
	newer := filepath.Join(dir, "newer.db")
	db, err := sql.Open("sqlite3", newer)
	if err != nil {
		t.Fatal(err)
	}
	// What a later zmqchat might write: its application id, schema 3.
	for _, q := range []string{"CREATE TABLE messages (seq INTEGER PRIMARY KEY)", "PRAGMA application_id = 2053992803", "PRAGMA user_version = 3"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	inUse := filepath.Join(dir, "chat.db")
	startServerWith(t, "mc_server", "-store", inUse)

	for _, tt := range []struct{ path, want string }{
		{notes, "not a zmqchat store (not an SQLite database)"},
		{newer, "made by a newer zmqchat (schema 3; this one knows schema 2)"},
		{inUse, "is in use by another server"},
		{filepath.Join(dir, "missing", "chat.db"), "does not exist: create it first"},
	} {
		before, _ := os.ReadFile(tt.path)
		p := run(t, "mc_server", "-store", tt.path, "127.0.0.1", "0", "0")
		lines := strings.Split(strings.TrimSpace(p.err.String()), "\n")
		if p.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
			t.Errorf("-store %s: exit %d, stderr %q; want 1 and one line saying %q", filepath.Base(tt.path), p.code, p.err, tt.want)
		}
		if after, _ := os.ReadFile(tt.path); string(after) != string(before) {
			t.Errorf("-store %s: the file was changed", filepath.Base(tt.path))
		}
	}
}

// A full disk (here a file size limit, which fails writes the same way)
// costs posts, never the server: each is refused with ERR and a reason and
// is not acknowledged (nor published: see the server's unit test), HISTORY
// is still answered, and the server still stops cleanly.
func TestStoreFullDisk(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "chat.db")
	// ulimit -f counts 512-byte blocks in sh: 256 KiB.
	p := start(t, "/bin/sh", "-c", `ulimit -f 512 && exec "$0" "$@"`, filepath.Join(binDir, "mc_server"), "-store", file, "127.0.0.1", "0", "0")
	s, err := serving(p, "127.0.0.1")
	if err != nil {
		t.Fatalf("mc_server did not start: %v\n%s", err, p.err)
	}
	sub := start(t, "mc_client", s.args("dev", "eve")...)
	subscribed(t, s, "dev", sub)
	before := len(history(t, s, "dev", 1000)) // the probes
	body := strings.Repeat("x", 16000)
	var ok, refused int
	for i := 0; i < 100 && refused < 3; i++ {
		r := rawPost(t, s.host, s.post, post("dev", "ann", fmt.Sprint(i, body))...)
		switch {
		case r[0] == "OK" && refused == 0:
			ok++
		case r[0] == "ERR" && strings.Contains(r[1], "not stored, try again later"):
			refused++
		default:
			t.Fatalf("post %d after %d OK, %d refused: %.100q", i, ok, refused, r)
		}
	}
	if refused == 0 {
		t.Fatalf("%d posts of 16 KB were all taken under a 256 KiB limit", ok)
	}
	if got := history(t, s, "dev", 1000); len(got) != before+ok {
		t.Errorf("history has %d messages; %d were acknowledged", len(got)-before, ok)
	}
	sub.out.waitCount(t, "mc_client", "ann: ", ok)
	s.interrupt()
}

// The store file deleted while the server runs: the next post is refused,
// not acknowledged into a file nobody will read, the server says why, and
// a second server on the same path is still refused.
func TestStoreFileDeletedUnderTheServer(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "chat.db")
	s := startServerWith(t, "mc_server", "-store", file)
	mustOK(t, s, "dev", "ann", "before")
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	mustERR(t, s, "was deleted while the server ran", post("dev", "ann", "into the void")...)
	s.err.waitFor(t, "mc_server", "store "+file+" was deleted while the server ran: posts are refused from now on")
	p := run(t, "mc_server", "-store", file, "127.0.0.1", "0", "0")
	if p.code != 1 || !strings.Contains(p.err.String(), "is in use by another server") {
		t.Errorf("a second server on the deleted file's path: exit %d, %s", p.code, p.err)
	}
}

// A store file with zmqchat's mark but rows written by something else
// (escapes, a 3 MB body, an ALL channel, invalid UTF-8, a bad time): the
// server names each bad row and serves only the valid ones, and a
// client's history shows them.
func TestStoreFileWithHostileRows(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "chat.db")
	s := startServerWith(t, "mc_server", "-store", file)
	mustOK(t, s, "dev", "ann", "a real one")
	s.signal(syscall.SIGTERM)
	s.wait()
	db, err := sql.Open("sqlite3", file)
	if err != nil {
		t.Fatal(err)
	}
	tm := "2026-11-25T07:30:00Z"
	for i, body := range []string{"\x1b[2Jcleared", strings.Repeat("x", 3<<20), "to all", "bad \xff", "when?"} {
		channel, user, when := "dev", "eve", tm
		switch i {
		case 2:
			channel = "ALL"
		case 4:
			when = "not a time"
		}
		if _, err := db.Exec("INSERT INTO messages (seq, channel, username, time, body, chseq) VALUES (?, ?, ?, ?, ?, ?)", 10+i, channel, user, when, body, 10+i); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s = startServerWith(t, "mc_server", "-store", file)
	s.err.waitCount(t, "mc_server", "is not a valid message", 5)
	c := start(t, "mc_client", append([]string{"-history", "20"}, s.args("dev", "bob")...)...)
	c.out.waitFor(t, "mc_client", "--- live from here ---")
	if got := strings.Join(chatLines(c.out, "ann"), "|"); got != "ann: a real one" {
		t.Errorf("history shown: %q", got)
	}
	if n := len(chatLines(c.out, "eve")); n != 0 {
		t.Errorf("%d of the bad rows shown", n)
	}
}
