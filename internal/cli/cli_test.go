package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zmqchat/zmqchat/internal/transport"
)

func TestExitStatus(t *testing.T) {
	cmd := NewCommand("prog", "Does a thing.", "<ip>")
	_, usage := cmd.Parse(nil)
	_, help := cmd.Parse([]string{"-h"})
	for _, tt := range []struct {
		name           string
		err            error
		code           int
		stdout, stderr string
	}{
		{"success", nil, ExitOK, "", ""},
		{"usage", usage, ExitUsage, "", "prog: want 1 arguments (<ip>), got 0\nusage: prog [flags] <ip>\nDoes a thing.\n"},
		{"help", help, ExitOK, "usage: prog [flags] <ip>\nDoes a thing.\n", ""},
		{"runtime", errors.New("bind: address in use"), ExitFailure, "", ": bind: address in use\n"},
	} {
		var out, errOut strings.Builder
		code := ExitStatus(tt.err, Env{Stdout: &out, Stderr: &errOut})
		if code != tt.code || out.String() != tt.stdout || !strings.HasSuffix(errOut.String(), tt.stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d, %q, %q", tt.name, code, out.String(), errOut.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
}

func TestParse(t *testing.T) {
	cmd := NewCommand("post_client", "Posts.", "<ip>", "<port>", "<username>", "<message>")
	n := cmd.Int("retries", 1, "resends")
	pos, err := cmd.Parse([]string{"-retries", "3", "127.0.0.1", "5555", "ann", "hi there"})
	if err != nil || *n != 3 || strings.Join(pos, "|") != "127.0.0.1|5555|ann|hi there" {
		t.Fatalf("Parse: %q, %v, retries %d", pos, err, *n)
	}
	if _, err := cmd.Parse([]string{"127.0.0.1", "5555", "ann", "hi", "there"}); err == nil || !strings.HasSuffix(err.Error(), "got 5 (quote a message that has spaces)") {
		t.Errorf("too many: %v", err)
	}
	if _, err := cmd.Parse([]string{"127.0.0.1", "5555", "ann", "-5", "degrees"}); err == nil || !strings.HasSuffix(err.Error(), "(quote a message that has spaces)") {
		t.Errorf("a message like -5 degrees: %v, want the quoting hint, -5 being no flag", err)
	}
	if _, err := cmd.Parse([]string{"127.0.0.1", "5555", "ann", "hi", "--retries=2"}); err == nil || !strings.HasSuffix(err.Error(), "(--retries=2 is a flag: flags go before the arguments)") {
		t.Errorf("a flag after the arguments: %v", err)
	}
	if _, err := cmd.Parse([]string{"127.0.0.1"}); err == nil || strings.Contains(err.Error(), "quote") {
		t.Errorf("too few: %v, want no hint about quoting", err)
	}
	if u := cmd.Usage(); !strings.Contains(u, "flags:\n  -retries int") {
		t.Errorf("usage lists no flags:\n%s", u)
	}
	if u := NewCommand("x", "X.").Usage(); strings.Contains(u, "flags:") {
		t.Errorf("usage of a command without flags lists flags:\n%s", u)
	}
}

func TestEndpointPairs(t *testing.T) {
	cmd := NewCommand("s", "S.")
	if post, pub, err := cmd.BindPair("127.0.0.1", "0", "0"); err != nil || post.Port() != "0" || pub.Port() != "0" {
		t.Errorf("a server may bind two free ports: %v, %v, %v", post, pub, err)
	}
	if _, _, err := cmd.BindPair("127.0.0.1", "7", "7"); err == nil || !strings.Contains(err.Error(), "must differ (both are 7)") {
		t.Errorf("same ports: %v", err)
	}
	if _, _, err := cmd.ConnectPair("127.0.0.1", "0", "0"); err == nil {
		t.Errorf("a client was let connect to port 0")
	}
	var usage *UsageError
	if _, err := cmd.Connect("*", "5555"); !errors.As(err, &usage) {
		t.Errorf("a bad address is not a usage error: %v", err)
	}
}

func TestAnnounce(t *testing.T) {
	var b strings.Builder
	post := transport.Endpoint{URL: "tcp://0.0.0.0:41000"}
	pub := transport.Endpoint{URL: "tcp://0.0.0.0:41001"}
	Announce(&b, "mc_server", "*", post, pub, "mc_client HOST POST PUB <channel> <name>")
	dir := filepath.Dir(os.Args[0])
	want := "mc_server: taking posts on tcp://0.0.0.0:41000, publishing on tcp://0.0.0.0:41001; Ctrl-C stops\n" +
		"mc_server: connect with: " + filepath.Join(dir, "mc_client 127.0.0.1 41000 41001 <channel> <name>") + "\n"
	if b.String() != want {
		t.Errorf("banner:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	Announce(&b, "post_server", "localhost", post, transport.Endpoint{}, "post_client HOST POST <username> <message>")
	if !strings.HasPrefix(b.String(), "post_server: taking posts on tcp://0.0.0.0:41000; Ctrl-C stops\n") ||
		!strings.Contains(b.String(), "post_client localhost 41000 <username>") {
		t.Errorf("banner of a server that does not publish:\n%s", b.String())
	}
}

func TestProgramName(t *testing.T) {
	defer func(a string) { os.Args[0] = a }(os.Args[0])
	for in, want := range map[string]string{"/usr/local/bin/mc_server": "mc_server", "bin/pub_client": "pub_client", "keygen": "keygen"} {
		os.Args[0] = in
		if got := programName(); got != want {
			t.Errorf("programName for %q = %q, want %q", in, got, want)
		}
	}
}

// Each program links only its own part: a client carries no server, a
// server no client.
func TestProgramsLinkOnlyWhatTheyUse(t *testing.T) {
	const internal = "github.com/zmqchat/zmqchat/internal/"
	for prog, banned := range map[string][]string{
		"part1/post_server":        {"client", "chat"},
		"part1/post_client":        {"server", "store", "chat"},
		"part2/pub_client":         {"server", "store", "chat"},
		"part4/mc_server":          {"client", "chat"},
		"part4/mc_client":          {"server", "store"},
		"part3/interactive_client": {"server", "store"},
	} {
		cmd := exec.Command("go", "list", "-deps", "./"+prog)
		cmd.Dir = filepath.Join("..", "..")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", prog, err)
		}
		deps := "\n" + string(out)
		for _, b := range banned {
			if strings.Contains(deps, "\n"+internal+b+"\n") {
				t.Errorf("%s links internal/%s", prog, b)
			}
		}
	}
}

func TestAlso(t *testing.T) {
	for _, tt := range []struct {
		arg  string
		post string // the post URLs added, or "" for a usage error
	}{
		{"127.0.0.1:5565:5566", "tcp://127.0.0.1:5565"},
		{"127.0.0.1:1:2,[::1]:3:4", "tcp://127.0.0.1:1 tcp://[::1]:3"},
		{"127.0.0.1:5565", ""},
		{"127.0.0.1:x:5566", ""},
	} {
		cmd := NewCommand("c", "C.", "<x>")
		also := AlsoFlag(cmd)
		if _, err := cmd.Parse([]string{"-also", tt.arg, "x"}); err != nil {
			t.Fatal(err)
		}
		var post, pub transport.Endpoint
		err := also.Apply(&post, &pub)
		switch {
		case tt.post == "" && err == nil:
			t.Errorf("-also %s taken: %v", tt.arg, post.Also)
		case tt.post != "" && (err != nil || strings.Join(post.Also, " ") != tt.post || len(pub.Also) != len(post.Also)):
			t.Errorf("-also %s: %v %v, %v", tt.arg, post.Also, pub.Also, err)
		}
	}
}
