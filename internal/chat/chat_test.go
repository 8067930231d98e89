package chat

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zmqchat/zmqchat/internal/client"
	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server/servertest"
	"github.com/zmqchat/zmqchat/internal/transport"
)

var now = time.Date(2026, 11, 25, 7, 30, 0, 0, time.UTC)

func TestCompose(t *testing.T) {
	dev := Config{Mode: msg.MultiChannel, Channel: "dev", Name: "ann"}
	room := Config{Mode: msg.SingleRoom, Name: "ann"}
	all := Config{Mode: msg.MultiChannel, Channel: "ALL", Name: "eve"}
	for _, tt := range []struct {
		name string
		cfg  Config
		line string
		want msg.Message
		err  string // "" for none, "empty" for errEmpty
	}{
		{"a line on a channel", dev, "hello", msg.Message{Channel: "dev", Username: "ann", Time: now, Body: "hello"}, ""},
		{"a line in a room", room, "hello", msg.Message{Username: "ann", Time: now, Body: "hello"}, ""},
		{"CRLF input", room, "hello\r", msg.Message{Username: "ann", Time: now, Body: "hello"}, ""},
		{"inner spaces kept", room, "  a  b ", msg.Message{Username: "ann", Time: now, Body: "  a  b "}, ""},
		{"tab kept", room, "a\tb", msg.Message{Username: "ann", Time: now, Body: "a\tb"}, ""},
		{"empty", room, "", msg.Message{}, "empty"},
		{"only spaces", room, "   ", msg.Message{}, "empty"},
		{"only tabs and CR", room, "\t \r", msg.Message{}, "empty"},
		{"on ALL", all, "may I post?", msg.Message{}, "channel ALL is read-only: it shows every channel; join a channel to post"},
		{"a blank line on ALL", all, " ", msg.Message{}, "empty"},
		{"a control character", room, "a\x1bb", msg.Message{}, "not sent: message contains control character"},
		{"too long", room, strings.Repeat("x", msg.MaxBodyLen+1), msg.Message{}, "not sent: message is 16385 bytes long"},
	} {
		got, err := compose(tt.cfg, tt.line, now)
		switch {
		case tt.err == "empty":
			if !errors.Is(err, errEmpty) {
				t.Errorf("%s: %v, want errEmpty", tt.name, err)
			}
		case tt.err != "":
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("%s: %v, want an error starting %q", tt.name, err, tt.err)
			}
		case err != nil || got != tt.want:
			t.Errorf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestCommand(t *testing.T) {
	dev := Config{Mode: msg.MultiChannel, Channel: "dev", Name: "ann"}
	all := Config{Mode: msg.MultiChannel, Channel: msg.AllChannel, Name: "ann"}
	room := Config{Mode: msg.SingleRoom, Name: "ann"}
	for _, tt := range []struct {
		cfg  Config
		line string
		want cmdResult
		said string
	}{
		{dev, "//text", cmdResult{post: "/text"}, ""},
		{dev, "///", cmdResult{post: "//"}, ""},
		{dev, "/quit", cmdResult{quit: true}, ""},
		{dev, "/quit now", cmdResult{quit: true}, ""},
		{dev, "/help", cmdResult{}, "/join CHANNEL    move to another channel"},
		{all, "/help", cmdResult{}, "to post, /join a channel"},
		{room, "/help", cmdResult{}, "/who             who is here now"},
		{dev, "/history", cmdResult{ask: job{ask: "/history", channel: "dev", n: 20}}, ""},
		{dev, "/history 1000", cmdResult{ask: job{ask: "/history", channel: "dev", n: 1000}}, ""},
		{all, "/history 1", cmdResult{ask: job{ask: "/history", channel: "ALL", n: 1}}, ""},
		{dev, "/history 0", cmdResult{}, "/history 0: want a number from 1 to 1000"},
		{dev, "/history 1001", cmdResult{}, "want a number from 1 to 1000"},
		{dev, "/history x\x1b", cmdResult{}, `/history x\x1b: want`},
		{dev, "/channels", cmdResult{ask: job{ask: "/channels"}}, ""},
		{dev, "/who", cmdResult{ask: job{ask: "/who", channel: "dev"}}, ""},
		{dev, "/who ops", cmdResult{ask: job{ask: "/who", channel: "ops"}}, ""},
		{all, "/who", cmdResult{ask: job{ask: "/who", channel: "ALL"}}, ""},
		{room, "/who", cmdResult{ask: job{ask: "/who"}}, ""},
		{room, "/who dev", cmdResult{}, "/who dev: this server has one room, no channels"},
		{dev, "/join ops", cmdResult{join: "ops"}, ""},
		{dev, "/join ALL", cmdResult{join: "ALL"}, ""},
		{all, "/join dev", cmdResult{join: "dev"}, ""},
		{dev, "/join dev", cmdResult{}, "/join dev: you are on dev already"},
		{dev, "/join", cmdResult{}, "/join : name a channel"},
		{dev, "/join a/b", cmdResult{}, "/join a/b: channel"},
		{dev, "/join aLL", cmdResult{}, "looks like ALL"},
		{room, "/join dev", cmdResult{}, "this server has one room, no channels"},
		{dev, "/nope", cmdResult{}, "unknown command /nope: not posted"},
		{dev, "/\x1b[2J", cmdResult{}, `unknown command /\x1b[2J`},
	} {
		var errOut strings.Builder
		con := newPlainConsole(strings.NewReader(""), io.Discard, &errOut, display.Style{})
		got := command(tt.line, tt.cfg, con)
		if got != tt.want || !strings.Contains(errOut.String(), tt.said) {
			t.Errorf("%s: command(%q) = %+v, said %q; want %+v, saying %q", tt.cfg.Channel, tt.line, got, errOut.String(), tt.want, tt.said)
		}
	}
}

// A line over maxLine bytes is refused with errLineTooLong, and the lines
// after it are read as usual; a last line without a newline still counts.
func TestPlainReaderSkipsOverlongLines(t *testing.T) {
	in := "first\n" + strings.Repeat("x", maxLine+10) + "\nafter\r\nlast"
	r := &plainReader{newPlainConsole(strings.NewReader(in), nil, nil, display.Style{}).lines.(*plainReader).in}
	var got []string
	for {
		line, err := r.ReadLine()
		if errors.Is(err, errLineTooLong) {
			got = append(got, "<too long>")
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	if want := "first|<too long>|after\r|last"; strings.Join(got, "|") != want {
		t.Errorf("read %q, want %q", strings.Join(got, "|"), want)
	}
	// An overlong last line, unended, is refused too.
	r = &plainReader{newPlainConsole(strings.NewReader(strings.Repeat("y", maxLine+1)), nil, nil, display.Style{}).lines.(*plainReader).in}
	if _, err := r.ReadLine(); !errors.Is(err, errLineTooLong) {
		t.Errorf("overlong last line: %v, want errLineTooLong", err)
	}
}

// readInput sends each postable line, says why it skips the others (the
// overlong one included), ignores "/" commands on a pipe, and closes posts
// at end of input.
func TestReadInput(t *testing.T) {
	in := "one\n\n   \n/quit\n" + strings.Repeat("x", maxLine+1) + "\nbad \x07 bell\ntwo\n"
	var errOut strings.Builder
	con := newPlainConsole(strings.NewReader(in), io.Discard, &errOut, display.Style{})
	s := &session{cfg: Config{Mode: msg.SingleRoom, Name: "ann"}, con: con, posts: make(chan job, 10)}
	s.readInput(context.Background())
	var bodies []string
	for j := range s.posts {
		bodies = append(bodies, j.m.Body)
	}
	if got := strings.Join(bodies, "|"); got != "one|/quit|two" {
		t.Errorf("posted %q, want one|/quit|two", got)
	}
	for _, want := range []string{"line is over 65536 bytes: not sent", "not sent: message contains control character U+0007"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr %q lacks %q", errOut.String(), want)
		}
	}
}

func TestPrompt(t *testing.T) {
	if p := prompt(Config{Mode: msg.MultiChannel, Channel: "dev", Name: "ann"}); p != "ann@dev> " {
		t.Errorf("part 4 prompt %q", p)
	}
	if p := prompt(Config{Mode: msg.SingleRoom, Name: "ann"}); p != "ann> " {
		t.Errorf("part 3 prompt %q", p)
	}
}

// Run, piped, against a real server in-process: each line typed is
// posted, every message of its channel is shown as the plain line, and
// input's end ends it with nil once the lines are posted.
func TestRunPostsAndShows(t *testing.T) {
	s := servertest.Run(t, msg.MultiChannel)
	out := servertest.NewLines()
	inR, inW := io.Pipe()
	errOut := servertest.NewLines()
	cfg := Config{Post: s.Post, Pub: s.Pub, Mode: msg.MultiChannel, Channel: "dev", Name: "ann",
		Posting: client.Options{Timeout: servertest.Wait}, In: inR, Out: out, Err: errOut}
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), cfg) }()
	errOut.WaitFor(t, "connected to", 1)
	// Lines until one comes back: the subscription takes a moment to reach
	// the server.
	deadline := time.Now().Add(servertest.Wait)
	for out.Count("ann: probe") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no line came back")
		}
		io.WriteString(inW, "probe\n")
		out.WaitChange(50 * time.Millisecond)
	}
	io.WriteString(inW, "hello dev\n")
	out.WaitFor(t, "ann: hello dev (", 1)
	s.Log.WaitFor(t, "[dev] ann: hello dev (", 1)
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(servertest.Wait):
		t.Fatalf("Run did not end at the end of input\nout: %q\nerr: %q", out.All(), errOut.All())
	}
	for _, line := range out.All() {
		if strings.Contains(line, "[dev]") || strings.Contains(line, "\x1b") {
			t.Errorf("piped output is not the plain line: %q", line)
		}
	}
}

// Run ends promptly when its context is cancelled, with input still open.
func TestRunStopsOnCancel(t *testing.T) {
	s := servertest.Run(t, msg.SingleRoom)
	inR, _ := io.Pipe()
	errOut := servertest.NewLines()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{Post: s.Post, Pub: s.Pub, Mode: msg.SingleRoom, Name: "ann",
		Posting: client.Options{Timeout: time.Second}, In: inR, Out: io.Discard, Err: errOut}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	errOut.WaitFor(t, "connected to", 1)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(servertest.Wait):
		t.Fatal("Run went on after its context was cancelled")
	}
}

func TestTallyReport(t *testing.T) {
	for _, tt := range []struct {
		queued, posted, failed int64
		said, err              string
	}{
		{3, 3, 0, "", ""},
		{3, 1, 1, "1 line not sent: the client stopped before posting it", "2 of 3 lines not posted"},
		{4, 0, 1, "3 lines not sent: the client stopped before posting them", "4 of 4 lines not posted"},
		{2, 0, 2, "", "2 of 2 lines not posted"},
		{1, 0, 1, "", "1 of 1 line not posted"},
	} {
		var n tally
		n.queued.Store(tt.queued)
		n.posted.Store(tt.posted)
		n.failed.Store(tt.failed)
		var errOut strings.Builder
		err := n.report(newPlainConsole(strings.NewReader(""), io.Discard, &errOut, display.Style{}))
		if strings.TrimSpace(errOut.String()) != tt.said || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("%+v: said %q, returned %v; want %q and %q", tt, errOut.String(), err, tt.said, tt.err)
		}
	}
}

// Run returns an error, for the exit status, when lines were not posted:
// here no server answers.
func TestRunReportsUnpostedLines(t *testing.T) {
	nowhere, _ := transport.ConnectEndpoint("127.0.0.1", "1")
	cfg := Config{Post: nowhere, Pub: nowhere, Mode: msg.SingleRoom, Name: "ann",
		Posting: client.Options{Timeout: 100 * time.Millisecond}, In: strings.NewReader("lost\n"), Out: io.Discard, Err: io.Discard}
	if err := Run(context.Background(), cfg); err == nil || err.Error() != "1 of 1 line not posted" {
		t.Errorf("Run = %v, want 1 of 1 line not posted", err)
	}
}
