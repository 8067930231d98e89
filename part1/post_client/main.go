// Command post_client posts one message to a zmqchat server (part 1).
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() {
	os.Exit(cli.Main(func(ctx context.Context, args []string, env cli.Env) error {
		return cli.PostClient(ctx, args, env)
	}))
}
