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
	history := cmd.Int("history", 0, fmt.Sprintf("first print the `n` most recent messages, up to %d (needs -post-port)", msg.MaxHistory))
	postPort := cmd.String("post-port", "", "the server's post `port`, which -history asks")
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	if *history < 0 || *history > msg.MaxHistory || (*history > 0) != (*postPort != "") {
		return cmd.Usagef("-history takes 1 to %d messages, and goes with -post-port (the server's first port)", msg.MaxHistory)
	}
	ep, err := cmd.Connect(a[0], a[1])
	if err != nil {
		return err
	}
	post := ep
	if *history > 0 {
		if post, ep, err = cmd.ConnectPair(a[0], *postPort, a[1]); err != nil {
			return err
		}
	}
	if err := keyed.Apply(&post, &ep); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "pub_client: listening to %s; Ctrl-C stops\n", ep)
	warn := func(s string) { fmt.Fprintln(env.Stderr, "pub_client:", s) }

	// One SUB socket to <pub_port>, subscribed to everything. With
	// -history, once it is up, a REQ socket to the post port fetches the
	// history, shown first, each message once. The loop prints each
	// publication until Ctrl-C, and says when the connection to the server
	// is made, lost and made again.
	show := func(m msg.Message) { fmt.Fprintln(env.Stdout, display.Line(m)) }
	join := client.NewJoin(show, func(ms []msg.Message) {
		for _, m := range ms {
			show(m)
		}
	}, *history > 0)
	if *history > 0 {
		go fetchHistory(ctx, post, join, *history, warn)
	}
	return client.Subscribe(ctx, ep, client.Subscription{All: true},
		join.Handlers(client.ReportConnection(ep, warn), func(err error) { warn(err.Error()) }))
}

// fetchHistory asks for the n most recent messages once the subscription
// is up, on a REQ socket of its own.
func fetchHistory(ctx context.Context, post transport.Endpoint, join *client.Join, n int, warn func(string)) {
	defer join.History(nil)
	poster, err := client.NewPoster(post, client.Options{Timeout: client.DefaultTimeout, Retries: client.DefaultRetries})
	if err != nil {
		warn("no history shown: " + err.Error())
		return
	}
	defer poster.Close()
	if err := join.Fetch(ctx, poster, "", n, client.DefaultTimeout); err != nil && ctx.Err() == nil {
		warn("no history shown: " + err.Error())
	}
}
