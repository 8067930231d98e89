package scenario

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/keys"
)

// startZmqRelay starts a relay program with flags for up on loopback and
// free ports, and reads the ports it bound from its banner.
func startZmqRelay(t *testing.T, up *server, flags ...string) *server {
	t.Helper()
	args := append(flags, "127.0.0.1", "0", "0", up.host, up.post, up.pub)
	r, err := serving(start(t, "relay", args...), "127.0.0.1")
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

// Keyed mode through relays: the relays show the server's key, so a
// client needs nothing but a relay's address; a relay lets in only the
// allow-list's keys; a name stays its key's through two relays; and the
// server believes what is passed on only from relays it lists.
func TestKeyedRelaysKeepNamesBoundToKeys(t *testing.T) {
	t.Parallel()
	k := newKeyring(t)
	k.generate(t, "east", "west", "rogue")
	k.write(t, "alice", "bob", "relay east", "relay west", "rogue")
	s := startKeyedServer(t, k, "3 users and 2 relays")
	keyed := func(self string) []string {
		return []string{"-keys", k.keys("server"), "-allow", k.allow, "-as", k.keys(self)}
	}
	east := startZmqRelay(t, s, keyed("east")...)
	west := startZmqRelay(t, east, keyed("west")...)
	east.err.waitFor(t, "relay", "keyed mode: CurveZMQ, 3 users and 2 relays on ")

	alice := start(t, "mc_client", append(k.client("alice"), west.args("dev", "alice")...)...)
	bob := start(t, "mc_client", append(k.client("bob"), east.args("dev", "bob")...)...)
	probed(t, alice, alice.out, bob.out)
	alice.typeLine("hello through two relays")
	bob.out.waitFor(t, "bob", "alice: hello through two relays (")
	s.out.waitFor(t, "mc_server", "[dev] alice: hello through two relays (")

	// alice cannot post as bob through them: her key reaches the server.
	fake := start(t, "mc_client", append(k.client("alice"), west.args("dev", "bob")...)...)
	fake.typeLine("I am bob, honest")
	fake.err.waitFor(t, "mc_client", "the server refused the message: you cannot post as bob: your key is alice's")

	// A stranger is refused by the relay itself.
	eve := start(t, "pub_client", append(k.client("eve"), west.host, west.pub)...)
	if code := eve.wait(); code != 1 {
		t.Errorf("pub_client with an unlisted key at a relay exited %d, want 1", code)
	}
	west.err.waitFor(t, "relay", "refused a connection from 127.0.0.1: its key "+k.public(t, "eve")+" is not on the allow-list")

	// A relay whose key is listed as a user's, not a relay's, is let in,
	// but what it passes on is refused: it could say anyone sent it.
	rogue := startZmqRelay(t, s, keyed("rogue")...)
	viaRogue := start(t, "mc_client", append(k.client("alice"), rogue.args("dev", "alice")...)...)
	viaRogue.typeLine("through a relay the server does not list")
	viaRogue.err.waitFor(t, "mc_client", "only a relay on the server's allow-list may pass on others' requests")

	// Nor may a client put another's key before its request itself.
	forged := forgedPost(t, k, s, "alice", k.public(t, "bob")+" 00000000", post("dev", "bob", "forged")...)
	if len(forged) != 2 || forged[0] != "ERR" || !strings.Contains(forged[1], "only a relay") {
		t.Errorf("a post with bob's key forged in its envelope: %q", forged)
	}
	never(t, []*lines{s.out, bob.out}, "I am bob", "a relay the server does not list", "forged")
	for _, p := range []*proc{fake, viaRogue} {
		if p.signal(syscall.SIGINT); p.wait() != 1 {
			t.Errorf("%s, its line refused, exited %d on Ctrl-C, want 1", p.name, p.code)
		}
	}
	alice.interrupt()
	bob.interrupt()
}

// forgedPost sends frames from who's DEALER, keyed, to s, with id put
// before the envelope's empty frame as a relay would put its client's
// routing id, and returns the reply.
func forgedPost(t *testing.T, k *keyring, s *server, who, id string, frames ...string) []string {
	t.Helper()
	pair, err := keys.Load(k.keys(who))
	if err != nil {
		t.Fatal(err)
	}
	d, err := zmq.NewSocket(zmq.DEALER)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetLinger(0)
	d.SetRcvtimeo(wait)
	if err := d.ClientAuthCurve(k.public(t, "server"), pair.Public, pair.Secret); err != nil {
		t.Fatal(err)
	}
	if err := d.Connect("tcp://" + s.host + ":" + s.post); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SendMessage(id, "", frames); err != nil {
		t.Fatal(err)
	}
	reply, err := d.RecvMessage(0)
	if err != nil {
		t.Fatalf("no reply to a forged post: %v", err)
	}
	if len(reply) < 2 || reply[0] != id || reply[1] != "" {
		t.Fatalf("reply envelope: %q", reply)
	}
	return reply[2:]
}

// A piped client behind a relay shows all of its own lines, even when the
// relay's link to the server's publish port is slow: the relay's welcome
// says only that the relay has the subscription, so the client first
// learns where the channel stands, and fetches what its subscription, on
// its way to the server, missed.
func TestPipedClientBehindARelaySeesAllItsOwnLines(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	slow := startRelay(t, s.host, s.pub) // a TCP link that can be slowed
	r := startZmqRelay(t, &server{host: s.host, post: s.post, pub: slow.port()})
	r.err.waitFor(t, "relay", "connected to the upstream tcp://127.0.0.1:"+slow.port())
	slow.delay[0].Store(int64(300 * time.Millisecond)) // subscriptions, upstream
	var in strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&in, "line-%d\n", i)
	}
	for run := range 2 {
		name := fmt.Sprint("ann", run)
		c := start(t, "mc_client", r.args(fmt.Sprint("dev", run), name)...) // a channel new upstream
		c.stdin.Write([]byte(in.String()))
		c.stdin.Close()
		if code := c.wait(); code != 0 {
			t.Fatalf("run %d: exit %d\n%s", run, code, c.err)
		}
		got := chatLines(c.out, name)
		if len(got) != 100 || got[0] != name+": line-1" || got[99] != name+": line-100" {
			t.Fatalf("run %d: showed %d of its 100 lines: first %q", run, len(got), got[:min(len(got), 1)])
		}
	}
}
