// Command post_server takes posts and keeps every message in memory (part 1).
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() {
	os.Exit(cli.Main(func(ctx context.Context, args []string, env cli.Env) error {
		return cli.Server(ctx, args, env, cli.ServerSpec{
			Name:    "post_server",
			Clients: []string{"post_client HOST POST <username> <message>"},
		})
	}))
}
