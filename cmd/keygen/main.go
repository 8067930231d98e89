// Command keygen makes a CurveZMQ key pair for zmqchat's keyed mode: the
// secret key and the public key, as Z85 text, in a directory that only its
// owner can read. A server lists users' public keys in its allow-list;
// users give the server's public key to their clients.
//
//	keygen <dir>
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/keys"
)

const summary = `Makes a CurveZMQ key pair in <dir>: secret.key (readable by you only) and public.key.
Give public.key to the server's keeper (users) or to the users (a server); never secret.key.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("keygen", summary, "<dir>")
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	pair, err := keys.Generate(a[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "keygen: secret key in %s (keep it to yourself)\n", filepath.Join(a[0], keys.SecretFile))
	fmt.Fprintf(env.Stdout, "keygen: public key in %s:\n%s\n", filepath.Join(a[0], keys.PublicFile), pair.Public)
	return nil
}
