package main

import (
	"strings"
	"testing"
)

// The table is derived from benchmark output: medians over rounds, each
// round's ratio of zmqchat to raw, and each target judged by the median of
// those ratios. A round that went badly for one server counts as one
// round: here the rounds' ratios are 1.00, 0.86 and 0.11, so 0.86 is
// judged, where the ratio of the medians would read 0.95 and pass.
func TestTableFromBenchmarkOutput(t *testing.T) {
	in := `cpu: Test CPU
BenchmarkPost/clients=1/server=zmqchat-2   100  1 ns/op  1000 posts/s
BenchmarkPost/clients=1/server=raw-2       100  1 ns/op  1000 posts/s
BenchmarkPost/clients=1/server=zmqchat-2   100  1 ns/op  950 posts/s
BenchmarkPost/clients=1/server=raw-2       100  1 ns/op  1100 posts/s
BenchmarkPost/clients=1/server=zmqchat-2   100  1 ns/op  100 posts/s
BenchmarkPost/clients=1/server=raw-2       100  1 ns/op  900 posts/s
BenchmarkFanout/subscribers=10/server=zmqchat-2  10  1 ns/op  500 deliveries/s  3 lost
BenchmarkFanout/subscribers=10/server=raw-2      10  1 ns/op  500 deliveries/s  0 lost
BenchmarkLatency/rate=2000/server=zmqchat-2  10  1 ns/op  100 p50-µs  400 p99-µs
BenchmarkLatency/rate=2000/server=raw-2      10  1 ns/op  100 p50-µs  200 p99-µs
BenchmarkMemory-2  1000000  1 ns/op  150 B/msg  100 payload-B/msg  170 rss-B/msg
BenchmarkServeAllocs-2  200000  10000 ns/op  540 B/post  6.02 allocs/post
`
	var out strings.Builder
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"medians of 3 rounds",
		"Test CPU",
		"| post throughput, 1 client (posts/s) | 950 | 1,000 | 0.86 [0.11–1.00] | ≥ 0.95 | **no** |",
		"| fan-out to 10: messages lost | 3 | 0 | | 0 | **no** |",
		"| latency post→delivery p99 at 2,000/s (µs) | 400 | 200 | 2.00 [2.00–2.00] | ≤ 1.50 | **no** |",
		"| 150 | 100 (payload) | 1.50 | | |",
		"| the same, as the process holds it: RSS (B) | 170 | 100 (payload) | 1.70 | ≤ payload+64 = 164 | **no** |",
		"| the server's allocations per post in steady state (in-process, pipelined; B allocated) | 6.0 (540 B) | | | 0 | **no** |",
		"5 target(s) missed",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if err := run(strings.NewReader("PASS\n"), &out); err == nil {
		t.Errorf("no error for output without results")
	}
}

// The relays' table judges the server's cost per post behind relays
// against the baseline's.
func TestRelaysTable(t *testing.T) {
	for _, tt := range []struct {
		relays string
		want   string
	}{{"55.5", "| 1,000, behind two relays | 37,565 | 0 | 55.5 | 1.14 | ≤ 1.2, 0 lost | yes |"}, {"60", "| 60.0 | 1.24 | ≤ 1.2, 0 lost | **no** |"}} {
		in := "BenchmarkRelays/direct-10-2  20000  1 ns/op  117019 deliveries/s  0 lost  48.5 server-cpu-µs/post\n" +
			"BenchmarkRelays/relays-1000-2  20000  1 ns/op  37565 deliveries/s  0 lost  " + tt.relays + " server-cpu-µs/post\n"
		var out strings.Builder
		if err := run(strings.NewReader(in), &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("relays at %s µs: no %q in\n%s", tt.relays, tt.want, out.String())
		}
	}
}

// The presence row takes each round's ratio and judges their median.
func TestPresenceRow(t *testing.T) {
	in := `BenchmarkPresence/round-0-2  40000  1 ns/op  50 none-cpu-µs/post  51 present-cpu-µs/post
BenchmarkPresence/round-1-2  40000  1 ns/op  40 none-cpu-µs/post  44 present-cpu-µs/post
BenchmarkPresence/round-2-2  40000  1 ns/op  60 none-cpu-µs/post  60 present-cpu-µs/post
`
	var out strings.Builder
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	if want := "| 50.0 | 51.0 | 1.02 [1.00–1.10] | ≤ 1.05 | yes |"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in\n%s", want, out.String())
	}
}

// The CPU table pairs each round's zmqchat and raw figures, in the order
// they came, and judges the median ratio.
func TestCPUTable(t *testing.T) {
	in := `BenchmarkPost/clients=1/server=zmqchat-2  100  1 ns/op  1000 posts/s  50 server-cpu-µs/post
BenchmarkPost/clients=1/server=raw-2      100  1 ns/op  1000 posts/s  40 server-cpu-µs/post
BenchmarkPost/clients=1/server=raw-2      100  1 ns/op  1000 posts/s  60 server-cpu-µs/post
BenchmarkPost/clients=1/server=zmqchat-2  100  1 ns/op  1000 posts/s  63 server-cpu-µs/post
BenchmarkPost/clients=1/server=zmqchat-2  100  1 ns/op  1000 posts/s  45 server-cpu-µs/post
BenchmarkPost/clients=1/server=raw-2      100  1 ns/op  1000 posts/s  45 server-cpu-µs/post
`
	var out strings.Builder
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	// Rounds: 50/40 = 1.25, 63/60 = 1.05, 45/45 = 1.00.
	if want := "| lockstep posts, 1 client | 50.0 | 45.0 | 1.05 [1.00–1.25] | ≤ 1.15 | yes |"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in\n%s", want, out.String())
	}
}

// The peers' table gives each server's CPU per post against zmqchat's,
// and judges zmqchat's against NATS request/responder's.
func TestPeersCPU(t *testing.T) {
	in := `BenchmarkPeers/clients=1/server=zmqchat-2  100  1 ns/op  1000 posts/s  50 ack-p50-µs  90 ack-p99-µs  0 lost  40 server-cpu-µs/post
BenchmarkPeers/clients=1/server=nats-rr-2  100  1 ns/op  900 posts/s  60 ack-p50-µs  99 ack-p99-µs  0 lost  50 server-cpu-µs/post
BenchmarkPeers/clients=8/server=zmqchat-2  100  1 ns/op  3000 posts/s  50 ack-p50-µs  90 ack-p99-µs  0 lost  30 server-cpu-µs/post
BenchmarkPeers/clients=8/server=nats-rr-2  100  1 ns/op  4000 posts/s  60 ack-p50-µs  99 ack-p99-µs  0 lost  24 server-cpu-µs/post
`
	var out strings.Builder
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| 1 | nats-rr | 900 | 0.90 | 60 | 99 | 0 | 50.0 | 1.25 |",
		"below NATS request/responder's (nats-server and the responder together): 1 clients: yes; 8 clients: **no**;",
		"1 target(s) missed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}
