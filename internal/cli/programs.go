package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/zmqchat/zmqchat/internal/chat"
	"github.com/zmqchat/zmqchat/internal/client"
	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/server"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Program is the body of one of the eight programs: what its main hands to
// Main.
type Program func(ctx context.Context, args []string, env Env) error

// The eight programs, each the whole of its part's main.
var (
	PostServer = serverProgram(serverSpec{
		Name:    "post_server",
		Clients: []string{"post_client HOST POST <username> <message>"},
	})
	PubServer = serverProgram(serverSpec{
		Name:    "pub_server",
		Publish: true,
		Clients: []string{"pub_client HOST PUB", "post_client HOST POST <username> <message>"},
	})
	InteractiveServer = serverProgram(serverSpec{
		Name:    "interactive_server",
		Publish: true,
		Clients: []string{"interactive_client HOST POST PUB <name>"},
	})
	MCServer = serverProgram(serverSpec{
		Name:     "mc_server",
		Publish:  true,
		Channels: true,
		Clients:  []string{"mc_client HOST POST PUB <channel> <name>", "mc_client HOST POST PUB ALL <name>   (sees every channel, read-only)"},
	})
	InteractiveClient = chatProgram("interactive_client", false)
	MCClient          = chatProgram("mc_client", true)
)

// serverSpec says which part's server a program is.
type serverSpec struct {
	Name string
	// Clients are the client command lines the banner suggests, with HOST,
	// POST and PUB standing for the server's address and ports.
	Clients  []string
	Publish  bool // part 2 on: a PUB socket on its own port
	Channels bool // part 4: multi-channel rules
}

// serverProgram returns the program of a zmqchat server: post_server,
// pub_server, interactive_server or mc_server.
func serverProgram(spec serverSpec) Program {
	return func(ctx context.Context, args []string, env Env) error { return runServer(ctx, args, env, spec) }
}

func runServer(ctx context.Context, args []string, env Env, spec serverSpec) error {
	summary := "Takes posts (REQ/REP) and keeps every message in memory until stopped (Ctrl-C)."
	pos := []string{"<ip>", "<port>"}
	if spec.Publish {
		summary = "Takes posts (REQ/REP), keeps every message in memory and publishes it (PUB) until stopped (Ctrl-C)."
		pos = []string{"<ip>", "<post_port>", "<pub_port>"}
	}
	if spec.Channels {
		summary += "\nPosts name a channel; channel ALL is read-only and shows every channel."
	}
	cmd := NewCommand(spec.Name, summary+"\n<ip> is an address, a host name, or * for every interface.", pos...)
	cpuprofile := cmd.String("cpuprofile", "", "write a CPU profile (pprof) to `file` until the server stops")
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	cfg := server.Config{Channels: spec.Channels, Log: env.Stdout}
	if spec.Publish {
		post, pub, err := cmd.endpoints(transport.BindEndpoint, a[0], a[1], a[2])
		if err != nil {
			return err
		}
		cfg.Post, cfg.Pub = post, &pub
	} else if cfg.Post, err = cmd.endpoint(transport.BindEndpoint, a[0], a[1]); err != nil {
		return err
	}
	srv, err := server.Listen(cfg)
	if err != nil {
		return err
	}
	defer transport.Shutdown()

	if spec.Publish {
		fmt.Fprintf(env.Stdout, "%s: taking posts on %s, publishing on %s; Ctrl-C stops\n", spec.Name, cfg.Post, cfg.Pub)
	} else {
		fmt.Fprintf(env.Stdout, "%s: taking posts on %s; Ctrl-C stops\n", spec.Name, cfg.Post)
	}
	host := a[0]
	if host == "*" {
		host = "127.0.0.1"
	}
	ports := append(a[1:], "")
	fill := strings.NewReplacer("HOST", host, "POST", ports[0], "PUB", ports[1])
	for _, c := range spec.Clients {
		fmt.Fprintf(env.Stdout, "%s: connect with: %s\n", spec.Name, filepath.Join(filepath.Dir(os.Args[0]), fill.Replace(c)))
	}
	err = srv.Serve(ctx)
	fmt.Fprintf(env.Stdout, "%s: stopped; %d messages stored\n", spec.Name, srv.Store().Len())
	return err
}

// PostClient is post_client: it posts one message and waits for the reply.
func PostClient(ctx context.Context, args []string, env Env) error {
	cmd := NewCommand("post_client",
		"Posts one message, stamped with the current time, and waits for the server's reply.\nExit status: 0 stored, 1 refused or no reply, 2 wrong arguments.",
		"<ip>", "<port>", "<username>", "<message>")
	posting := posterFlags(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	ep, err := cmd.endpoint(transport.ConnectEndpoint, a[0], a[1])
	if err != nil {
		return err
	}
	timeout, retries, err := posting()
	if err != nil {
		return err
	}
	m := msg.Message{Username: a[2], Time: time.Now(), Body: a[3]}
	if err := m.Check(false); err != nil {
		return cmd.Usagef("%v", err)
	}
	p, err := client.NewPoster(ep, timeout, retries)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.Post(ctx, m); err != nil {
		if msg.IsInvalid(err) {
			return fmt.Errorf("the server refused the message: %w", err)
		}
		if errors.Is(err, context.Canceled) {
			return errors.New("interrupted before the server replied")
		}
		return err
	}
	fmt.Fprintln(env.Stdout, "posted:", display.Line(m, false))
	return nil
}

// PubClient is pub_client: it prints every message published until
// interrupted.
func PubClient(ctx context.Context, args []string, env Env) error {
	cmd := NewCommand("pub_client", "Prints every message the server publishes, as \"username: message (time)\", until Ctrl-C.",
		"<ip>", "<pub_port>")
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	ep, err := cmd.endpoint(transport.ConnectEndpoint, a[0], a[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "pub_client: listening to %s; Ctrl-C stops\n", ep)
	warn := func(s string) { fmt.Fprintln(env.Stderr, "pub_client:", s) }
	return client.Subscribe(ctx, ep, client.Subscription{All: true}, client.Handlers{
		Deliver:    func(m msg.Message) { fmt.Fprintln(env.Stdout, display.Line(m, false)) },
		Malformed:  func(err error) { warn(err.Error()) },
		Connection: client.ReportConnection(ep, warn),
	})
}

// chatProgram returns the program of interactive_client (channels false)
// or mc_client (channels true).
func chatProgram(name string, channels bool) Program {
	return func(ctx context.Context, args []string, env Env) error {
		return runChat(ctx, args, env, name, channels)
	}
}

func runChat(ctx context.Context, args []string, env Env, name string, channels bool) error {
	pos := []string{"<ip>", "<post_port>", "<pub_port>", "<name>"}
	summary := "Chat: each line typed is posted; every message is shown as it arrives.\nCtrl-D or Ctrl-C leaves."
	if channels {
		pos = []string{"<ip>", "<post_port>", "<pub_port>", "<channel>", "<name>"}
		summary = "Chat on one channel: each line typed is posted to it; its messages are shown as they arrive.\n" +
			"Channel ALL shows every channel and is read-only. Ctrl-D or Ctrl-C leaves."
	}
	cmd := NewCommand(name, summary, pos...)
	posting := posterFlags(cmd)
	a, err := cmd.Parse(args)
	if err != nil {
		return err
	}
	cfg := chat.Config{Channels: channels, Name: a[len(a)-1],
		In: env.Stdin, Out: env.Stdout, Err: env.Stderr, NoColor: os.Getenv("NO_COLOR") != ""}
	if cfg.Timeout, cfg.Retries, err = posting(); err != nil {
		return err
	}
	if cfg.Post, cfg.Pub, err = cmd.endpoints(transport.ConnectEndpoint, a[0], a[1], a[2]); err != nil {
		return err
	}
	if channels {
		cfg.Channel = a[3]
		if err := msg.CheckChannel(cfg.Channel); err != nil {
			return cmd.Usagef("%v", err)
		}
	}
	if err := msg.CheckUsername(cfg.Name); err != nil {
		return cmd.Usagef("%v", err)
	}
	where := ""
	if channels {
		where = " on " + cfg.Channel
	}
	fmt.Fprintf(env.Stderr, "%s: %s%s via %s and %s; type a line and press Enter to post; Ctrl-D or Ctrl-C leaves\n",
		name, cfg.Name, where, cfg.Post, cfg.Pub)
	return chat.Run(ctx, cfg)
}

// posterFlags adds a poster's -timeout and -retries to cmd. The function it
// returns, called after parsing, checks and returns them.
func posterFlags(cmd *Command) func() (time.Duration, int, error) {
	timeout := cmd.Duration("timeout", client.DefaultTimeout, "how long to wait for the reply to each post")
	retries := cmd.Int("retries", client.DefaultRetries, "how many times to resend a post after a timeout (resending is safe)")
	return func() (time.Duration, int, error) {
		if *timeout <= 0 || *retries < 0 {
			return 0, 0, cmd.Usagef("-timeout must be positive and -retries not negative")
		}
		return *timeout, *retries, nil
	}
}
