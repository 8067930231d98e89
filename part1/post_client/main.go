// Command post_client is part 1's client: it posts one message, stamped
// with the current time, on a REQ socket and waits for the server's reply.
//
//	post_client [-timeout 2.5s] [-retries 1] <ip> <port> <username> <message>
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/client"
	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
)

const summary = `Posts one message, stamped with the current time, and waits for the server's reply.
Exit status: 0 stored, 1 refused or no reply, 2 wrong arguments.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("post_client", summary, "<ip>", "<port>", "<username>", "<message>")
	var posting client.Options
	posting.Flags(cmd.FlagSet)
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
	if err := posting.Check(); err != nil {
		return cmd.Usagef("%v", err)
	}
	if err := msg.CheckBody(a[3]); err != nil {
		return cmd.Invalidf("%v", err)
	}
	// The name is posted in its normal form (PRECIS: ａｎｎ is ann).
	m, err := msg.Message{Username: a[2], Time: time.Now(), Body: a[3]}.Normalize(msg.SingleRoom)
	if err != nil {
		return cmd.Usagef("%v", err)
	}

	// One REQ socket to <port>. A post whose reply does not come within
	// -timeout is resent on a new socket (the guide's Lazy Pirate); the
	// server stores a resent post once.
	p, err := client.NewPoster(ep, posting)
	if err != nil {
		return err
	}
	defer p.Close()
	switch err := p.Post(ctx, m); {
	case err == nil:
		fmt.Fprintln(env.Stdout, "posted:", display.Line(m))
		return nil
	case msg.IsInvalid(err):
		return fmt.Errorf("the server refused the message: %w", err)
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted before the server replied")
	default:
		return err
	}
}
