package main

import (
	"strings"
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	clitest.Check(t, "mc_client", run, []clitest.Case{
		{Args: []string{"-server-key", "k", "127.0.0.1", "5555", "5556", "dev", "ann"}, Code: 2, Want: "-keys and -server-key go together"},
		{Args: []string{"-h"}, Code: 0, Want: "usage: mc_client [flags] <ip> <post_port> <pub_port> <channel> <name>"},
		{Args: []string{"-h"}, Code: 0, Want: "auto: a screenful at a terminal, none on a pipe (default auto)"},
		{Args: []string{"-history", "lots", "127.0.0.1", "5555", "5556", "dev", "ann"}, Code: 2, Want: "want a number from 0 to 1000"},
		{Args: []string{"127.0.0.1", "5555", "5556", "dev"}, Code: 2, Want: "want 5 arguments"},
		{Args: []string{"127.0.0.1", "5555", "5556", "d/v", "ann"}, Code: 2, Want: `channel "d/v"`},
		{Args: []string{"127.0.0.1", "5555", "5556", "", "ann"}, Code: 2, Want: "channel is empty"},
		{Args: []string{"127.0.0.1", "5555", "5556", "dev", ""}, Code: 2, Want: "username is empty"},
		{Args: []string{"127.0.0.1", "5555", "5556", strings.Repeat("c", 33), "ann"}, Code: 2, Want: "33 characters"},
		{Args: []string{"127.0.0.1", "5555", "5555", "dev", "ann"}, Code: 2, Want: "must differ"},
	})
}
