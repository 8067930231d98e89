package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// Ticks repeat each lately active channel's last number every second for
// ten, at most maxTicked channels and always the latest message's.
func TestTicks(t *testing.T) {
	var k ticks
	start := time.Now()
	for i := range maxTicked + 10 {
		k.published(msg.Message{Channel: fmt.Sprint("c", i), Number: msg.Number{Numbering: "N", Seq: 1, All: uint64(i + 1)}}, start)
	}
	k.published(msg.Message{Channel: "c0", Number: msg.Number{Numbering: "N", Seq: 2, All: 300}}, start)
	k.published(msg.Message{Channel: "new", Number: msg.Number{Numbering: "N", Seq: 1, All: 301}}, start)
	sent := func(now time.Time) map[string]string {
		got := map[string]string{}
		k.send(now, func(f [][]byte) error { got[string(f[0])] = string(f[1]); return nil })
		return got
	}
	got := sent(start.Add(time.Second))
	if len(got) != maxTicked+1 || got["c0"] != "N 2 300" || got["new"] != "N 1 301" || got[fmt.Sprint("c", maxTicked)] != "" {
		t.Errorf("first ticks: %d, c0 %q, the latest %q, one past the cap %q", len(got), got["c0"], got["new"], got[fmt.Sprint("c", maxTicked)])
	}
	if got := sent(start.Add(1500 * time.Millisecond)); len(got) != 0 {
		t.Errorf("ticked again within a second: %d", len(got))
	}
	if got := sent(start.Add(tickFor + 2*time.Second)); len(got) != 0 {
		t.Errorf("ticked %d channels quiet for over %s", len(got), tickFor)
	}
}
