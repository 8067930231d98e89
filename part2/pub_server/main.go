// Command pub_server takes posts, keeps them and publishes each one (part 2).
package main

import (
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() { os.Exit(cli.Main(cli.PubServer)) }
