package main

import (
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	clitest.Check(t, "interactive_server", run, append(clitest.ServerCases("interactive_server", "127.0.0.1", "5555", "5556"), []clitest.Case{
		{Args: []string{"127.0.0.1", "5555", "5555"}, Code: 2, Want: "<post_port> and <pub_port> must differ"},
	}...))
}
