// Command post_server takes posts and keeps every message in memory (part 1).
package main

import (
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() { os.Exit(cli.Main(cli.PostServer)) }
