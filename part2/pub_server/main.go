// Command pub_server is part 2's server: part 1's post_server, which also
// publishes every stored message on a PUB socket of its own port.
//
//	pub_server [-store file [-sync]] [-cpuprofile file] <ip> <post_port> <pub_port>
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
<ip> is an address, a host name, or * for every interface; port 0 picks a free port.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("pub_server", summary, "<ip>", "<post_port>", "<pub_port>")
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

	// Two sockets: REP (ROUTER with -store) on <post_port> takes posts; PUB on <pub_port> sends
	// each stored message to every subscriber, as frames channel (""),
	// username, time, message.
	srv, err := server.Listen(server.Config{
		Post:        post,
		Pub:         &pub,
		Mode:        msg.SingleRoom,
		Log:         env.Stdout,
		Warn:        cli.Warn(env, "pub_server"),
		Name:        "pub_server",
		StoreBudget: opts.StoreBudget(),
		StoreFile:   opts.StoreFile(),
		StoreSync:   opts.StoreSync(),
	})
	if err != nil {
		return err
	}
	defer transport.Shutdown()
	pubEP, _ := srv.PubEndpoint()
	cli.Announce(env.Stdout, "pub_server", a[0], srv.PostEndpoint(), pubEP,
		"pub_client HOST PUB", "post_client HOST POST <username> <message>")

	// The loop: receive a post, check and store it, publish it, reply.
	// Its last log line, once stopped, says how many messages it stored.
	return srv.Serve(ctx)
}
