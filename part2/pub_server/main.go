// Command pub_server takes posts, keeps them and publishes each one (part 2).
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() {
	os.Exit(cli.Main(func(ctx context.Context, args []string, env cli.Env) error {
		return cli.Server(ctx, args, env, cli.ServerSpec{
			Name:    "pub_server",
			Publish: true,
			Clients: []string{"pub_client HOST PUB", "post_client HOST POST <username> <message>"},
		})
	}))
}
