// Command pub_client prints every message a zmqchat server publishes (part 2).
package main

import (
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() { os.Exit(cli.Main(cli.PubClient)) }
