// Command post_client posts one message to a zmqchat server (part 1).
package main

import (
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() { os.Exit(cli.Main(cli.PostClient)) }
