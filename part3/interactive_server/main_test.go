package main

import (
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	clitest.Check(t, "interactive_server", run, []clitest.Case{
		{Args: []string{"-h"}, Code: 0, Want: "usage: interactive_server [flags] <ip> <post_port> <pub_port>"},
		{Args: nil, Code: 2, Want: "want 3 arguments (<ip> <post_port> <pub_port>), got 0"},
		{Args: []string{"127.0.0.1", "5555", "5556", "x"}, Code: 2, Want: "want 3 arguments"},
		{Args: []string{"-keys", "k", "127.0.0.1", "5555", "5556"}, Code: 2, Want: "-keys and -allow go together"},
		{Args: []string{"-keys", "/no/such/dir", "-allow", "/no/such/file", "127.0.0.1", "5555", "5556"}, Code: 1, Want: "secret key: stat /no/such/dir/secret.key: no such file or directory (make one with: make key KEYDIR=/no/such/dir)"},
		{Args: []string{"-bogus", "127.0.0.1", "5555", "5556"}, Code: 2, Want: "flag provided but not defined: -bogus"},
		{Args: []string{"-cpuprofile", "/no/such/dir/cpu.prof", "127.0.0.1", "5555", "5556"}, Code: 1, Want: "cpu profile: open /no/such/dir/cpu.prof"},
		{Args: []string{"127.0.0.1", "5555", "5555"}, Code: 2, Want: "<post_port> and <pub_port> must differ"},
		{Args: []string{"127.0.0.1", "5555", "65536"}, Code: 2, Want: "from 0 to 65535"},
	})
}
