package scenario

import (
	"strings"
	"syscall"
	"testing"
)

// member starts an mc_client for name on channel against s.
func member(t *testing.T, s *server, channel, name string) *proc {
	t.Helper()
	return start(t, "mc_client", s.args(channel, name)...)
}

// The multi-channel model, as part4/test.txt describes it: dev and devops
// (a name that dev is a prefix of, which ZeroMQ's subscription would also
// match) are isolated both ways, and ALL sees both with the channel shown.
func TestPart4ChannelsAreIsolatedAndALLSeesAll(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	ann := member(t, s, "dev", "ann")
	bob := member(t, s, "dev", "bob")
	cy := member(t, s, "devops", "cy")
	eve := member(t, s, "ALL", "eve")
	subscribed(t, s, "dev", ann, bob, eve)
	subscribed(t, s, "devops", cy)

	ann.typeLine("hello dev")
	bob.out.waitFor(t, "bob on dev", "ann: hello dev (")
	ann.out.waitFor(t, "ann on dev", "ann: hello dev (")
	eve.out.waitFor(t, "eve on ALL", "[dev] ann: hello dev (")

	cy.typeLine("hello devops")
	cy.out.waitFor(t, "cy on devops", "cy: hello devops (")
	eve.out.waitFor(t, "eve on ALL", "[devops] cy: hello devops (")

	bob.typeLine("dev again")
	ann.out.waitFor(t, "ann on dev", "bob: dev again (")
	eve.out.waitFor(t, "eve on ALL", "[dev] bob: dev again (")

	// Publication is ordered per subscriber: cy has seen its own later line,
	// so it would have seen ann's; ann and bob have seen bob's later line.
	if strings.Contains(cy.out.String(), "hello dev (") || strings.Contains(cy.out.String(), "probe-dev-") {
		t.Errorf("devops member saw dev traffic:\n%s", cy.out)
	}
	for _, p := range []*proc{ann, bob} {
		if strings.Contains(p.out.String(), "devops") {
			t.Errorf("dev member saw devops traffic:\n%s", p.out)
		}
	}
	// Members see plain lines; only ALL shows the channel.
	for _, p := range []*proc{ann, bob, cy} {
		if strings.Contains(p.out.String(), "[dev") {
			t.Errorf("a channel member's lines show a channel:\n%s", p.out)
		}
	}
	s.out.waitFor(t, "mc_server", "[dev] ann: hello dev (")
	s.out.waitFor(t, "mc_server", "[devops] cy: hello devops (")
}

func TestPart4ALLIsReadOnly(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	eve := member(t, s, "ALL", "eve")
	ann := member(t, s, "dev", "ann")
	subscribed(t, s, "dev", eve, ann)

	// The client refuses, says why, and keeps running.
	eve.typeLine("may I post here?")
	eve.err.waitFor(t, "mc_client on ALL", "channel ALL is read-only")
	// The server refuses a post to ALL from any client, here a raw one.
	mustERR(t, s, "read-only", post("ALL", "mallory", "straight to ALL")...)

	ann.typeLine("still working")
	eve.out.waitFor(t, "mc_client on ALL", "[dev] ann: still working (")
	s.out.waitFor(t, "mc_server", "[dev] ann: still working (")
	for _, out := range []*lines{s.out, eve.out, ann.out} {
		if strings.Contains(out.String(), "may I post") || strings.Contains(out.String(), "straight to ALL") {
			t.Errorf("a post to ALL got through:\n%s", out)
		}
	}
	eve.signal(syscall.SIGINT)
	if code := eve.wait(); code != 0 {
		t.Errorf("mc_client exited %d on SIGINT, want 0", code)
	}
}

func TestPart4RejectedPostIsNeverPublished(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	eve := member(t, s, "ALL", "eve")
	ann := member(t, s, "dev", "ann")
	subscribed(t, s, "dev", eve, ann)

	mustERR(t, s, "no channel:", post("", "mallory", "no channel")...)
	mustERR(t, s, "channel", post("d v", "mallory", "bad channel")...)
	mustERR(t, s, "control character", post("dev", "mallory", "\x1b[2Jclear")...)
	mustERR(t, s, "limit is 16384", post("dev", "mallory", strings.Repeat("x", 16385))...)
	mustERR(t, s, "unknown command", "HISTORY", "dev", "10")
	// A line that is too long is refused by the client before sending.
	ann.typeLine(strings.Repeat("y", 16385))
	ann.err.waitFor(t, "mc_client", "not sent: message is 16385 bytes long")

	ann.typeLine("the marker")
	eve.out.waitFor(t, "mc_client on ALL", "[dev] ann: the marker (")
	ann.out.waitFor(t, "mc_client on dev", "ann: the marker (")
	for _, out := range []*lines{s.out, eve.out, ann.out} {
		if strings.Contains(out.String(), "mallory") || strings.Contains(out.String(), "yyyy") {
			t.Errorf("a rejected post got through:\n%s", out)
		}
	}
}
