package server

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/keys"
	"github.com/zmqchat/zmqchat/internal/store"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Options are the flags every server takes.
type Options struct {
	cmd        *cli.Command
	cpuprofile *string
	keys       *string
	allow      *string
	storeMiB   *int64
	storeFile  *string
	sync       *bool
	memoryMiB  *int64
}

// Store is where -store, -store-mib and -sync say the messages are kept,
// within three eighths of the memory budget (at most 64 MiB with a file,
// which keeps the rest) unless -store-mib says otherwise.
func (o *Options) Store() StoreOptions {
	budget := *o.storeMiB << 20
	if budget == 0 {
		budget = o.memory() / 8 * 3
		if *o.storeFile != "" {
			budget = min(budget, store.DefaultFileBudget)
		}
	}
	return StoreOptions{File: *o.storeFile, Sync: *o.sync, Budget: budget}
}

// memory is the memory budget -memory sets, in bytes.
func (o *Options) memory() int64 { return *o.memoryMiB << 20 }

// minMemory is the least -memory takes: a server with a few clients and
// nothing stored holds about 20 MiB.
const minMemory = 64

// Flags adds the flags every server takes to cmd.
func Flags(cmd *cli.Command) *Options {
	return &Options{
		cmd:        cmd,
		cpuprofile: cmd.String("cpuprofile", "", "write a CPU profile (pprof) to `file` until the server stops"),
		keys:       cmd.String("keys", "", "keyed mode: the server's key pair in `dir` (made by keygen); needs -allow"),
		allow:      cmd.String("allow", "", "keyed mode: the allow-list `file`, a \"username public-key\" line per user; kill -USR1 re-reads it"),
		storeMiB:   cmd.Int64("store-mib", 0, "the memory the messages may take, in `MiB` (default 3/8 of -memory; at most 64 with -store); past it the oldest are dropped from memory"),
		memoryMiB:  cmd.Int64("memory", DefaultMemory>>20, "the server's memory budget in `MiB`: the messages take 3/8 of it, the connections 1/4 together (past it, those holding the most are cut off)"),
		storeFile:  cmd.String("store", "", "keep every message in the SQLite `file` too (made if missing), and serve history from it after a restart"),
		sync:       cmd.Bool("sync", false, "with -store: flush each post to the disk before its reply, so that a power loss loses nothing"),
	}
}

// Setup is what Start made ready for a server's main: the store the
// flags ask for, and the function that says a line on stderr.
type Setup struct {
	Store  store.Store
	Warn   func(string)
	Memory int64 // the memory budget, in bytes (Config.Memory)
	stop   []func()
}

// Stop undoes what Start did, in reverse: the store is closed, keyed
// mode's reloading and the profile stopped. For the main to defer.
func (s *Setup) Stop() {
	for i := len(s.stop) - 1; i >= 0; i-- {
		s.stop[i]()
	}
}

// Start starts what the flags ask for and opens the store. In keyed mode
// it makes the endpoints speak CurveZMQ behind an allow-list gate, re-read
// on SIGUSR1 until ctx is done; refusals and reloads are reported on
// env.Stderr.
func (o *Options) Start(ctx context.Context, env cli.Env, endpoints ...*transport.Endpoint) (*Setup, error) {
	if (*o.keys == "") != (*o.allow == "") {
		return nil, o.cmd.Usagef("-keys and -allow go together: keyed mode needs the server's keys and the users' allow-list")
	}
	if *o.storeMiB < 0 || o.set("store-mib") && *o.storeMiB < 1 {
		return nil, o.cmd.Usagef("-store-mib must be at least 1")
	}
	if *o.memoryMiB < minMemory || *o.memoryMiB > 1<<30 {
		return nil, o.cmd.Usagef("-memory must be at least %d (MiB)", minMemory)
	}
	if most := *o.memoryMiB / 8 * 3; *o.storeMiB > most {
		return nil, o.cmd.Usagef("-store-mib %d is over 3/8 of -memory %d: at most %d, or raise -memory", *o.storeMiB, *o.memoryMiB, most)
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
	// The Go heap (the store, mostly) is held to five eighths of the
	// budget: the collector works harder near it, rather than let the heap
	// double before it collects.
	debug.SetMemoryLimit(o.memory() / 8 * 5)
	s := &Setup{Warn: cli.Warn(env, o.cmd.Name()), Memory: o.memory()}
	stopProfile, err := o.profile()
	if err != nil {
		return nil, err
	}
	s.stop = append(s.stop, stopProfile)
	if *o.keys != "" {
		stopKeyed, err := o.keyed(ctx, env, endpoints)
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.stop = append(s.stop, stopKeyed)
	}
	if s.Store, err = OpenStore(o.Store(), s.Warn); err != nil {
		s.Stop()
		return nil, err
	}
	s.stop = append(s.stop, func() { s.Store.Close() })
	return s, nil
}

// set reports whether the flag name was given.
func (o *Options) set(name string) bool {
	found := false
	o.cmd.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

func (o *Options) profile() (stop func(), err error) {
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

func (o *Options) keyed(ctx context.Context, env cli.Env, endpoints []*transport.Endpoint) (stop func(), err error) {
	pair, err := keys.Load(*o.keys)
	if err != nil {
		return nil, err
	}
	list, err := keys.ReadAllowList(*o.allow)
	if err != nil {
		return nil, err
	}
	say := cli.Warn(env, o.cmd.Name())
	gate := transport.NewGate(list, say)
	for _, ep := range endpoints {
		ep.Curve = &transport.Curve{Pair: pair, Gate: gate}
	}
	say(fmt.Sprintf("keyed mode: CurveZMQ, %s on %s; public key %s", list, *o.allow, pair.Public))

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
				say(fmt.Sprintf("allow-list reloaded: %s", list))
			}
		}
	}()
	return func() { signal.Stop(reload); <-done }, nil
}
