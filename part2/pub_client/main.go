// Command pub_client is part 2's subscriber: it connects a SUB socket to a
// server's publish port and prints every message as
// "username: message (time)" until interrupted.
//
//	pub_client <ip> <pub_port>
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/client"
	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
)

const summary = `Prints every message the server publishes, as "username: message (time)", until Ctrl-C.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("pub_client", summary, "<ip>", "<pub_port>")
	keyed := cli.ClientKeyFlags(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	ep, err := cmd.Connect(a[0], a[1])
	if err != nil {
		return err
	}
	if err := keyed.Apply(&ep); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "pub_client: listening to %s; Ctrl-C stops\n", ep)
	warn := func(s string) { fmt.Fprintln(env.Stderr, "pub_client:", s) }

	// One SUB socket to <pub_port>, subscribed to everything. The loop
	// prints each publication until Ctrl-C, and says when the connection to
	// the server is made, lost and made again.
	return client.Subscribe(ctx, ep, client.Subscription{All: true}, client.Handlers{
		Deliver:    func(m msg.Message) { fmt.Fprintln(env.Stdout, display.Line(m)) },
		Malformed:  func(err error) { warn(err.Error()) },
		Connection: client.ReportConnection(ep, warn),
	})
}
