// Command mc_server serves multi-channel chat: posts carry a channel, published under it (part 4).
package main

import (
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() { os.Exit(cli.Main(cli.MCServer)) }
