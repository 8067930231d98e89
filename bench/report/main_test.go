package main

import (
	"strings"
	"testing"
)

// The table is derived from benchmark output: medians over rounds, ratios
// of the medians, and each target judged.
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
BenchmarkMemory-2  1000000  1 ns/op  150 B/msg  100 payload-B/msg
`
	var out strings.Builder
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"medians of 3 rounds",
		"Test CPU",
		"| post throughput, 1 client (posts/s) | 950 | 1,000 | 0.95 | ≥ 0.95 | yes |",
		"| fan-out to 10: messages lost | 3 | 0 | | 0 | **no** |",
		"| latency post→delivery p99 at 2,000/s (µs) | 400 | 200 | 2.00 | ≤ 1.50 | **no** |",
		"| 150 | 100 (payload) | 1.50 | ≤ 2×payload+64 = 264 | yes |",
		"2 target(s) missed",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if err := run(strings.NewReader("PASS\n"), &out); err == nil {
		t.Errorf("no error for output without results")
	}
}
