package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/zmqchat/zmqchat/internal/keys"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// ServerOptions are the flags every server takes.
type ServerOptions struct {
	cmd        *Command
	cpuprofile *string
	keys       *string
	allow      *string
	storeMiB   *int64
	storeFile  *string
	sync       *bool
}

// StoreBudget is the store's memory budget in bytes that -store-mib sets,
// or 0 for the store's default.
func (o *ServerOptions) StoreBudget() int64 { return *o.storeMiB << 20 }

// StoreFile is the store file -store names ("" for memory only).
func (o *ServerOptions) StoreFile() string { return *o.storeFile }

// StoreSync is whether -sync asks that every post reach the disk before
// its reply.
func (o *ServerOptions) StoreSync() bool { return *o.sync }

// ServerFlags adds the flags every server takes to cmd.
func ServerFlags(cmd *Command) *ServerOptions {
	return &ServerOptions{
		cmd:        cmd,
		cpuprofile: cmd.String("cpuprofile", "", "write a CPU profile (pprof) to `file` until the server stops"),
		keys:       cmd.String("keys", "", "keyed mode: the server's key pair in `dir` (made by keygen); needs -allow"),
		allow:      cmd.String("allow", "", "keyed mode: the allow-list `file`, a \"username public-key\" line per user; kill -USR1 re-reads it"),
		storeMiB:   cmd.Int64("store-mib", 0, "the memory the messages may take, in `MiB` (default 512; 64 with -store); past it the oldest are dropped from memory"),
		storeFile:  cmd.String("store", "", "keep every message in the SQLite `file` too (made if missing), and serve history from it after a restart"),
		sync:       cmd.Bool("sync", false, "with -store: flush each post to the disk before its reply, so that a power loss loses nothing"),
	}
}

// Start starts what the flags ask for and returns the function that ends
// it, for the server's main to defer. In keyed mode it makes the
// endpoints speak CurveZMQ behind an allow-list gate, re-read on SIGUSR1
// until ctx is done; refusals and reloads are reported on env.Stderr.
func (o *ServerOptions) Start(ctx context.Context, env Env, endpoints ...*transport.Endpoint) (stop func(), err error) {
	if (*o.keys == "") != (*o.allow == "") {
		return nil, o.cmd.Usagef("-keys and -allow go together: keyed mode needs the server's keys and the users' allow-list")
	}
	if *o.storeMiB < 0 || o.set("store-mib") && *o.storeMiB < 1 {
		return nil, o.cmd.Usagef("-store-mib must be at least 1")
	}
	if *o.sync && *o.storeFile == "" {
		return nil, o.cmd.Usagef("-sync needs -store: without a file there is nothing to flush")
	}
	// A store file past a file size limit (ulimit -f) must cost a refused
	// post, not the server: with SIGXFSZ ignored, the write fails instead.
	signal.Ignore(syscall.SIGXFSZ)
	// A closed stdout (| head -1) must cost log lines, not the server: with
	// SIGPIPE ignored, the write fails instead, and the log says so.
	signal.Ignore(syscall.SIGPIPE)
	stopProfile, err := o.profile()
	if err != nil {
		return nil, err
	}
	if *o.keys == "" {
		return stopProfile, nil
	}
	stopKeyed, err := o.keyed(ctx, env, endpoints)
	if err != nil {
		stopProfile()
		return nil, err
	}
	return func() { stopKeyed(); stopProfile() }, nil
}

// set reports whether the flag name was given.
func (o *ServerOptions) set(name string) bool {
	found := false
	o.cmd.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

func (o *ServerOptions) profile() (stop func(), err error) {
	if *o.cpuprofile == "" {
		return func() {}, nil
	}
	f, err := os.Create(*o.cpuprofile)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func (o *ServerOptions) keyed(ctx context.Context, env Env, endpoints []*transport.Endpoint) (stop func(), err error) {
	pair, err := keys.Load(*o.keys)
	if err != nil {
		return nil, err
	}
	list, err := keys.ReadAllowList(*o.allow)
	if err != nil {
		return nil, err
	}
	say := Warn(env, o.cmd.Name())
	gate := transport.NewGate(list, say)
	for _, ep := range endpoints {
		ep.Curve = &transport.Curve{Pair: pair, Gate: gate}
	}
	say(fmt.Sprintf("keyed mode: CurveZMQ, %d users on %s; public key %s", list.Len(), *o.allow, pair.Public))

	reload := make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload:
				list, err := keys.ReadAllowList(*o.allow)
				if err != nil {
					say(fmt.Sprintf("allow-list not reloaded, the one in force stays: %v", err))
					continue
				}
				gate.Replace(list)
				say(fmt.Sprintf("allow-list reloaded: %d users", list.Len()))
			}
		}
	}()
	return func() { signal.Stop(reload); <-done }, nil
}

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
