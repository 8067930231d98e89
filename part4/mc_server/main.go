// Command mc_server serves multi-channel chat: posts carry a channel, published under it (part 4).
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() {
	os.Exit(cli.Main(func(ctx context.Context, args []string, env cli.Env) error {
		return cli.Server(ctx, args, env, cli.ServerSpec{
			Name:     "mc_server",
			Publish:  true,
			Channels: true,
			Clients:  []string{"mc_client HOST POST PUB <channel> <name>", "mc_client HOST POST PUB ALL <name>   (sees every channel, read-only)"},
		})
	}))
}
