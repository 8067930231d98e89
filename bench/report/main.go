// Command report turns make bench's benchmark output (go test -bench, over
// several rounds) into a table: for each workload zmqchat's median, raw
// libzmq's median, their ratio and the target. It reads the output on
// standard input; the same output is benchstat's input.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// key names one series: a workload, a server and a unit.
type key struct{ workload, server, unit string }

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	r, err := parse(in)
	if err != nil {
		return err
	}
	missed := 0
	defer func() { fmt.Fprintf(out, "\n%d target(s) missed\n", missed) }()
	storeFile(out, r.med, &missed)
	relays(out, r.med, &missed)
	presence(out, r, &missed)
	peers(out, r.med, r.cpu, &missed)
	if r.rounds == 0 {
		return nil
	}
	against(out, r, &missed)
	cpuAgainst(out, r, &missed)
	stored(out, r, &missed)
	keyed(out, r.med)
	return nil
}

// results are the benchmarks' values by series, over the rounds.
type results struct {
	values map[key][]float64
	cpu    string
	rounds int
}

func parse(in io.Reader) (*results, error) {
	r := &results{values: map[key][]float64{}}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		text := sc.Text()
		if c, ok := strings.CutPrefix(text, "cpu: "); ok {
			r.cpu = c
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		workload, server := m[1], "zmqchat"
		if i := strings.Index(workload, "/server="); i >= 0 {
			workload, server = workload[:i], workload[i+len("/server="):]
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			k := key{workload, server, fields[i+1]}
			r.values[k] = append(r.values[k], v)
			if k.workload == "Post/clients=1" && k.unit == "posts/s" && server == "raw" {
				r.rounds++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.values) == 0 {
		return nil, fmt.Errorf("no benchmark results on standard input")
	}
	return r, nil
}

// med is the median of a series, and false if there is none.
func (r *results) med(w, s, u string) (float64, bool) {
	v := r.values[key{w, s, u}]
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

// against prints zmqchat against raw libzmq, each workload with its
// target, judged by the median of the rounds' ratios (see paired).
func against(out io.Writer, r *results, missed *int) {
	med := r.med
	fmt.Fprintf(out, "zmqchat against raw libzmq: medians of %d rounds, each server its own process, load from one process; ratios paired per round; %s\n\n", r.rounds, r.cpu)
	fmt.Fprintln(out, "| workload | zmqchat | raw libzmq | ratio, median [min–max] | target | met |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---|---|")
	row := func(label, w, unit string, higherBetter bool, target float64, targetText string) {
		z, raw := r.values[key{w, "zmqchat", unit}], r.values[key{w, "raw", unit}]
		ratio, text, ok := paired(z, raw)
		if !ok {
			return
		}
		met := ratio >= target
		if !higherBetter {
			met = ratio <= target
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", label, num(median(z)), num(median(raw)), text, targetText, yes(met, targetText, missed))
	}
	row("post throughput, 1 client (posts/s)", "Post/clients=1", "posts/s", true, 0.95, "≥ 0.95")
	row("post throughput, 8 clients (posts/s)", "Post/clients=8", "posts/s", true, 0.95, "≥ 0.95")
	row("16 KB posts, 1 client (posts/s)", "PostLarge/clients=1", "posts/s", true, 0.9, "≥ 0.90")
	row("16 KB posts, 8 clients (posts/s)", "PostLarge/clients=8", "posts/s", true, 0.9, "≥ 0.90")
	row("pipelined posts, 16 in flight, 1 client (posts/s)", "Pipelined/clients=1", "posts/s", true, 0.9, "≥ 0.90")
	row("pipelined posts, 16 in flight, 8 clients (posts/s)", "Pipelined/clients=8", "posts/s", true, 0.9, "≥ 0.90")
	for _, n := range []string{"1", "10"} {
		w := "Fanout/subscribers=" + n
		row("fan-out to "+n+" subscriber(s) (deliveries/s)", w, "deliveries/s", true, 0.9, "≥ 0.90")
		zl, _ := med(w, "zmqchat", "lost")
		rl, ok := med(w, "raw", "lost")
		if ok {
			fmt.Fprintf(out, "| fan-out to %s: messages lost | %s | %s | | 0 | %s |\n", n, num(zl), num(rl), yes(zl == 0, "0", missed))
		}
	}
	row("latency post→delivery p50 at 2,000/s (µs)", "Latency/rate=2000", "p50-µs", false, 1e9, "")
	row("latency post→delivery p99 at 2,000/s (µs)", "Latency/rate=2000", "p99-µs", false, 1.5, "≤ 1.50")
	memory(out, med, missed)
}

// cpuAgainst prints each server process's CPU time per post, zmqchat's
// against raw libzmq's, paired round by round (each round runs both, in
// turn, on the same machine): the median of the rounds' ratios and their
// range, which moves less with what else the machine does than the
// throughputs' ratio.
func cpuAgainst(out io.Writer, r *results, missed *int) {
	const unit = "server-cpu-µs/post"
	if _, ok := r.med("Post/clients=1", "zmqchat", unit); !ok {
		return
	}
	fmt.Fprintf(out, "\nEach server process's CPU time per post (from /proc, all its threads), zmqchat ÷ raw libzmq paired per round (%d rounds):\n\n", r.rounds)
	fmt.Fprintln(out, "| workload | zmqchat (µs/post, median) | raw libzmq (µs/post, median) | ratio, median [min–max] | target | met |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---|---|")
	for _, w := range []struct{ label, workload string }{
		{"lockstep posts, 1 client", "Post/clients=1"}, {"lockstep posts, 8 clients", "Post/clients=8"},
		{"16 KB posts, 1 client", "PostLarge/clients=1"}, {"16 KB posts, 8 clients", "PostLarge/clients=8"},
		{"pipelined, 1 client", "Pipelined/clients=1"}, {"pipelined, 8 clients", "Pipelined/clients=8"},
	} {
		z, raw := r.values[key{w.workload, "zmqchat", unit}], r.values[key{w.workload, "raw", unit}]
		if ratio, text, ok := paired(z, raw); ok {
			fmt.Fprintf(out, "| %s | %.1f | %.1f | %s | ≤ 1.15 | %s |\n", w.label, median(z), median(raw), text, yes(ratio <= 1.15, "x", missed))
		}
	}
}

// memory prints the server's memory per stored message.
func memory(out io.Writer, med func(w, s, u string) (float64, bool), missed *int) {
	b, ok := med("Memory", "zmqchat", "B/msg")
	if !ok {
		return
	}
	p, _ := med("Memory", "zmqchat", "payload-B/msg")
	fmt.Fprintf(out, "| server memory per stored message, 1M messages: Go heap (B) | %.0f | %.0f (payload) | %.2f | | |\n", b, p, b/p)
	if r, ok := med("Memory", "zmqchat", "rss-B/msg"); ok {
		limit := p + 64
		fmt.Fprintf(out, "| the same, as the process holds it: RSS (B) | %.0f | %.0f (payload) | %.2f | ≤ payload+64 = %.0f | %s |\n",
			r, p, r/p, limit, yes(r <= limit, "x", missed))
	}
	if a, ok := med("ServeAllocs", "zmqchat", "allocs/post"); ok {
		bytes, _ := med("ServeAllocs", "zmqchat", "B/post")
		fmt.Fprintf(out, "| the server's allocations per post in steady state (in-process, pipelined; B allocated) | %.1f (%.0f B) | | | 0 | %s |\n", a, bytes, yes(a < 0.5, "x", missed))
	}
}

// stored prints the same workloads against mc_server -store FILE.
func stored(out io.Writer, res *results, missed *int) {
	if _, ok := res.med("Post/clients=1", "stored", "posts/s"); !ok {
		return
	}
	fmt.Fprintln(out, "\nwith a store file (-store), against raw libzmq, same rounds, ratios paired per round:")
	fmt.Fprintln(out, "\n| workload | -store | raw libzmq | ratio, median [min–max] | target | met |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---|---|")
	for _, r := range []struct {
		label, w, unit string
		target         float64
		text           string
	}{
		{"post throughput, 1 client (posts/s)", "Post/clients=1", "posts/s", 0.85, "≥ 0.85"},
		{"post throughput, 8 clients (posts/s)", "Post/clients=8", "posts/s", 0.85, "≥ 0.85"},
		{"fan-out to 10 subscriber(s) (deliveries/s)", "Fanout/subscribers=10", "deliveries/s", 0, ""},
		{"latency post→delivery p99 at 2,000/s (µs)", "Latency/rate=2000", "p99-µs", 0, ""},
	} {
		st, raw := res.values[key{r.w, "stored", r.unit}], res.values[key{r.w, "raw", r.unit}]
		if ratio, text, ok := paired(st, raw); ok {
			fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", r.label, num(median(st)), num(median(raw)), text, r.text, yes(ratio >= r.target, r.text, missed))
		}
	}
}

// keyed prints keyed mode's cost: the same workloads against mc_server
// with CurveZMQ and its allow-list, as ratios to plain mc_server.
func keyed(out io.Writer, med func(w, s, u string) (float64, bool)) {
	if _, ok := med("Post/clients=1", "keyed", "posts/s"); !ok {
		return
	}
	fmt.Fprintln(out, "\nkeyed mode (CurveZMQ, allow-list) against plain zmqchat, same rounds:")
	fmt.Fprintln(out, "\n| workload | keyed | plain | keyed ÷ plain |")
	fmt.Fprintln(out, "|---|---:|---:|---:|")
	for _, r := range []struct{ label, w, unit string }{
		{"post throughput, 1 client (posts/s)", "Post/clients=1", "posts/s"},
		{"post throughput, 8 clients (posts/s)", "Post/clients=8", "posts/s"},
		{"fan-out to 1 subscriber(s) (deliveries/s)", "Fanout/subscribers=1", "deliveries/s"},
		{"fan-out to 10 subscriber(s) (deliveries/s)", "Fanout/subscribers=10", "deliveries/s"},
		{"latency post→delivery p50 at 2,000/s (µs)", "Latency/rate=2000", "p50-µs"},
		{"latency post→delivery p99 at 2,000/s (µs)", "Latency/rate=2000", "p99-µs"},
	} {
		k, ok1 := med(r.w, "keyed", r.unit)
		z, ok2 := med(r.w, "zmqchat", r.unit)
		if ok1 && ok2 {
			fmt.Fprintf(out, "| %s | %s | %s | %.2f |\n", r.label, num(k), num(z), k/z)
		}
	}
}

// storeFile prints BenchmarkStoreFile's figures: a server restarted on a
// file of many messages.
func storeFile(out io.Writer, med func(w, s, u string) (float64, bool), missed *int) {
	restart, ok := med("StoreFile", "zmqchat", "restart-s")
	if !ok {
		return
	}
	v := func(unit string) float64 { x, _ := med("StoreFile", "zmqchat", unit); return x }
	n := v("messages")
	fmt.Fprintf(out, "mc_server -store FILE restarted on a file of %s messages (60-byte bodies, 10 channels):\n\n", num(n))
	fmt.Fprintln(out, "| measure | value | target | met |")
	fmt.Fprintln(out, "|---|---:|---|---|")
	fmt.Fprintf(out, "| start to serving (s) | %.2f | ≤ 2 | %s |\n", restart, yes(restart <= 2, "x", missed))
	rss := v("rss-MiB")
	fmt.Fprintf(out, "| memory once serving, RSS (MiB) | %.0f | < 300 | %s |\n", rss, yes(rss < 300, "x", missed))
	fmt.Fprintf(out, "| file size per message (B) | %.0f | | |\n", v("disk-B/msg"))
	raw99 := v("history-raw-p99-µs")
	fmt.Fprintf(out, "| raw libzmq answering the same 501 frames from memory (REP): p50 / p99 round trip (µs) | %s / %s | | |\n", num(v("history-raw-p50-µs")), num(raw99))
	for _, ch := range []struct{ name, label string }{{"ch3", "a busy channel (from memory)"}, {"rare", "a channel last heard of long ago (from the file)"}, {"ALL", "ALL"}} {
		p99 := v("history-" + ch.name + "-p99-µs")
		fmt.Fprintf(out, "| HISTORY of 100, %s: p50 / p99 round trip (µs); p99 ÷ raw | %s / %s; %.2f | ≤ 1.2 | %s |\n",
			ch.label, num(v("history-"+ch.name+"-p50-µs")), num(p99), p99/raw99, yes(p99/raw99 <= 1.2, "x", missed))
		fmt.Fprintf(out, "| the same, the store's own part: p99 (µs) | %s | | |\n", num(v("lookup-"+ch.name+"-p99-µs")))
	}
	repair, raw := v("repair-p50-µs"), v("repair-raw-p50-µs")
	fmt.Fprintf(out, "| repairing a gap: the 1,000 messages of a channel after a number, one page (from memory): p50 round trip (µs); per message repaired (µs); ÷ raw libzmq answering the same 5,001 frames | %s; %.2f; %.2f | | |\n", num(repair), repair/1000, repair/raw)
	fmt.Fprintln(out)
}

// relays prints BenchmarkRelays' figures: fan-out to 1,000 subscribers
// directly and behind two relays, and what each costs the server.
func relays(out io.Writer, med func(w, s, u string) (float64, bool), missed *int) {
	base, ok := med("Relays/direct-10", "zmqchat", "server-cpu-µs/post")
	if !ok {
		return
	}
	fmt.Fprintln(out, "Fan-out to 1,000 subscribers over 100 channels (10 on each), 4 posters, directly and behind two relays (500 subscribers each); the baseline is 10 direct subscribers to every channel:")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| subscribers | deliveries/s | lost | server CPU per post (µs) | ÷ baseline | target | met |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---|---|")
	for _, c := range []struct{ name, label string }{{"direct-10", "10, direct (baseline)"}, {"direct-1000", "1,000, direct"}, {"relays-1000", "1,000, behind two relays"}} {
		v := func(u string) float64 { x, _ := med("Relays/"+c.name, "zmqchat", u); return x }
		cpu, lost := v("server-cpu-µs/post"), v("lost")
		target, met := "", ""
		if c.name == "relays-1000" {
			target, met = "≤ 1.2, 0 lost", yes(cpu/base <= 1.2 && lost == 0, "x", missed)
		}
		fmt.Fprintf(out, "| %s | %s | %.0f | %.1f | %.2f | %s | %s |\n", c.label, num(v("deliveries/s")), lost, cpu, cpu/base, target, met)
	}
	fmt.Fprintln(out)
}

// presence prints BenchmarkPresence's figures: the server's CPU time per
// post with 1,000 clients present against none, the two side by side in
// each round, as the median of the rounds' ratios with their range.
func presence(out io.Writer, r *results, missed *int) {
	none, some := r.series("Presence/", "none-cpu-µs/post"), r.series("Presence/", "present-cpu-µs/post")
	ratio, text, ok := paired(some, none)
	if !ok {
		return
	}
	fmt.Fprintf(out, "Presence: the server's CPU per post (4 posters, 10 subscribers) with 1,000 clients present (each saying HERE every 10 s) ÷ with none, two servers side by side, over %d rounds:\n\n", min(len(some), len(none)))
	fmt.Fprintln(out, "| none (µs/post, median) | 1,000 present (µs/post, median) | ratio, median [min–max] | target | met |")
	fmt.Fprintln(out, "|---:|---:|---:|---|---|")
	fmt.Fprintf(out, "| %.1f | %.1f | %s | ≤ 1.05 | %s |\n\n", median(none), median(some), text, yes(ratio <= 1.05, "x", missed))
}

// series is every value of unit in the workloads that begin with prefix,
// by workload name, then in the order they came.
func (r *results) series(prefix, unit string) []float64 {
	var keys []key
	for k := range r.values {
		if strings.HasPrefix(k.workload, prefix) && k.unit == unit {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].workload < keys[j].workload })
	var v []float64
	for _, k := range keys {
		v = append(v, r.values[k]...)
	}
	return v
}

// paired returns the median of the rounds' ratios of a to b, and it with
// their range as the tables show it; false if there is none. Each round
// runs both servers, one after the other, so a ratio within a round
// moves less with the machine's other work than a ratio of medians.
func paired(a, b []float64) (float64, string, bool) {
	ratios := pairedRatios(a, b)
	if len(ratios) == 0 {
		return 0, "", false
	}
	m := median(ratios)
	return m, fmt.Sprintf("%.2f [%.2f–%.2f]", m, slices.Min(ratios), slices.Max(ratios)), true
}

// pairedRatios divides each of a by the b of the same round (the series'
// values come in the rounds' order).
func pairedRatios(a, b []float64) []float64 {
	ratios := make([]float64, min(len(a), len(b)))
	for i := range ratios {
		ratios[i] = a[i] / b[i]
	}
	return ratios
}

func median(v []float64) float64 {
	v = slices.Sorted(slices.Values(v))
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// peers prints BenchmarkPeers' figures (make bench-peers): the chat
// workload against each contender, as medians and as ratios to zmqchat.
func peers(out io.Writer, med func(w, s, u string) (float64, bool), cpu string, missed *int) {
	if _, ok := med("Peers/clients=1", "zmqchat", "posts/s"); !ok {
		return
	}
	fmt.Fprintf(out, "the chat workload (lockstep clients, each post acknowledged, one subscriber receiving all) against each server: medians; %s\n\n", cpu)
	fmt.Fprintln(out, "| clients | server | posts/s | ÷ zmqchat | ack p50 (µs) | ack p99 (µs) | lost | server CPU per post (µs) | ÷ zmqchat |")
	fmt.Fprintln(out, "|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, clients := range []string{"1", "8", "64"} {
		w := "Peers/clients=" + clients
		z, ok := med(w, "zmqchat", "posts/s")
		if !ok {
			continue
		}
		for _, server := range []string{"zmqchat", "raw", "nats-rr", "nats-pub", "redis"} {
			v, ok := med(w, server, "posts/s")
			if !ok {
				continue
			}
			p50, _ := med(w, server, "ack-p50-µs")
			p99, _ := med(w, server, "ack-p99-µs")
			lost, _ := med(w, server, "lost")
			c, _ := med(w, server, "server-cpu-µs/post")
			zc, _ := med(w, "zmqchat", "server-cpu-µs/post")
			fmt.Fprintf(out, "| %s | %s | %s | %.2f | %s | %s | %s | %.1f | %.2f |\n", clients, server, num(v), v/z, num(float64(int(p50+0.5))), num(float64(int(p99+0.5))), num(lost), c, c/zc)
		}
	}
	fmt.Fprintln(out)
	below := ""
	for _, clients := range []string{"1", "8", "64"} {
		w := "Peers/clients=" + clients
		z, ok1 := med(w, "zmqchat", "server-cpu-µs/post")
		n, ok2 := med(w, "nats-rr", "server-cpu-µs/post")
		if ok1 && ok2 {
			below += fmt.Sprintf(" %s clients: %s;", clients, yes(z < n, "x", missed))
		}
	}
	if below != "" {
		fmt.Fprintf(out, "zmqchat's server CPU per post below NATS request/responder's (nats-server and the responder together):%s\n\n", below)
	}
}

func yes(met bool, target string, missed *int) string {
	switch {
	case target == "":
		return ""
	case met:
		return "yes"
	default:
		*missed++
		return "**no**"
	}
}

func num(v float64) string {
	if v >= 1000 {
		s := strconv.FormatFloat(v, 'f', 0, 64)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
