package scenario

import (
	"strings"
	"syscall"
	"testing"
)

// startZmqRelay starts a relay program for up on loopback and free ports, and reads
// the ports it bound from its banner.
func startZmqRelay(t *testing.T, up *server) *server {
	t.Helper()
	r, err := serving(start(t, "relay", "127.0.0.1", "0", "0", up.host, up.post, up.pub), "127.0.0.1")
	if err != nil {
		t.Fatalf("relay did not start: %v\n%s", err, r.err)
	}
	return r
}

// A relay stands for the server: clients of parts 2 and 4 connect to it
// (or to a relay of a relay) as to the server, post through it, and show
// every message once, in order, beside a client of the server itself.
func TestRelayStandsForTheServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	r1 := startZmqRelay(t, s)
	r2 := startZmqRelay(t, r1)
	dev := start(t, "mc_client", r2.args("dev", "bob")...)
	all := start(t, "mc_client", r1.args("ALL", "eve")...)
	sub := start(t, "pub_client", r2.host, r2.pub)
	direct := start(t, "mc_client", s.args("dev", "cy")...)
	subscribed(t, r2, "dev", dev, all, sub, direct) // probes posted through both relays
	postMany(t, r2, "dev", "ann", "v", "", 1, 300)
	for _, c := range []*proc{dev, all, sub, direct} {
		c.out.waitFor(t, c.name, "v-00300 ")
		checkAllOnce(t, c.name, numbersShown(c.out, "v"), 1, 300)
	}
	// CHANNELS through the chained relays: dev, with the 300 and the probes.
	if r := rawPost(t, r2.host, r2.post, "CHANNELS"); len(r) != 4 || r[0] != "OK" || r[1] != "dev" || len(r[2]) != 3 || r[2] < "300" {
		t.Errorf("CHANNELS through two relays: %q", r)
	}
	// A person types through the chained relays.
	dev.typeLine("hello through two relays")
	direct.out.waitFor(t, "mc_client", "bob: hello through two relays (")

	r1.signal(syscall.SIGUSR1)
	for _, what := range []string{"relay: requests: ", "relay: publications: "} {
		if line := r1.err.waitFor(t, "relay", what); strings.Contains(line, ": 0 messages") {
			t.Errorf("statistics: %q", line)
		}
	}
	r2.interrupt()
	r1.interrupt()
}

// A subscriber behind a relay, stopped while 20,000 posts go past, shows
// every one once, in order: it asks the relay's post port, which its
// welcome names, for what was dropped.
func TestRelayedSubscriberMissesNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t, "pub_server", "127.0.0.1")
	r := startZmqRelay(t, s)
	sub := start(t, "pub_client", r.host, r.pub)
	subscribed(t, s, "", sub)
	sub.signal(syscall.SIGSTOP)
	const n = 20000
	postMany(t, s, "", "ann", "w", strings.Repeat("w", 1000), 1, n)
	sub.signal(syscall.SIGCONT)
	sub.out.waitFor(t, "pub_client", "w-20000 ")
	checkAllOnce(t, "pub_client", numbersShown(sub.out, "w"), 1, n)
}

// A client given two relays (-also) connects to both, shows each message
// once, and when one relay dies (SIGKILL) goes on through the other:
// nothing missed, nothing twice, and its own lines still posted.
func TestClientMovesToAnotherRelay(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	r1, r2 := startZmqRelay(t, s), startZmqRelay(t, s)
	other := "127.0.0.1:" + r2.post + ":" + r2.pub
	bob := start(t, "mc_client", append([]string{"-also", other}, r1.args("dev", "bob")...)...)
	sub := start(t, "pub_client", "-post-port", r1.post, "-also", other, r1.host, r1.pub)
	subscribed(t, s, "dev", bob, sub)
	postMany(t, s, "dev", "ann", "m", "", 1, 100)
	r1.signal(syscall.SIGKILL)
	r1.wait()
	postMany(t, s, "dev", "ann", "m", "", 101, 100)
	bob.typeLine("still here")
	for _, c := range []*proc{bob, sub} {
		c.out.waitFor(t, c.name, "bob: still here (")
		checkAllOnce(t, c.name, numbersShown(c.out, "m"), 1, 200)
		if c.err.count("lost the connection") != 0 {
			t.Errorf("%s said it lost the server, with a relay still up:\n%s", c.name, c.err)
		}
	}
}
