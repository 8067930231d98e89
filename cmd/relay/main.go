// Command relay stands for a zmqchat server (or another relay) on another
// address, so that its clients hold their connections to the relay and the
// server holds one per relay: libzmq's own devices pass requests upstream
// and their replies back (ROUTER/DEALER, the queue), and subscriptions
// upstream and publications down (XSUB/XPUB, the forwarder). Clients of
// parts 2 to 4 connect to it as to the server.
//
//	relay [-keys DIR -allow FILE -as DIR] <ip> <post_port> <pub_port> <upstream_ip> <upstream_post_port> <upstream_pub_port>
package main

import (
	"context"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/relay"
	"github.com/zmqchat/zmqchat/internal/transport"
)

const summary = `Relays a zmqchat server (or relay) at <upstream_ip> to clients on <ip>: they connect to it as to the server.
kill -USR1 says how many messages and bytes it passed each way; Ctrl-C stops.`

func main() { os.Exit(cli.Main(run)) }

func run(ctx context.Context, args []string, env cli.Env) error {
	cmd := cli.NewCommand("relay", summary, "<ip>", "<post_port>", "<pub_port>", "<upstream_ip>", "<upstream_post_port>", "<upstream_pub_port>")
	keyed := cli.RelayKeyFlags(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	postAt, pubAt, err := cmd.BindPair(a[0], a[1], a[2])
	if err != nil {
		return err
	}
	upPost, upPub, err := cmd.ConnectPair(a[3], a[4], a[5])
	if err != nil {
		return err
	}
	warn := cli.Warn(env, "relay")
	// Keyed, it lets in the allow-list's keys, as the server would, and is
	// let in upstream by its own.
	if err := keyed.Apply([]*transport.Endpoint{&postAt, &pubAt}, []*transport.Endpoint{&upPost, &upPub}, warn); err != nil {
		return err
	}
	stats := make(chan os.Signal, 1)
	signal.Notify(stats, syscall.SIGUSR1)
	defer signal.Stop(stats)
	defer transport.Shutdown()

	r, bound, err := start(postAt, pubAt, upPost, upPub)
	if err != nil {
		return err
	}
	cli.Announce(env.Stdout, "relay", a[0], bound[0], bound[1], "mc_client HOST POST PUB <channel> <name>")
	warn("relaying " + upPost.String() + " and " + upPub.String())

	// Until Ctrl-C, each device's proxy in its goroutine; statistics on
	// SIGUSR1.
	return relay.Run(ctx, r, stats, warn)
}

// start opens the relay's four sockets, where a reader sees them, and
// starts its two devices; it returns the post and publish endpoints bound.
func start(postAt, pubAt, upPost, upPub transport.Endpoint) (*relay.Relay, [2]transport.Endpoint, error) {
	var open []interface{ Close() error }
	var mons []*zmq.Socket
	fail := func(err error) (*relay.Relay, [2]transport.Endpoint, error) {
		for _, s := range open {
			s.Close()
		}
		for _, m := range mons {
			m.Close()
		}
		return nil, [2]transport.Endpoint{}, err
	}
	// Each upstream socket's connection is watched, to say when it is lost.
	monitor := func(s *zmq.Socket) error {
		mon, err := transport.Monitor(s, relay.Upstream)
		if err == nil {
			mons = append(mons, mon)
		}
		return err
	}
	// Requests: ROUTER on <post_port>, DEALER to the upstream's post port.
	front, err := transport.Listen(zmq.ROUTER, postAt)
	if err != nil {
		return fail(err)
	}
	open = append(open, front)
	back, err := transport.DialUpstream(zmq.DEALER, upPost, monitor)
	if err != nil {
		return fail(err)
	}
	open = append(open, back)
	// Publications: XSUB from the upstream's publish port, XPUB on
	// <pub_port>, which welcomes each subscriber with the relay's own post
	// port (see welcomed).
	down, err := welcomed(pubAt, front.At)
	if err != nil {
		return fail(err)
	}
	open = append(open, down)
	up, err := transport.DialUpstream(zmq.XSUB, upPub, monitor)
	if err != nil {
		return fail(err)
	}
	open = append(open, up)
	r, err := relay.Start(relay.Device{Name: "requests", Front: front.Socket, Back: back},
		relay.Device{Name: "publications", Front: down.Socket, Back: up})
	if err != nil {
		return fail(err)
	}
	r.WatchUpstream(mons[0], upPost.String()+" (requests)")
	r.WatchUpstream(mons[1], upPub.String()+" (publications)")
	return r, [2]transport.Endpoint{front.At, down.At}, nil
}

// welcomed binds the relay's XPUB on pubAt, welcoming each subscriber with
// the relay's post port, post, where it asks for what it missed; the
// numbering is the upstream's, which the relay does not know.
func welcomed(pubAt, post transport.Endpoint) (*transport.Listener, error) {
	down, err := transport.Listen(zmq.XPUB, pubAt)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(post.Port())
	if err := down.SetXpubWelcomeMsg(string(msg.Welcome(msg.UnknownNumbering, port))); err != nil {
		down.Close()
		return nil, err
	}
	return down, nil
}
