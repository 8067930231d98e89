package main

import (
	"strings"
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli/clitest"
)

func TestCommandLine(t *testing.T) {
	clitest.Check(t, "post_client", run, []clitest.Case{
		{Args: []string{"-server-key", "k", "127.0.0.1", "5555", "ann", "hi"}, Code: 2, Want: "-keys and -server-key go together"},
		{Args: []string{"-h"}, Code: 0, Want: "usage: post_client [flags] <ip> <port> <username> <message>"},
		{Args: []string{"127.0.0.1", "5555", "ann"}, Code: 2, Want: "want 4 arguments"},
		{Args: []string{"127.0.0.1", "5555", "ann", "two", "words"}, Code: 2, Want: "got 5 (quote a message that has spaces)"},
		{Args: []string{"*", "5555", "ann", "hi"}, Code: 2, Want: "only a server can bind"},
		{Args: []string{"127.0.0.1", "0", "ann", "hi"}, Code: 2, Want: "from 1 to 65535"},
		{Args: []string{"127.0.0.1", "5555", "a b", "hi"}, Code: 2, Want: "username"},
		{Args: []string{"127.0.0.1", "5555", "ann", ""}, Code: 2, Want: "message is empty", Brief: true},
		{Args: []string{"127.0.0.1", "5555", "ann", "bell\a"}, Code: 2, Want: "control character U+0007", Brief: true},
		{Args: []string{"127.0.0.1", "5555", "ann", "two\nlines"}, Code: 2, Want: "control character U+000A", Brief: true},
		{Args: []string{"127.0.0.1", "5555", "ann", strings.Repeat("x", 20000)}, Code: 2, Want: "message is 20000 bytes long, the limit is 16384", Brief: true},
		{Args: []string{"127.0.0.1", "5555", "ann", "hi", "-timeout", "1s"}, Code: 2, Want: "got 6 (-timeout is a flag: flags go before the arguments)"},
		{Args: []string{"-timeout", "0s", "127.0.0.1", "5555", "ann", "hi"}, Code: 2, Want: "-timeout must be positive"},
		{Args: []string{"-retries", "-1", "127.0.0.1", "5555", "ann", "hi"}, Code: 2, Want: "-retries not negative"},
	})
}
