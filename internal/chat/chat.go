// Package chat is the interactive client of parts 3 and 4: it posts each
// line typed and shows each message received, both at once. Three
// goroutines share the work: one reads input, one owns the REQ socket and
// posts, one owns the SUB socket and shows; they talk by channel.
package chat

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/zmqchat/zmqchat/internal/client"
	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Config says where a chat client connects and who it is.
type Config struct {
	Post, Pub transport.Endpoint
	// Channels selects part 4: posts carry Channel, the client sees only
	// Channel, and on ALL it sees every channel and cannot post.
	Channels bool
	Channel  string
	Name     string
	// Timeout and Retries are the Poster's (see client.NewPoster).
	Timeout time.Duration
	Retries int
	In      io.Reader
	Out     io.Writer // chat lines
	Err     io.Writer // diagnostics
	// NoColor turns colours off on a terminal (the NO_COLOR convention).
	NoColor bool
}

// queued is how many typed lines may wait for the poster; typing never
// waits on the network until this many are in flight.
const queued = 256

// Run runs the client until its input ends (every line read by then is
// posted first), ctx is done, or its subscription fails. When both In and
// Out are a terminal it offers a prompt, line editing, colours and
// commands; otherwise it reads and writes plain lines.
func Run(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	readOnly := cfg.Channels && cfg.Channel == msg.AllChannel
	style := display.Style{Channel: readOnly}
	var con console
	interactive := false
	if in, out, ok := isTerminal(cfg.In, cfg.Out); ok {
		tc, err := newTermConsole(in, out, prompt(cfg))
		if err != nil {
			return err
		}
		defer tc.Close()
		con, interactive = tc, true
		style.Color = !cfg.NoColor
		style.Self = cfg.Name
	} else {
		con = newPlainConsole(cfg.In, cfg.Out, cfg.Err)
	}

	poster, err := client.NewPoster(cfg.Post, cfg.Timeout, cfg.Retries)
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	subDone := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		sub := client.Subscription{Channel: cfg.Channel, All: readOnly || !cfg.Channels}
		subDone <- client.Subscribe(ctx, cfg.Pub, sub, client.Handlers{
			Deliver:    func(m msg.Message) { con.Show(display.Render(m, style)) },
			Malformed:  func(err error) { con.Warn(err.Error()) },
			Connection: client.ReportConnection(cfg.Pub, con.Warn),
		})
	}()

	posts := make(chan msg.Message, queued)
	postDone := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(postDone)
		defer poster.Close()
		for {
			var m msg.Message
			select {
			case <-ctx.Done():
				return
			case next, ok := <-posts:
				if !ok {
					return
				}
				m = next
			}
			if err := poster.Post(ctx, m); err != nil {
				if ctx.Err() != nil {
					return
				}
				if msg.IsInvalid(err) {
					con.Warn("the server refused the message: " + err.Error())
				} else {
					con.Warn(err.Error())
				}
			}
		}
	}()

	// Reading input cannot be interrupted, so this goroutine is not waited
	// for: at exit it is left blocked in Read, and it never touches a socket.
	go func() {
		defer close(posts)
		for {
			line, err := con.ReadLine()
			if errors.Is(err, errLineTooLong) {
				con.Warn(err.Error())
				continue
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					con.Warn("read input: " + err.Error())
				}
				return
			}
			if interactive && strings.HasPrefix(line, "/") {
				var quit bool
				if line, quit = command(line, con); quit {
					return
				}
			}
			if m, ok := compose(cfg, readOnly, line, con); ok {
				select {
				case posts <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	select {
	case <-postDone: // input ended and every line was posted
	case <-ctx.Done():
	case err = <-subDone:
	}
	cancel()
	wg.Wait()
	return err
}

// prompt is what a person at a terminal types after: "ann@dev> ".
func prompt(cfg Config) string {
	if cfg.Channels {
		return cfg.Name + "@" + cfg.Channel + "> "
	}
	return cfg.Name + "> "
}

const help = `commands:
  /help     this help
  /quit     leave (as do Ctrl-D and Ctrl-C)
  //text    post "/text": a line that starts with / is a command, // escapes it
anything else is posted; Up and Down recall earlier lines`

// command carries out a line that starts with "/". It returns the line to
// post, if any ("//x" posts "/x"), and whether to quit.
func command(line string, con console) (post string, quit bool) {
	if strings.HasPrefix(line, "//") {
		return line[1:], false
	}
	switch name, _, _ := strings.Cut(strings.TrimSpace(line), " "); name {
	case "/help":
		con.Warn(help)
	case "/quit":
		return "", true
	default:
		con.Warn("unknown command " + display.Escape(name) + ": not posted; /help lists the commands, and //text posts \"/text\"")
	}
	return "", false
}

// compose turns a typed line into a message, or says why it cannot be
// posted.
func compose(cfg Config, readOnly bool, line string, con console) (msg.Message, bool) {
	line = strings.TrimSuffix(line, "\r")
	if strings.TrimSpace(line) == "" {
		return msg.Message{}, false
	}
	if readOnly {
		con.Warn("channel " + msg.AllChannel + " is read-only: it shows every channel; join a channel to post")
		return msg.Message{}, false
	}
	m := msg.Message{Username: cfg.Name, Time: time.Now(), Body: line}
	if cfg.Channels {
		m.Channel = cfg.Channel
	}
	if err := m.Check(cfg.Channels); err != nil {
		con.Warn("not sent: " + err.Error())
		return msg.Message{}, false
	}
	return m, true
}
