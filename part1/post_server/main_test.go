package main

import (
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	clitest.Check(t, "post_server", run, append(clitest.ServerCases("post_server", "127.0.0.1", "5555"), []clitest.Case{
		{Args: []string{"127.0.0.1", "70000"}, Code: 2, Want: "port \"70000\" is not a number from 0 to 65535"},
		{Args: []string{"*", "http"}, Code: 2, Want: "not a number"},
		{Args: []string{"no such host.invalid", "5555"}, Code: 2, Want: "neither an IP address nor a host name"},
	}...))
}
