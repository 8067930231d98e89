// Command interactive_client chats: posts each line typed and shows every message as it arrives (part 3).
package main

import (
	"context"
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() {
	os.Exit(cli.Main(func(ctx context.Context, args []string, env cli.Env) error {
		return cli.Chat(ctx, args, env, "interactive_client", false)
	}))
}
