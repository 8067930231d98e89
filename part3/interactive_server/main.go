// Command interactive_server serves interactive chat clients: takes posts and publishes them (part 3).
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() {
	os.Exit(cli.Main(func(ctx context.Context, args []string, env cli.Env) error {
		return cli.Server(ctx, args, env, cli.ServerSpec{
			Name:    "interactive_server",
			Publish: true,
			Clients: []string{"interactive_client HOST POST PUB <name>"},
		})
	}))
}
