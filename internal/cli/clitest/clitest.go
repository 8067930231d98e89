// Package clitest runs a program's run function in-process, as its main
// would, so each main package tests its own command line.
package clitest

import (
	"context"
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
