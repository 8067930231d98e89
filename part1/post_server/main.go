// Command post_server is part 1's server: it takes posts from REQ clients
// (on ROUTER, answering as REP), checks them, keeps every message in
// memory (or, with -store, in an SQLite file) and prints one line per
// message until stopped.
//
//	post_server [-store file [-sync]] [-store-mib n] [-memory n] [-keys dir -allow file] <ip> <port>
package main

import (
	"context"
	"os"

	zmq "github.com/pebbe/zmq4"

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
	opts := server.Flags(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	postAt, err := cmd.Bind(a[0], a[1])
	if err != nil {
		return err
	}
	setup, err := opts.Start(ctx, env, &postAt)
	if err != nil {
		return err
	}
	defer setup.Stop()
	defer transport.Shutdown() // libzmq's context, once Serve has closed the sockets

	// ROUTER on <port>, for post_client's REQ: REP's own socket, whose
	// envelope shows who a relay passed a request on for. Each post is
	// answered OK once it is stored, or ERR with the reason it was refused.
	post, err := transport.Listen(zmq.ROUTER, postAt)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{Post: post, Store: setup.Store, Mode: msg.SingleRoom,
		Log: env.Stdout, Warn: setup.Warn, Memory: setup.Memory, Name: "post_server"})
	if err != nil {
		return err
	}
	cli.Announce(env.Stdout, "post_server", a[0], post.At, transport.Endpoint{},
		"post_client HOST POST <username> <message>")

	// The loop (server.Serve): receive a post, check and store it, print it,
	// reply. Its last log line, once stopped, says how many messages it
	// stored.
	return srv.Serve(ctx)
}
