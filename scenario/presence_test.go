package scenario

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// Two people at terminals: /who lists who is where; /join moves ann to
// bob's channel, its recent messages first, with her prompt and a line
// saying where she is, and bob sees her come, and go when she moves on to
// ALL, which is read-only.
func TestTerminalJoinAndWho(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	ann, at := ttyMember(t, s, "dev", "ann")
	bob, bat := ttyMember(t, s, "ops", "bob")
	mustOK(t, s, "ops", "cy", "before ann came")

	ann.typeKeys("/who\r")
	at = ann.waitScreen(at, "1 person on dev: ann")
	ann.typeKeys("/who ALL\r")
	at = ann.waitScreen(at, "1 person on dev: ann")
	at = ann.waitScreen(at, "1 person on ops: bob")

	ann.typeKeys("/join ops\r")
	at = ann.waitScreen(at, "mc_client: now ann on ops; type a line and press Enter to post")
	at = ann.waitScreen(at, ": before ann came ")
	at = ann.waitScreen(at, "--- live from here ---")
	at = ann.waitScreen(at, "ann@ops> ")
	bat = bob.waitScreen(bat, "-> ann joined ops (")
	ann.typeKeys("hello bob\r")
	bat = bob.waitScreen(bat, ": hello bob ")
	at = ann.waitScreen(at, " (you): hello bob ")
	s.out.waitFor(t, "mc_server", "[ops] ann: hello bob (")
	ann.typeKeys("/who\r")
	at = ann.waitScreen(at, "2 people on ops: ann, bob")

	ann.typeKeys("/join ALL\r")
	at = ann.waitScreen(at, "now ann on ALL; read-only")
	at = ann.waitScreen(at, "ann@ALL> ")
	bat = bob.waitScreen(bat, "<- ann left ops (")
	ann.typeKeys("can I post here?\r")
	at = ann.waitScreen(at, "channel ALL is read-only")
	// On ALL she sees every channel, named.
	mustOK(t, s, "dev", "cy", "on dev")
	ann.waitScreen(at, ": on dev ")
	never(t, []*lines{s.out}, "can I post here")

	// The notices are for people: a piped client and pub_client print
	// only messages.
	piped := start(t, "mc_client", s.args("ops", "dan")...)
	sub := start(t, "pub_client", s.host, s.pub)
	subscribed(t, s, "ops", piped, sub)
	bob.waitScreen(bat, "-> dan joined ops (")
	for _, p := range []*proc{piped, sub} {
		printed, _, _ := p.out.snapshot()
		for _, line := range printed {
			if strings.Contains(line, "joined") || strings.Contains(line, "left") {
				t.Errorf("%s printed a notice: %q", p.name, line)
			}
		}
	}
	piped.interrupt()
	sub.interrupt()
	ann.typeKeys("/quit\r")
	bob.typeKeys("/quit\r")
	for _, p := range []*tty{ann, bob} {
		if code := p.wait(); code != 0 {
			t.Errorf("%s exited %d on /quit, want 0", p.name, code)
		}
	}
}

// A client killed with SIGKILL says nothing as it goes: the server forgets
// it once it has been quiet for msg.QuietAfter, and says it left.
func TestKilledClientLeavesWho(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	bob, bat := ttyMember(t, s, "dev", "bob")
	cy := start(t, "mc_client", s.args("dev", "cy")...)
	bat = bob.waitScreen(bat, "-> cy joined dev (")
	bob.typeKeys("/who\r")
	bat = bob.waitScreen(bat, "2 people on dev: bob, cy")

	killed := time.Now()
	cy.signal(syscall.SIGKILL)
	// Its last HERE may have come just now: quiet for QuietAfter, then
	// forgotten at the next second.
	bat = bob.waitScreenWithin(bat, "<- cy left dev (", msg.QuietAfter+2*time.Second)
	t.Logf("cy, killed, left /who after %s", time.Since(killed).Round(100*time.Millisecond))
	bob.typeKeys("/who\r")
	bob.waitScreen(bat, "1 person on dev: bob")
}

// In open mode a client that starts with a name already present is told
// at once, on stderr; in keyed mode the name is its key's, and the same
// user's second client is not warned.
func TestSecondBobIsWarned(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	// The first, at a terminal, sees its own join: the server has it.
	first, at := ttyMember(t, s, "dev", "bob")
	at = first.waitScreen(at, "-> bob joined dev (")
	second := start(t, "mc_client", s.args("ops", "bob")...)
	second.err.waitFor(t, "the second bob", "mc_client: someone else is here as bob already")
	first.typeKeys("/who ALL\r")
	first.waitScreen(at, "1 person on ops: bob")
	if strings.Contains(first.screen(), "someone else") {
		t.Errorf("the first bob was warned:\n%q", first.screen())
	}
	first.typeKeys("/quit\r")
	second.interrupt()

	k := newKeyring(t)
	ks := startKeyedServer(t, k)
	one := start(t, "mc_client", append(k.client("alice"), ks.args("dev", "alice")...)...)
	two := start(t, "mc_client", append(k.client("alice"), ks.args("ops", "alice")...)...)
	probed(t, one, one.out)
	probed(t, two, two.out)
	for _, p := range []*proc{one, two} {
		if p.err.count("someone else") != 0 {
			t.Errorf("alice's own second client, keyed, was warned:\n%s", p.err)
		}
		p.interrupt()
	}
}
