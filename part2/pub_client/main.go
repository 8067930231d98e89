// Command pub_client prints every message a zmqchat server publishes (part 2).
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() {
	os.Exit(cli.Main(func(ctx context.Context, args []string, env cli.Env) error {
		return cli.PubClient(ctx, args, env)
	}))
}
