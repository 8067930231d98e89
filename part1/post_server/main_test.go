package main

import (
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	clitest.Check(t, "post_server", run, []clitest.Case{
		{Args: []string{"-h"}, Code: 0, Want: "usage: post_server [flags] <ip> <port>"},
		{Args: nil, Code: 2, Want: "want 2 arguments (<ip> <port>), got 0"},
		{Args: []string{"127.0.0.1", "5555", "x"}, Code: 2, Want: "want 2 arguments"},
		{Args: []string{"-keys", "k", "127.0.0.1", "5555"}, Code: 2, Want: "-keys and -allow go together"},
		{Args: []string{"-keys", "/no/such/dir", "-allow", "/no/such/file", "127.0.0.1", "5555"}, Code: 1, Want: "secret key: stat /no/such/dir/secret.key: no such file or directory (make one with: make key KEYDIR=/no/such/dir)"},
		{Args: []string{"-bogus", "127.0.0.1", "5555"}, Code: 2, Want: "flag provided but not defined: -bogus"},
		{Args: []string{"-cpuprofile", "/no/such/dir/cpu.prof", "127.0.0.1", "5555"}, Code: 1, Want: "cpu profile: open /no/such/dir/cpu.prof"},
		{Args: []string{"127.0.0.1", "70000"}, Code: 2, Want: "port \"70000\" is not a number from 0 to 65535"},
		{Args: []string{"*", "http"}, Code: 2, Want: "not a number"},
		{Args: []string{"no such host.invalid", "5555"}, Code: 2, Want: "neither an IP address nor a host name"},
	})
}
