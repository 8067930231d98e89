// Command mc_server is part 4's server: every post names a channel, and
// each message is published with its channel as the topic, so a client
// subscribes to one channel. Channel ALL is read-only: a post to it is
// refused, and its clients subscribe to everything.
//
//	mc_server [-store file [-sync]] [-cpuprofile file] <ip> <post_port> <pub_port>
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server"
	"github.com/zmqchat/zmqchat/internal/transport"
)

const summary = `Takes posts (REQ/REP), keeps every message in memory (and with -store in a file) and publishes it (PUB) until stopped (Ctrl-C).
Posts name a channel; channel ALL is read-only and shows every channel.
<ip> is an address, a host name, or * for every interface; port 0 picks a free port.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("mc_server", summary, "<ip>", "<post_port>", "<pub_port>")
	opts := cli.ServerFlags(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	post, pub, err := cmd.BindPair(a[0], a[1], a[2])
	if err != nil {
		return err
	}
	stop, err := opts.Start(ctx, env, &post, &pub)
	if err != nil {
		return err
	}
	defer stop()

	// REP (ROUTER with -store) on <post_port> takes posts; MultiChannel rules mean each names a
	// channel other than ALL. PUB on <pub_port> sends each stored message
	// with its channel as frame 0, the topic a subscriber's prefix matches.
	srv, err := server.Listen(server.Config{
		Post:        post,
		Pub:         &pub,
		Mode:        msg.MultiChannel,
		Log:         env.Stdout,
		Warn:        cli.Warn(env, "mc_server"),
		Name:        "mc_server",
		StoreBudget: opts.StoreBudget(),
		StoreFile:   opts.StoreFile(),
		StoreSync:   opts.StoreSync(),
	})
	if err != nil {
		return err
	}
	defer transport.Shutdown()
	pubEP, _ := srv.PubEndpoint()
	cli.Announce(env.Stdout, "mc_server", a[0], srv.PostEndpoint(), pubEP,
		"mc_client HOST POST PUB <channel> <name>",
		"mc_client HOST POST PUB ALL <name>   (sees every channel, read-only)")

	// The loop: receive a post, check and store it, publish it on its
	// channel, reply.
	// Its last log line, once stopped, says how many messages it stored.
	return srv.Serve(ctx)
}
