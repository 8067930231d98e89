package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/zmqchat/zmqchat/internal/keys"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// ClientKeys are the flags of a client's keyed mode.
type ClientKeys struct {
	cmd       *Command
	keys      *string
	serverKey *string
}

// ClientKeyFlags adds -keys and -server-key to cmd.
func ClientKeyFlags(cmd *Command) *ClientKeys {
	return &ClientKeys{
		cmd:       cmd,
		keys:      cmd.String("keys", "", "keyed mode: your key pair in `dir` (made by keygen); needs -server-key"),
		serverKey: cmd.String("server-key", "", "keyed mode: the server's public `key`, or a file holding it"),
	}
}

// Apply makes endpoints speak CurveZMQ when the flags ask for keyed mode.
func (k *ClientKeys) Apply(endpoints ...*transport.Endpoint) error {
	if (*k.keys == "") != (*k.serverKey == "") {
		return k.cmd.Usagef("-keys and -server-key go together: keyed mode needs your keys and the server's public key")
	}
	if *k.keys == "" {
		return nil
	}
	pair, err := keys.Load(*k.keys)
	if err != nil {
		return err
	}
	server, err := keys.PublicKey(*k.serverKey)
	if err != nil {
		return fmt.Errorf("-server-key: %w", err)
	}
	for _, ep := range endpoints {
		ep.Curve = &transport.Curve{Pair: pair, Server: server}
	}
	return nil
}

// Announce prints a server's banner: the endpoints it actually bound (the
// line tests read to learn a port 0 server's ports), then each client
// command line to paste, with HOST, POST and PUB standing for the server's
// address and ports. pub is the zero Endpoint for a server that does not
// publish.
func Announce(w io.Writer, name, host string, post, pub transport.Endpoint, clients ...string) {
	if pub.URL == "" {
		fmt.Fprintf(w, "%s: taking posts on %s; Ctrl-C stops\n", name, post)
	} else {
		fmt.Fprintf(w, "%s: taking posts on %s, publishing on %s; Ctrl-C stops\n", name, post, pub)
	}
	if host == "*" {
		host = "127.0.0.1"
	}
	keyed := ""
	if post.Curve != nil {
		// Single quotes: Z85 has shell characters, but no quote.
		keyed = "-keys YOUR_KEY_DIR -server-key '" + post.Curve.Public + "' "
	}
	fill := strings.NewReplacer("HOST", host, "POST", post.Port(), "PUB", pub.Port())
	dir := filepath.Dir(os.Args[0])
	for _, c := range clients {
		prog, args, _ := strings.Cut(fill.Replace(c), " ")
		fmt.Fprintf(w, "%s: connect with: %s %s%s\n", name, filepath.Join(dir, prog), keyed, args)
	}
}

// Also is the -also flag: more servers or relays of the same chat, which
// a client connects to as well (see transport.Endpoint's Also).
type Also struct {
	cmd  *Command
	list *string
}

// AlsoFlag adds -also to cmd.
func AlsoFlag(cmd *Command) *Also {
	return &Also{cmd: cmd, list: cmd.String("also", "", "more relays (or the server) of the same chat, `host:post_port:pub_port[,...]`: connected to as well, so that losing one loses nothing")}
}

// Given reports whether -also was given.
func (a *Also) Given() bool { return *a.list != "" }

// Apply adds the flag's endpoints to post and pub.
func (a *Also) Apply(post, pub *transport.Endpoint) error {
	if *a.list == "" {
		return nil
	}
	for _, entry := range strings.Split(*a.list, ",") {
		i := strings.LastIndexByte(entry, ':')
		j := strings.LastIndexByte(entry[:max(i, 0)], ':')
		if i < 0 || j < 0 {
			return a.cmd.Usagef("-also %q: want host:post_port:pub_port", entry)
		}
		p, q, err := a.cmd.ConnectPair(strings.Trim(entry[:j], "[]"), entry[j+1:i], entry[i+1:])
		if err != nil {
			return err
		}
		post.Also, pub.Also = append(post.Also, p.URL), append(pub.Also, q.URL)
	}
	return nil
}

// RelayKeys are the flags of a relay's keyed mode.
type RelayKeys struct {
	cmd               *Command
	keys, allow, self *string
}

// RelayKeyFlags adds -keys, -allow and -as to cmd.
func RelayKeyFlags(cmd *Command) *RelayKeys {
	return &RelayKeys{
		cmd:   cmd,
		keys:  cmd.String("keys", "", "keyed mode: the server's key pair in `dir`, which the relay shows its clients, so that they need only the server's public key; needs -allow and -as"),
		allow: cmd.String("allow", "", "keyed mode: the allow-list `file` (the server's) of the users, and relays, it lets in"),
		self:  cmd.String("as", "", "keyed mode: the relay's own key pair in `dir` (made by keygen), by which its upstream knows it: listed there as \"relay NAME KEY\""),
	}
}

// Apply makes the relay's endpoints speak CurveZMQ when the flags ask for
// keyed mode: front, to its clients, behind a gate of the allow-list, as
// the server; up, to its upstream, as the relay itself. say reports whom
// the gate refuses.
func (k *RelayKeys) Apply(front, up []*transport.Endpoint, say func(string)) error {
	if *k.keys == "" && *k.allow == "" && *k.self == "" {
		return nil
	}
	if *k.keys == "" || *k.allow == "" || *k.self == "" {
		return k.cmd.Usagef("-keys, -allow and -as go together: a keyed relay needs the server's keys, the allow-list and its own keys")
	}
	server, err := keys.Load(*k.keys)
	if err != nil {
		return err
	}
	self, err := keys.Load(*k.self)
	if err != nil {
		return err
	}
	list, err := keys.ReadAllowList(*k.allow)
	if err != nil {
		return err
	}
	gate := transport.NewGate(list, say)
	for _, ep := range front {
		ep.Curve = &transport.Curve{Pair: server, Gate: gate}
	}
	for _, ep := range up {
		ep.Curve = &transport.Curve{Pair: self, Server: server.Public}
	}
	say(fmt.Sprintf("keyed mode: CurveZMQ, %s on %s; the server's public key %s; known upstream by %s",
		list, *k.allow, server.Public, self.Public))
	return nil
}
