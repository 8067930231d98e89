package bench

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/proctest"
	"github.com/zmqchat/zmqchat/internal/store"
)

// storedMessages is how many messages BenchmarkStoreFile puts in the file:
// 1,000,000, or BENCH_STORE_N (make bench-store N=5000000).
func storedMessages() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_STORE_N")); err == nil && n > 0 {
		return n
	}
	return 1000000
}

// fill writes n messages of 60-byte bodies to a new store file at path,
// on 10 channels, except for "rare", which has one message in 10,000, all
// in the file's first tenth (so its history is read from the file).
func fill(b *testing.B, path string, n int) {
	b.Helper()
	s, err := store.Open(path, store.Options{}) // made a zmqchat store
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	// Written in one transaction, as no server would: a post a transaction
	// would take minutes.
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare("INSERT INTO messages (seq, channel, username, time, body, chseq) VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	body := strings.Repeat("m", 56)
	seqs := map[string]int{}
	for i := 0; i < n; i++ {
		ch := "ch" + strconv.Itoa(i%10)
		if i%10000 == 0 && i < n/10 {
			ch = "rare"
		}
		seqs[ch]++
		tm := base.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
		if _, err := ins.Exec(i+1, ch, "u"+strconv.Itoa(i%50), tm, body+strconv.Itoa(i%10000), seqs[ch]); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// historyLatency asks ep for HISTORY of 100 of channel 2,000 times on one
// REQ socket, checks each reply, and returns the round trips, sorted.
func historyLatency(b *testing.B, ep string, request []string, rounds int, check func([][]byte)) []time.Duration {
	req, err := zmq.NewSocket(zmq.REQ)
	if err != nil {
		b.Fatal(err)
	}
	defer req.Close()
	req.SetLinger(0)
	req.Connect(ep)
	var lat []time.Duration
	for i := 0; i < rounds; i++ {
		t0 := time.Now()
		if _, err := req.SendMessage(request); err != nil {
			b.Fatal(err)
		}
		r, err := req.RecvMessageBytes(0)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		check(r)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat
}

// rss returns the resident memory of process pid, in bytes (VmRSS).
func rss(b *testing.B, pid int) int64 {
	n, err := proctest.Memory(pid, "VmRSS")
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkStoreFile: with storedMessages() messages in a store file, how
// long mc_server takes from start to serving, its memory (RSS), the file's
// bytes per message, and HISTORY of 100 messages: of a busy channel
// (served from memory) and of a rare one (read from the file). Run once
// (-benchtime 1x): the file takes a while to write.
func BenchmarkStoreFile(b *testing.B) {
	n := storedMessages()
	path := filepath.Join(b.TempDir(), "chat.db")
	fill(b, path, n)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/float64(n), "disk-B/msg")
	b.ReportMetric(float64(n), "messages")

	server := filepath.Join(programs(b), "mc_server")
	start := time.Now()
	cmd := exec.Command(server, "-store", path, "127.0.0.1", "0", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Process.Kill()
	var post string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := banner.FindStringSubmatch(sc.Text()); m != nil {
			post = m[1]
			break
		}
	}
	if post == "" {
		b.Fatal("mc_server did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	b.ReportMetric(time.Since(start).Seconds(), "restart-s")

	var reply100 [][]byte
	for _, ch := range []string{"ch3", "rare", "ALL"} {
		lat := historyLatency(b, post, []string{"HISTORY", ch, "100"}, 2000, func(r [][]byte) {
			if string(r[0]) != "OK" || len(r) != 1+5*100 && ch != "rare" {
				b.Fatalf("HISTORY %s: %d frames", ch, len(r))
			}
			if ch == "ch3" {
				reply100 = r
			}
		})
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "history-"+ch+"-p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "history-"+ch+"-p99-µs")
	}
	// Repairing a gap: the 1,000 messages of ch3 after a number, one page.
	number := strings.Fields(string(reply100[len(reply100)-1]))
	seq, _ := strconv.Atoi(number[1])
	var page [][]byte
	repair := []string{"HISTORY", "ch3", "1000", fmt.Sprintf("after %s %d 0", number[0], seq-1000)}
	lat := historyLatency(b, post, repair, 500, func(r [][]byte) {
		if string(r[0]) != "OK" || len(r) != 1+5*1000 {
			b.Fatalf("HISTORY after: %q", r[:min(len(r), 2)])
		}
		page = r
	})
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "repair-p50-µs")
	raw100 := rawLatency(b, reply100, []string{"HISTORY", "ch3", "100"}, 2000)
	b.ReportMetric(float64(raw100[len(raw100)/2].Microseconds()), "history-raw-p50-µs")
	b.ReportMetric(float64(raw100[len(raw100)*99/100].Microseconds()), "history-raw-p99-µs")
	rawPage := rawLatency(b, page, repair, 500)
	b.ReportMetric(float64(rawPage[len(rawPage)/2].Microseconds()), "repair-raw-p50-µs")
	b.ReportMetric(float64(rss(b, cmd.Process.Pid))/(1<<20), "rss-MiB")
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	storeLookups(b, path)
}

// rawLatency is historyLatency against raw libzmq doing the same socket
// work: a bare REP loop answering every request with reply, from memory,
// in a process of its own, as the server is (this test binary again, see
// rawReplier): in this process it answered about 200 µs sooner at the
// median, and the server looked that much slower.
func rawLatency(b *testing.B, reply [][]byte, request []string, rounds int) []time.Duration {
	file := filepath.Join(b.TempDir(), "reply")
	var buf []byte
	for _, f := range reply {
		buf = append(strconv.AppendInt(buf, int64(len(f)), 10), '\n')
		buf = append(buf, f...)
	}
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "ZMQCHAT_RAW_REPLY="+file)
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ep, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("raw replier: %v", err)
	}
	return historyLatency(b, strings.TrimSpace(ep), request, rounds, func([][]byte) {})
}

// rawReplier is rawLatency's REP, in a process of its own: it answers
// every request with the frames in file (each its length on a line, then
// its bytes), says its endpoint on stdout, and runs until killed.
func rawReplier(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var reply [][]byte
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return fmt.Errorf("reply file %s is not frames", file)
		}
		n, err := strconv.Atoi(string(data[:nl]))
		if err != nil || nl+1+n > len(data) {
			return fmt.Errorf("reply file %s is not frames", file)
		}
		reply, data = append(reply, data[nl+1:nl+1+n]), data[nl+1+n:]
	}
	rep, err := zmq.NewSocket(zmq.REP)
	if err == nil {
		err = rep.Bind("tcp://127.0.0.1:*")
	}
	if err != nil {
		return err
	}
	ep, _ := rep.GetLastEndpoint()
	fmt.Println(ep)
	for {
		if _, err := rep.RecvMessageBytes(0); err == nil {
			rep.SendMessage(reply)
		}
	}
}

// storeLookups measures the same requests to the store in this process:
// what the server's loop spends on each, without the socket work.
func storeLookups(b *testing.B, path string) {
	t0 := time.Now()
	s, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(t0).Seconds(), "open-s")
	defer s.Close()
	for _, ch := range []string{"ch3", "rare", "ALL"} {
		var lat []time.Duration
		for i := 0; i < 2000; i++ {
			t0 := time.Now()
			if _, err := s.History(ch, ch == "ALL", 100); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "lookup-"+ch+"-p99-µs")
	}
}
