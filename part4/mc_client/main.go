// Command mc_client chats on one channel, or watches them all on ALL (part 4).
package main

import (
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() { os.Exit(cli.Main(cli.MCClient)) }
