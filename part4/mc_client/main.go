// Command mc_client chats on one channel, or watches them all on ALL (part 4).
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() {
	os.Exit(cli.Main(func(ctx context.Context, args []string, env cli.Env) error {
		return cli.Chat(ctx, args, env, "mc_client", true)
	}))
}
