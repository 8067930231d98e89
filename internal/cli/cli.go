// Package cli is what the eight zmqchat programs share on the command line:
// flag and argument parsing, endpoints from <ip> and ports, exit codes and
// signals, and the servers' common flags and banner. Each program's own
// story is in its main package.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/zmqchat/zmqchat/internal/early"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1 // a runtime failure: port in use, no reply
	ExitUsage   = 2 // a wrong command line
)

// Env is a program's standard streams.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Command is a program's command line: name, flags and positional arguments.
type Command struct {
	*flag.FlagSet
	args    []string
	summary string
}

// NewCommand returns the command line of program name, which takes the
// positional arguments args (such as "<ip>") after its flags.
func NewCommand(name, summary string, args ...string) *Command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage is printed once, by Main
	return &Command{FlagSet: fs, args: args, summary: summary}
}

// Usage returns the usage text.
func (c *Command) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s [flags] %s\n%s\n", c.Name(), strings.Join(c.args, " "), c.summary)
	n := 0
	c.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("flags:\n")
		c.SetOutput(&b)
		c.PrintDefaults()
		c.SetOutput(io.Discard)
	}
	return b.String()
}

// Parse parses flags and checks that exactly the positional arguments are
// there, returning them.
func (c *Command) Parse(args []string) ([]string, error) {
	if err := c.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, &UsageError{cmd: c, help: true}
		}
		return nil, c.Usagef("%v", err)
	}
	pos := c.Args()
	if len(pos) != len(c.args) {
		hint := ""
		if len(pos) > len(c.args) && c.args[len(c.args)-1] == "<message>" {
			hint = " (quote a message that has spaces)"
		}
		for _, a := range pos {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.HasPrefix(a, "-") && c.Lookup(name) != nil {
				hint = fmt.Sprintf(" (%s is a flag: flags go before the arguments)", a)
				break
			}
		}
		return nil, c.Usagef("want %d arguments (%s), got %d%s", len(c.args), strings.Join(c.args, " "), len(pos), hint)
	}
	return pos, nil
}

// Usagef returns a UsageError: a one-line reason, shown with the usage.
func (c *Command) Usagef(format string, a ...any) error {
	return &UsageError{cmd: c, reason: fmt.Sprintf(format, a...)}
}

// Bind parses a server's <ip> and <port> (0 for a free one); a bad one is
// a usage error.
func (c *Command) Bind(host, port string) (transport.Endpoint, error) {
	return c.endpoint(transport.BindEndpoint, host, port)
}

// Connect parses a client's <ip> and <port>; a bad one is a usage error.
func (c *Command) Connect(host, port string) (transport.Endpoint, error) {
	return c.endpoint(transport.ConnectEndpoint, host, port)
}

// BindPair parses a server's <ip> <post_port> <pub_port>, which must name
// two ports (or both be 0, for two free ones).
func (c *Command) BindPair(host, postPort, pubPort string) (post, pub transport.Endpoint, err error) {
	return c.endpoints(transport.BindEndpoint, host, postPort, pubPort)
}

// ConnectPair parses a client's <ip> <post_port> <pub_port>, which must
// name two ports.
func (c *Command) ConnectPair(host, postPort, pubPort string) (post, pub transport.Endpoint, err error) {
	return c.endpoints(transport.ConnectEndpoint, host, postPort, pubPort)
}

func (c *Command) endpoint(resolve func(host, port string) (transport.Endpoint, error), host, port string) (transport.Endpoint, error) {
	ep, err := resolve(host, port)
	if err != nil {
		return ep, c.Usagef("%v", err)
	}
	return ep, nil
}

func (c *Command) endpoints(resolve func(host, port string) (transport.Endpoint, error), host, postPort, pubPort string) (post, pub transport.Endpoint, err error) {
	if postPort == pubPort && postPort != "0" {
		return post, pub, c.Usagef("<post_port> and <pub_port> must differ (both are %s)", postPort)
	}
	if post, err = c.endpoint(resolve, host, postPort); err != nil {
		return post, pub, err
	}
	pub, err = c.endpoint(resolve, host, pubPort)
	return post, pub, err
}

// Invalidf returns a UsageError for an argument whose content is wrong (a
// message with a newline, say): the reason alone is shown, without the
// usage, which would not help.
func (c *Command) Invalidf(format string, a ...any) error {
	return &UsageError{cmd: c, reason: fmt.Sprintf(format, a...), brief: true}
}

// UsageError is a wrong command line (or -h): Main prints the reason and
// the usage and exits with status 2 (0 for -h).
type UsageError struct {
	cmd    *Command
	reason string
	help   bool
	brief  bool // the reason alone, without the usage
}

func (e *UsageError) Error() string { return e.reason }

// Program is the body of a program: what its main hands to Main.
type Program func(ctx context.Context, args []string, env Env) error

// Main runs a program: it makes a context that SIGINT, SIGTERM and SIGHUP
// (a closed terminal) cancel, caught since the program's first package
// was initialised (package early), calls run with the command-line
// arguments and standard streams, reports its error on stderr, and returns
// the exit status.
func Main(run Program) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-early.Stops
		cancel()
		signal.Reset(early.StopSignals...) // a second Ctrl-C kills at once, should stopping ever hang
	}()
	env := Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	return ExitStatus(run(ctx, os.Args[1:], env), env)
}

// ExitStatus reports err as a program does, on env's streams (usage with a
// usage error, help on stdout for -h, one line otherwise), and returns the
// exit status for it.
func ExitStatus(err error, env Env) int {
	var usage *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage) && usage.help:
		fmt.Fprint(env.Stdout, usage.cmd.Usage())
		return ExitOK
	case errors.As(err, &usage) && usage.brief:
		fmt.Fprintf(env.Stderr, "%s: %s\n", usage.cmd.Name(), usage.reason)
		return ExitUsage
	case errors.As(err, &usage):
		fmt.Fprintf(env.Stderr, "%s: %s\n%s", usage.cmd.Name(), usage.reason, usage.cmd.Usage())
		return ExitUsage
	default:
		fmt.Fprintf(env.Stderr, "%s: %v\n", programName(), err)
		return ExitFailure
	}
}

// Warn returns a function that writes a line on env's stderr, prefixed
// with the program's name: how a server reports trouble it lives through.
func Warn(env Env, name string) func(string) {
	return func(s string) { fmt.Fprintf(env.Stderr, "%s: %s\n", name, s) }
}

func programName() string { return filepath.Base(os.Args[0]) }
