// Command pub_server is part 2's server: part 1's post_server, which also
// publishes every stored message on a PUB socket of its own port.
//
//	pub_server [-store file [-sync]] [-store-mib n] [-memory n] [-keys dir -allow file] <ip> <post_port> <pub_port>
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

const summary = `Takes posts (REQ/REP), keeps every message in memory (and with -store in a file) and publishes it (PUB) until stopped (Ctrl-C).
<ip> is an address, a host name, or * for every interface; port 0 picks a free port.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("pub_server", summary, "<ip>", "<post_port>", "<pub_port>")
	opts := server.Flags(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	postAt, pubAt, err := cmd.BindPair(a[0], a[1], a[2])
	if err != nil {
		return err
	}
	setup, err := opts.Start(ctx, env, &postAt, &pubAt)
	if err != nil {
		return err
	}
	defer setup.Stop()
	defer transport.Shutdown() // libzmq's context, once Serve has closed the sockets

	// ROUTER on <post_port>, for the clients' REQ: REP's own socket, whose
	// envelope shows who a relay passed a request on for. Each post is
	// answered OK once it is stored, or ERR with the reason it was refused.
	post, err := transport.Listen(zmq.ROUTER, postAt)
	if err != nil {
		return err
	}
	// PUB on <pub_port>: each stored message goes to every subscriber, as
	// the frames channel (""), username, time, message and its number;
	// each new subscriber is first welcomed with where to ask for what it
	// misses.
	pub, err := transport.Listen(zmq.PUB, pubAt)
	if err != nil {
		post.Close()
		return err
	}
	srv, err := server.New(server.Config{Post: post, Pub: pub, Store: setup.Store, Mode: msg.SingleRoom,
		Log: env.Stdout, Warn: setup.Warn, Memory: setup.Memory, Name: "pub_server"})
	if err != nil {
		return err
	}
	cli.Announce(env.Stdout, "pub_server", a[0], post.At, pub.At,
		"pub_client HOST PUB", "post_client HOST POST <username> <message>")

	// The loop (server.Serve): receive a post, check and store it, publish
	// it, reply. Its last log line, once stopped, says how many messages it
	// stored.
	return srv.Serve(ctx)
}
