package main

import (
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	clitest.Check(t, "interactive_client", run, []clitest.Case{
		{Args: []string{"-server-key", "k", "127.0.0.1", "5555", "5556", "ann"}, Code: 2, Want: "-keys and -server-key go together"},
		{Args: []string{"-h"}, Code: 0, Want: "usage: interactive_client [flags] <ip> <post_port> <pub_port> <name>"},
		{Args: []string{"127.0.0.1", "5555", "5556"}, Code: 2, Want: "want 4 arguments"},
		{Args: []string{"127.0.0.1", "5555", "5555", "ann"}, Code: 2, Want: "must differ"},
		{Args: []string{"127.0.0.1", "5555", "5556", "a b"}, Code: 2, Want: "username \"a b\""},
		{Args: []string{"-timeout", "-1s", "127.0.0.1", "5555", "5556", "ann"}, Code: 2, Want: "-timeout must be positive"},
	})
}
