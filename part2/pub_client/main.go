// Command pub_client is part 2's subscriber: it connects a SUB socket to a
// server's publish port and prints every message as
// "username: message (time)" until interrupted. With -history N (and the
// server's -post-port) it first prints the N most recent messages.
//
//	pub_client [-history N -post-port P] <ip> <pub_port>
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/client"
	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/transport"
)

const summary = `Prints every message the server publishes, as "username: message (time)", until Ctrl-C.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("pub_client", summary, "<ip>", "<pub_port>")
	keyed := cli.ClientKeyFlags(cmd)
	also := cli.AlsoFlag(cmd)
	history := cmd.Int("history", 0, fmt.Sprintf("first print the `n` most recent messages, up to %d", msg.MaxHistory))
	postPort := cmd.String("post-port", "", "the server's post `port`, asked for history and what was missed (default: the one the server names)")
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	if *history < 0 || *history > msg.MaxHistory {
		return cmd.Usagef("-history takes 0 to %d messages", msg.MaxHistory)
	}
	if also.Given() && *postPort == "" {
		return cmd.Usagef("-also goes with -post-port: what was missed is fetched from each server's post port")
	}
	post, ep, err := endpoints(cmd, a[0], *postPort, a[1], also, keyed)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "pub_client: listening to %s; Ctrl-C stops\n", ep)
	warn := func(s string) { fmt.Fprintln(env.Stderr, "pub_client:", s) }

	// One SUB socket to <pub_port>, subscribed to everything, shows each
	// message in the server's order (the Join), and says when the
	// connection to the server is made, lost and made again. A REQ socket
	// to the post port (-post-port, or the one the server's welcome
	// names) fetches what the subscription missed, and with -history the
	// most recent messages, shown first.
	show := func(m msg.Message) { fmt.Fprintln(env.Stdout, display.Line(m)) }
	join := client.NewJoin(client.JoinConfig{Live: show, Warn: warn, All: true, Recent: *history,
		History: func(ms []msg.Message) {
			for _, m := range ms {
				show(m)
			}
		}})
	go join.Serve(ctx, post, ep, client.Options{Timeout: client.DefaultTimeout, Retries: client.DefaultRetries}, client.DefaultTimeout)
	return client.Subscribe(ctx, ep, client.Subscription{All: true},
		join.Handlers(client.ReportConnection(ep, warn), func(err error) { warn(err.Error()) }))
}

// endpoints returns where pub_client subscribes, and where it asks (nil
// for the post port the server's welcome names), with the -also and keyed
// flags applied.
func endpoints(cmd *cli.Command, host, postPort, pubPort string, also *cli.Also, keyed *cli.ClientKeys) (*transport.Endpoint, transport.Endpoint, error) {
	ep, err := cmd.Connect(host, pubPort)
	if err != nil {
		return nil, ep, err
	}
	post := ep
	if postPort != "" {
		if post, ep, err = cmd.ConnectPair(host, postPort, pubPort); err != nil {
			return nil, ep, err
		}
	}
	if err := also.Apply(&post, &ep); err != nil {
		return nil, ep, err
	}
	if err := keyed.Apply(&post, &ep); err != nil {
		return nil, ep, err
	}
	if postPort == "" {
		return nil, ep, nil
	}
	return &post, ep, nil
}
