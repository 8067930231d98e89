package scenario

import (
	"strings"
	"testing"
)

func TestPart2TwoSubscribersSeeAPost(t *testing.T) {
	t.Parallel()
	s := startServer(t, "pub_server", "127.0.0.1")
	a := start(t, "pub_client", s.host, s.pub)
	b := start(t, "pub_client", "localhost", s.pub)
	subscribed(t, s, "", a, b)

	p := run(t, "post_client", s.host, s.post, "ann", "hello, subscribers")
	if p.code != 0 {
		t.Fatalf("post_client exited %d:\n%s", p.code, p.err)
	}
	for _, sub := range []*proc{a, b} {
		line := sub.out.waitFor(t, "pub_client", "hello, subscribers")
		if !strings.HasPrefix(line, "ann: hello, subscribers (") || !strings.HasSuffix(line, ")") {
			t.Errorf("pub_client printed %q, want \"ann: hello, subscribers (time)\"", line)
		}
	}
	s.out.waitFor(t, "pub_server", "ann: hello, subscribers (")

	a.interrupt()
	b.interrupt()
	s.interrupt()
}

func TestPart2RejectedPostIsNeitherRecordedNorPublished(t *testing.T) {
	t.Parallel()
	s := startServer(t, "pub_server", "127.0.0.1")
	sub := start(t, "pub_client", s.host, s.pub)
	subscribed(t, s, "", sub)

	mustERR(t, s, "control character", post("", "mallory", "\x1b]0;pwned\a")...)
	mustERR(t, s, "username", post("", "mal lory", "spaces in the name")...)
	mustERR(t, s, "message is empty", post("", "mallory", "")...)
	mustERR(t, s, "RFC 3339", "POST", "", "mallory", "yesterday", "bad time")
	// Publication is ordered: once this arrives, anything before it has too.
	mustOK(t, s, "", "ann", "the marker")
	sub.out.waitFor(t, "pub_client", "ann: the marker")
	s.out.waitFor(t, "pub_server", "ann: the marker")
	never(t, []*lines{sub.out, s.out}, "mal")
}

func TestPart2OutputIsSafeForATerminal(t *testing.T) {
	t.Parallel()
	s := startServer(t, "pub_server", "127.0.0.1")
	sub := start(t, "pub_client", s.host, s.pub)
	subscribed(t, s, "", sub)
	// Bidirectional controls pass validation (they are not control
	// characters) but are shown escaped, as is what no validation lets in.
	mustOK(t, s, "", "ann", "abc\u202edcba")
	line := sub.out.waitFor(t, "pub_client", "ann: abc")
	if !strings.Contains(line, `abc\u202edcba`) {
		t.Errorf("pub_client printed %q, want the bidi override shown as \\u202e", line)
	}
}
