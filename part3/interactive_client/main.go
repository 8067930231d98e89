// Command interactive_client is part 3's client: it posts each line typed
// (REQ, or DEALER on a pipe) and shows every message published (SUB), both
// at once, until Ctrl-D or Ctrl-C.
//
//	interactive_client [-timeout 2.5s] [-retries 1] [-history N] <ip> <post_port> <pub_port> <name>
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/chat"
	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/msg"
)

const summary = `Chat: each line typed is posted; every message is shown as it arrives.
Ctrl-D or Ctrl-C leaves.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("interactive_client", summary, "<ip>", "<post_port>", "<pub_port>", "<name>")
	cfg := chat.Config{Program: "interactive_client", Mode: msg.SingleRoom, In: env.Stdin, Out: env.Stdout, Err: env.Stderr, NoColor: os.Getenv("NO_COLOR") != ""}
	cfg.Posting.Flags(cmd.FlagSet)
	cfg.History.Flag(cmd.FlagSet)
	keyed := cli.ClientKeyFlags(cmd)
	also := cli.AlsoFlag(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	if cfg.Post, cfg.Pub, err = cmd.ConnectPair(a[0], a[1], a[2]); err != nil {
		return err
	}
	if err := also.Apply(&cfg.Post, &cfg.Pub); err != nil {
		return err
	}
	if err := keyed.Apply(&cfg.Post, &cfg.Pub); err != nil {
		return err
	}
	if err := cfg.Posting.Check(); err != nil {
		return cmd.Usagef("%v", err)
	}
	if cfg.Name, err = msg.NormalizeName("username", a[3]); err != nil {
		return cmd.Usagef("%v", err)
	}

	// chat.Run: three goroutines. One reads lines. One owns the post
	// socket to <post_port> and posts them: a REQ socket at a terminal, a
	// post at a time; a DEALER socket on a pipe, up to 64 in flight. One
	// owns a SUB socket to <pub_port>, subscribed to everything, and shows
	// each message, this client's own included.
	return chat.Run(ctx, cfg)
}
