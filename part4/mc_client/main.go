// Command mc_client is part 4's client: part 3's interactive client on one
// channel. It posts each line typed to <channel> and shows only that
// channel's messages; on ALL it shows every channel and is read-only.
//
//	mc_client [-timeout 2.5s] [-retries 1] [-history N] <ip> <post_port> <pub_port> <channel> <name>
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/chat"
	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/msg"
)

const summary = `Chat on one channel: each line typed is posted to it; its messages are shown as they arrive.
Channel ALL shows every channel and is read-only. Ctrl-D or Ctrl-C leaves.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("mc_client", summary, "<ip>", "<post_port>", "<pub_port>", "<channel>", "<name>")
	cfg := chat.Config{Program: "mc_client", Mode: msg.MultiChannel, In: env.Stdin, Out: env.Stdout, Err: env.Stderr, NoColor: os.Getenv("NO_COLOR") != ""}
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
	// Names are used in their normal form (PRECIS: ａｎｎ is ann).
	if cfg.Channel, err = msg.NormalizeChannel(a[3]); err != nil {
		return cmd.Usagef("%v", err)
	}
	if cfg.Name, err = msg.NormalizeName("username", a[4]); err != nil {
		return cmd.Usagef("%v", err)
	}

	// chat.Run: three goroutines. One reads lines. One owns the post
	// socket to <post_port> and posts them to <channel>: a REQ socket at a
	// terminal, a post at a time; a DEALER socket on a pipe, up to 64 in
	// flight. One owns a SUB socket to <pub_port>, subscribed to <channel>
	// (everything on ALL), and shows the messages whose channel is exactly
	// <channel>: a subscription matches a prefix, so "dev" would also
	// bring "devops".
	return chat.Run(ctx, cfg)
}
