package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/zmqchat/zmqchat/internal/transport"
)

// ServerOptions are the flags every server takes.
type ServerOptions struct {
	cpuprofile *string
}

// ServerFlags adds the flags every server takes to cmd.
func ServerFlags(cmd *Command) *ServerOptions {
	return &ServerOptions{
		cpuprofile: cmd.String("cpuprofile", "", "write a CPU profile (pprof) to `file` until the server stops"),
	}
}

// Start starts what the flags ask for (a CPU profile) and returns the
// function that ends it, for the server's main to defer.
func (o *ServerOptions) Start() (stop func(), err error) {
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
	fill := strings.NewReplacer("HOST", host, "POST", post.Port(), "PUB", pub.Port())
	dir := filepath.Dir(os.Args[0])
	for _, c := range clients {
		fmt.Fprintf(w, "%s: connect with: %s\n", name, filepath.Join(dir, fill.Replace(c)))
	}
}
