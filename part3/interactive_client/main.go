// Command interactive_client chats: posts each line typed and shows every message as it arrives (part 3).
package main

import (
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() { os.Exit(cli.Main(cli.InteractiveClient)) }
