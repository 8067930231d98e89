// Command post_server is part 1's server: it takes posts on a REP socket,
// checks each one, keeps every message in memory and prints it, until it
// is stopped.
//
//	post_server [-store file [-sync]] [-cpuprofile file] <ip> <port>
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server"
	"github.com/zmqchat/zmqchat/internal/transport"
)

const summary = `Takes posts (REQ/REP) and keeps every message in memory (and with -store in a file) until stopped (Ctrl-C).
<ip> is an address, a host name, or * for every interface; port 0 picks a free port.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("post_server", summary, "<ip>", "<port>")
	opts := cli.ServerFlags(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	post, err := cmd.Bind(a[0], a[1])
	if err != nil {
		return err
	}
	stop, err := opts.Start(ctx, env, &post)
	if err != nil {
		return err
	}
	defer stop()

	// One socket: REP (ROUTER with -store) on <port>, where each post is answered OK once it is
	// stored, or ERR with the reason it was refused.
	srv, err := server.Listen(server.Config{
		Post:        post,
		Mode:        msg.SingleRoom,
		Log:         env.Stdout,
		Warn:        cli.Warn(env, "post_server"),
		Name:        "post_server",
		StoreBudget: opts.StoreBudget(),
		StoreFile:   opts.StoreFile(),
		StoreSync:   opts.StoreSync(),
	})
	if err != nil {
		return err
	}
	defer transport.Shutdown()
	cli.Announce(env.Stdout, "post_server", a[0], srv.PostEndpoint(), transport.Endpoint{},
		"post_client HOST POST <username> <message>")

	// The loop: receive a post, check it, store it, print it, reply.
	// Its last log line, once stopped, says how many messages it stored.
	return srv.Serve(ctx)
}
