package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
)

// readInput reads lines until input ends (or /quit), carries out commands
// at a terminal, and sends each line that makes a valid message to posts,
// which it closes when done. It alone knows which channel the client is
// on: /join changes it here, and tells follow, present and the console.
func (s *session) readInput(ctx context.Context) {
	defer close(s.posts)
	cfg := s.cfg
	for {
		line, err := s.con.ReadLine()
		if errors.Is(err, errLineTooLong) {
			s.con.Warn(err.Error())
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.con.Warn("read input: " + err.Error())
			}
			return
		}
		j := job{}
		if s.con.Interactive() && strings.HasPrefix(line, "/") {
			c := command(line, cfg, s.con)
			switch {
			case c.quit:
				return
			case c.join != "":
				cfg.Channel = c.join
				s.move(cfg)
				continue
			case c.ask.ask != "":
				j = c.ask
			}
			line = c.post
		}
		if j.ask == "" {
			if j.m, err = compose(cfg, line, time.Now()); errors.Is(err, errEmpty) {
				continue
			} else if err != nil {
				s.con.Warn(err.Error())
				continue
			}
		}
		select {
		case s.posts <- j:
			if j.ask == "" {
				s.n.queued.Add(1)
			}
		case <-ctx.Done():
			return
		}
	}
}

// move puts the client on cfg's channel: its subscription, its presence,
// its prompt, and a line that says where it is now.
func (s *session) move(cfg Config) {
	latest(s.moves, cfg.Channel)
	latest(s.whereabouts, cfg.historyChannel())
	s.con.Move(cfg)
	who, how := whereabouts(cfg, true)
	s.con.Warn(fmt.Sprintf("%s: now %s; %s", cfg.Program, who, how))
}

// latest puts v in ch (of one place) in place of what the receiver has
// not taken yet: it wants only the latest. readInput alone sends.
func latest(ch chan string, v string) {
	select {
	case ch <- v:
	default:
		select {
		case <-ch:
		default:
		}
		ch <- v
	}
}

// prompt is what a person at a terminal types after: "ann@dev> ".
func prompt(cfg Config) string {
	if cfg.Mode == msg.MultiChannel {
		return cfg.Name + "@" + cfg.Channel + "> "
	}
	return cfg.Name + "> "
}

// help lists the commands a client on cfg's channel has.
func help(cfg Config) string {
	multi, readOnly := cfg.Mode == msg.MultiChannel, cfg.readOnly()
	lines := []string{"commands:", "  /help            this help"}
	if multi {
		lines = append(lines, "  /join CHANNEL    move to another channel, its recent messages first; /join ALL watches every channel, read-only")
	}
	lines = append(lines, "  /channels        list the channels, with how many messages each and when the last came")
	if multi {
		lines = append(lines, "  /who [CHANNEL]   who is here now: on this channel, or on CHANNEL (ALL: on every channel)")
	} else {
		lines = append(lines, "  /who             who is here now")
	}
	if readOnly {
		lines = append(lines, "  /history [N]     show the N most recent messages of every channel (default 20, at most 1000)",
			"  /quit            leave (as do Ctrl-D and Ctrl-C)",
			"channel ALL is read-only: it shows every channel, and nothing typed here is posted; to post, /join a channel")
	} else {
		lines = append(lines, "  /history [N]     show the N most recent messages (default 20, at most 1000)",
			"  /quit            leave (as does Ctrl-D, once what you typed is posted; Ctrl-C leaves at once)",
			"  //text           post \"/text\": a line that starts with / is a command, // escapes it",
			"anything else is posted; Up and Down recall earlier lines")
	}
	return strings.Join(lines, "\n")
}

// cmdResult is what a command line comes to: a line to post ("//x" posts
// "/x"), a question for the server, a channel to move to, or to quit.
type cmdResult struct {
	post string
	ask  job
	join string
	quit bool
}

// defaultHistory is what /history shows without a number.
const defaultHistory = 20

// command carries out a line that starts with "/", for a client on cfg's
// channel; what is wrong with it is said on con.
func command(line string, cfg Config, con *console) cmdResult {
	if strings.HasPrefix(line, "//") {
		return cmdResult{post: line[1:]}
	}
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	var err error
	switch name {
	case "/help":
		con.Warn(help(cfg))
		return cmdResult{}
	case "/quit":
		return cmdResult{quit: true}
	case "/channels":
		return cmdResult{ask: job{ask: name}}
	case "/history":
		n := defaultHistory
		if arg != "" {
			if n, err = strconv.Atoi(arg); err != nil || n < 1 || n > msg.MaxHistory {
				err = fmt.Errorf("want a number from 1 to %d", msg.MaxHistory)
			}
		}
		if err == nil {
			return cmdResult{ask: job{ask: name, channel: cfg.historyChannel(), n: n}}
		}
	case "/who":
		var c string
		if c, err = channelArg(arg, cfg, cfg.historyChannel()); err == nil {
			return cmdResult{ask: job{ask: name, channel: c}}
		}
	case "/join":
		var c string
		if cfg.Mode != msg.MultiChannel {
			err = errors.New("this server has one room, no channels")
		} else if c, err = channelArg(arg, cfg, ""); err == nil && c == cfg.Channel {
			err = fmt.Errorf("you are on %s already", c)
		}
		if err == nil {
			return cmdResult{join: c}
		}
	default:
		con.Warn("unknown command " + display.Escape(name) + ": not posted; /help lists the commands, and //text posts \"/text\"")
		return cmdResult{}
	}
	con.Warn(fmt.Sprintf("%s %s: %v", name, display.Escape(arg), err))
	return cmdResult{}
}

// channelArg checks the channel a command names, in its normal form; none
// named is byDefault ("" for none allowed).
func channelArg(arg string, cfg Config, byDefault string) (string, error) {
	switch {
	case cfg.Mode != msg.MultiChannel && arg != "":
		return "", errors.New("this server has one room, no channels")
	case cfg.Mode != msg.MultiChannel:
		return "", nil
	case arg == "" && byDefault == "":
		return "", errors.New("name a channel (ALL watches every channel)")
	case arg == "":
		return byDefault, nil
	}
	return msg.NormalizeChannel(arg)
}
