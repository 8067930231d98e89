package scenario

import (
	"strings"
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
	never(t, []*lines{cy.out}, "hello dev (", "dev again", "probe-dev-")
	never(t, []*lines{ann.out, bob.out}, "devops")
	// Members see plain lines; only ALL shows the channel.
	never(t, []*lines{ann.out, bob.out, cy.out}, "[dev")
	s.out.waitFor(t, "mc_server", "[dev] ann: hello dev (")
	s.out.waitFor(t, "mc_server", "[devops] cy: hello devops (")
}

func TestPart4ALLIsReadOnly(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mc_server", "127.0.0.1")
	eve := member(t, s, "ALL", "eve")
	ann := member(t, s, "dev", "ann")
	subscribed(t, s, "dev", eve, ann)

	// The client itself refuses, says why, and keeps running: its own
	// words, not the server's ERR (which it would prefix "the server
	// refused the message").
	eve.typeLine("may I post here?")
	eve.err.waitFor(t, "mc_client on ALL", "channel ALL is read-only: it shows every channel; join a channel to post")
	if strings.Contains(eve.err.String(), "refused") {
		t.Errorf("the post to ALL reached the server:\n%s", eve.err)
	}
	// The server refuses a post to ALL from any client, here a raw one.
	mustERR(t, s, "read-only", post("ALL", "mallory", "straight to ALL")...)

	ann.typeLine("still working")
	eve.out.waitFor(t, "mc_client on ALL", "[dev] ann: still working (")
	s.out.waitFor(t, "mc_server", "[dev] ann: still working (")
	never(t, []*lines{s.out, eve.out, ann.out}, "may I post", "straight to ALL")
	eve.interrupt()
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
	mustERR(t, s, "unknown command \"DELETE\": the commands are POST, HISTORY, CHANNELS, HERE, LEAVE, WHO", "DELETE", "dev", "10")
	// A line that is too long is refused by the client before sending.
	ann.typeLine(strings.Repeat("y", 16385))
	ann.err.waitFor(t, "mc_client", "not sent: message is 16385 bytes long")

	ann.typeLine("the marker")
	eve.out.waitFor(t, "mc_client on ALL", "[dev] ann: the marker (")
	ann.out.waitFor(t, "mc_client on dev", "ann: the marker (")
	never(t, []*lines{s.out, eve.out, ann.out}, "mallory", "yyyy")
}
