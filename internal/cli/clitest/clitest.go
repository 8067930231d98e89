// Package clitest runs a program's run function in-process, as its main
// would, so each main package tests its own command line.
package clitest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli"
)

// Case is a command line and what it must give: the exit status and a
// text that stderr (or, for -h, stdout) must contain.
type Case struct {
	Args []string
	Code int
	Want string
	// Brief is a usage error about an argument's content: its one line of
	// reason comes without the usage.
	Brief bool
}

// ServerCases are the cases every server's command line must pass: name
// takes the positional arguments pos (each a valid value) after its flags.
func ServerCases(name string, pos ...string) []Case {
	n := fmt.Sprint(len(pos))
	with := func(flags ...string) []string { return append(flags, pos...) }
	return []Case{
		{Args: []string{"-h"}, Code: 0, Want: "usage: " + name + " [flags] "},
		{Args: nil, Code: 2, Want: "want " + n + " arguments"},
		{Args: append(with(), "x"), Code: 2, Want: "want " + n + " arguments"},
		{Args: with("-bogus"), Code: 2, Want: "flag provided but not defined: -bogus"},
		{Args: with("-cpuprofile", "/no/such/dir/cpu.prof"), Code: 1, Want: "cpu profile: open /no/such/dir/cpu.prof"},
		{Args: with("-keys", "k"), Code: 2, Want: "-keys and -allow go together"},
		{Args: with("-keys", "/no/such/dir", "-allow", "/no/such/file"), Code: 1, Want: "secret key: stat /no/such/dir/secret.key: no such file or directory (make one with: make key KEYDIR=/no/such/dir)"},
		{Args: with("-store-mib", "0"), Code: 2, Want: "-store-mib must be at least 1"},
		{Args: with("-sync"), Code: 2, Want: "-sync needs -store"},
		{Args: with("-store", "/no/such/dir/chat.db"), Code: 1, Want: "its folder /no/such/dir does not exist: create it first"},
		{Args: append([]string{pos[0], "65536"}, pos[2:]...), Code: 2, Want: "from 0 to 65535"},
	}
}

// Check runs each case through run and cli.ExitStatus. A usage error must
// also put the reason on one line that starts with the program's name,
// followed by the usage.
func Check(t *testing.T, name string, run cli.Program, cases []Case) {
	t.Helper()
	for _, c := range cases {
		var stdout, stderr strings.Builder
		env := cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
		code := cli.ExitStatus(run(context.Background(), c.Args, env), env)
		where := stderr.String()
		if c.Code == cli.ExitOK {
			where = stdout.String()
		}
		if code != c.Code || !strings.Contains(where, c.Want) {
			t.Errorf("%s %q: exit %d, stdout %q, stderr %q; want exit %d and %q", name, c.Args, code, stdout.String(), stderr.String(), c.Code, c.Want)
			continue
		}
		if c.Code == cli.ExitUsage {
			first, rest, _ := strings.Cut(stderr.String(), "\n")
			switch {
			case !strings.HasPrefix(first, name+": "):
				t.Errorf("%s %q: stderr %q, want a line of reason starting %q", name, c.Args, stderr.String(), name+": ")
			case c.Brief && rest != "":
				t.Errorf("%s %q: stderr %q, want the one line of reason alone", name, c.Args, stderr.String())
			case !c.Brief && !strings.HasPrefix(rest, "usage: "+name+" "):
				t.Errorf("%s %q: stderr %q, want one line of reason, then the usage", name, c.Args, stderr.String())
			}
		}
	}
}
