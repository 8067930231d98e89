// Command interactive_server serves interactive chat clients: takes posts and publishes them (part 3).
package main

import (
	"os"

	"github.com/zmqchat/zmqchat/internal/cli"
)

func main() { os.Exit(cli.Main(cli.InteractiveServer)) }
