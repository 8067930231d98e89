package main

import (
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	clitest.Check(t, "pub_client", run, []clitest.Case{
		{Args: []string{"-server-key", "k", "127.0.0.1", "5556"}, Code: 2, Want: "-keys and -server-key go together"},
		{Args: []string{"-h"}, Code: 0, Want: "usage: pub_client [flags] <ip> <pub_port>"},
		{Args: []string{"127.0.0.1"}, Code: 2, Want: "want 2 arguments (<ip> <pub_port>), got 1"},
		{Args: []string{"*", "5556"}, Code: 2, Want: "only a server can bind"},
		{Args: []string{"127.0.0.1", "65536"}, Code: 2, Want: "from 1 to 65535"},
	})
}
