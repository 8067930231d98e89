// Package chat is the interactive client of parts 3 and 4: it posts each
// line typed and shows each message received, both at once. Goroutines
// share the work, each a function here: readInput reads lines; postLines
// (a REQ socket, at a terminal) or pipeLines (a DEALER socket, on a pipe)
// posts them; follow runs the subscription of the channel the client is
// on (receive owns the SUB socket and shows what arrives), and present
// tells the server the client is here (a REQ socket of its own). They
// talk by channel.
package chat

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zmqchat/zmqchat/internal/client"
	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Config says where a chat client connects and who it is.
type Config struct {
	// Program names the client in its start-up line: "mc_client".
	Program   string
	Post, Pub transport.Endpoint
	// Mode selects part 4 (MultiChannel): posts carry Channel, the client
	// sees only Channel, and on ALL it sees every channel and cannot post.
	Mode    msg.Mode
	Channel string
	Name    string
	// Posting is the Poster's timeout and retries.
	Posting client.Options
	In      io.Reader
	Out     io.Writer // chat lines
	Err     io.Writer // diagnostics
	// NoColor turns colours off on a terminal (the NO_COLOR convention).
	NoColor bool
	// History is how many of the channel's recent messages to show on
	// joining; Auto for a screenful at a terminal and none on a pipe.
	History History
}

// History is a number of messages of history, the -history flag.
type History int

// Auto is the default History: a screenful at a terminal, none on a pipe,
// so that scripted output stays what the assignment describes.
const Auto History = -1

// Flag adds -history to fs, setting h.
func (h *History) Flag(fs *flag.FlagSet) {
	*h = Auto
	fs.Var(h, "history", fmt.Sprintf("show the `n` most recent messages on joining, up to %d; auto: a screenful at a terminal, none on a pipe", msg.MaxHistory))
}

func (h *History) String() string {
	if h == nil || *h == Auto {
		return "auto"
	}
	return strconv.Itoa(int(*h))
}

func (h *History) Set(s string) error {
	if s == "auto" {
		*h = Auto
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > msg.MaxHistory {
		return fmt.Errorf("want a number from 0 to %d", msg.MaxHistory)
	}
	*h = History(n)
	return nil
}

// readOnly reports whether the client is on ALL, which shows every channel
// and takes no posts.
func (cfg Config) readOnly() bool {
	return cfg.Mode == msg.MultiChannel && cfg.Channel == msg.AllChannel
}

// queued is how many typed lines may wait for the poster; typing never
// waits on the network until this many are in flight.
const queued = 256

// Run runs the client until its input ends (Ctrl-D, the end of a pipe, or
// /quit), ctx is done (Ctrl-C), or its subscription fails. At the end of
// input it waits at most one post timeout for the lines still queued;
// Ctrl-C leaves at once. Lines that were not posted (refused, no reply, or
// still queued) are counted on stderr, and make Run return an error, so
// that a script can tell. When both In and Out are a terminal it offers a
// prompt, line editing, colours and commands; otherwise it reads and
// writes plain lines.
func Run(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	con, err := openConsole(cfg, cancel)
	if err != nil {
		return err
	}
	defer con.Close()
	con.Warn(banner(cfg, con.Interactive()))
	poster, err := client.NewPoster(cfg.Post, cfg.Posting)
	if err != nil {
		return err
	}

	s := &session{cfg: cfg, con: con, own: newEchoes(), posts: make(chan job, queued),
		moves: make(chan string, 1), whereabouts: make(chan string, 1),
		subDone: make(chan error, 1), postDone: make(chan struct{}), inputEnded: make(chan struct{})}
	join := s.join(cfg)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		s.subDone <- s.follow(ctx, join)
	}()
	go func() {
		defer wg.Done()
		s.present(ctx, join)
	}()
	go func() {
		defer wg.Done()
		defer close(s.postDone)
		defer poster.Close()
		// Nothing posted before the subscription is up would come back.
		join.WaitUp(ctx, cfg.Posting.Timeout)
		s.post(ctx, poster)
	}()
	// Reading input cannot be interrupted, so this goroutine is not waited
	// for: at exit it is left blocked in Read, and it never touches a socket.
	go func() {
		defer close(s.inputEnded)
		s.readInput(ctx)
	}()

	err = s.wait(ctx)
	cancel()
	wg.Wait()
	if err == nil {
		err = s.n.report(con)
	}
	return err
}

// session is what Run's goroutines share.
type session struct {
	cfg         Config
	con         *console
	own         *echoes
	n           tally
	posts       chan job      // lines read, to post
	moves       chan string   // the channel /join moves to, for follow
	whereabouts chan string   // and for present
	subDone     chan error    // the subscription's end
	postDone    chan struct{} // input ended and every line was tried
	inputEnded  chan struct{}
}

// post posts the lines read until input ends: a person's one at a time on
// a REQ socket; a script's at pipeline speed, many in flight on a DEALER.
func (s *session) post(ctx context.Context, poster *client.Poster) {
	if s.con.Interactive() {
		postLines(ctx, poster, s.posts, s.con, &s.n, s.own)
		return
	}
	pipe, err := client.NewPipeline(s.cfg.Post, s.cfg.Posting, client.DefaultWindow)
	if err != nil {
		s.con.Warn(err.Error())
		return
	}
	defer pipe.Close()
	pipeLines(ctx, pipe, s.posts, s.con, &s.n, s.own)
}

// wait waits until the session is over: input ended and every line was
// tried (then the last lines' echoes are awaited, as a person who typed
// them would see them), or one post timeout after input ended, Ctrl-C, or
// the subscription's end, whose error it returns.
func (s *session) wait(ctx context.Context) error {
	var drained <-chan time.Time // the end of input's grace period
	inputEnded := s.inputEnded
	for {
		select {
		case <-inputEnded:
			inputEnded = nil
			drained = time.After(s.cfg.Posting.Timeout)
		case <-s.postDone:
			s.own.await(ctx, s.cfg.Posting.Timeout)
			return nil
		case <-drained:
			return nil
		case <-ctx.Done():
			return nil
		case err := <-s.subDone:
			return err
		}
	}
}

// banner is the client's start-up line: who it is, where, and how it
// takes input.
func banner(cfg Config, interactive bool) string {
	who, how := whereabouts(cfg, interactive)
	return fmt.Sprintf("%s: %s via %s and %s; %s; Ctrl-D or Ctrl-C leaves", cfg.Program, who, cfg.Post, cfg.Pub, how)
}

// whereabouts says who the client is and where ("bob on dev"), and how
// it takes input.
func whereabouts(cfg Config, interactive bool) (who, how string) {
	who = cfg.Name
	if cfg.Mode == msg.MultiChannel {
		who += " on " + cfg.Channel
	}
	how = "posting each line of its input"
	switch {
	case cfg.readOnly():
		how = "read-only: it shows every channel, and nothing typed here is posted"
	case interactive:
		how = "type a line and press Enter to post"
	}
	return who, how
}

// tally counts a session's lines: queued for posting, and of those, posted
// (OK) and failed (refused or no reply). The rest were not sent.
type tally struct {
	queued, posted, failed atomic.Int64
}

// report says on stderr how many lines were not posted, and returns an
// error if any were not.
func (n *tally) report(con *console) error {
	queued, posted, failed := n.queued.Load(), n.posted.Load(), n.failed.Load()
	unsent := queued - posted - failed
	if unsent > 0 {
		them := "them"
		if unsent == 1 {
			them = "it"
		}
		con.Warn(fmt.Sprintf("%s not sent: the client stopped before posting %s", display.Count(unsent, "line", "lines"), them))
	}
	if missed := unsent + failed; missed > 0 {
		return fmt.Errorf("%d of %s not posted", missed, display.Count(queued, "line", "lines"))
	}
	return nil
}

// join returns what shows the subscription of cfg's channel: in the
// server's order, missing nothing, after the history asked for.
func (s *session) join(cfg Config) *client.Join {
	history := int(cfg.History)
	if cfg.History == Auto {
		history = s.con.Screenful()
	}
	show := func(m msg.Message) { s.con.ShowMessage(m, s.own.take(m)) }
	return client.NewJoin(client.JoinConfig{Live: show, History: s.con.ShowHistory, Warn: s.con.Warn,
		Channel: cfg.historyChannel(), All: cfg.subscription().All, Recent: history, Mark: history == 0})
}

// follow shows the subscription of the channel the client is on, through
// join, and on each /join ends it (its SUB socket and its Join's REQ go)
// and starts the next channel's, whose history comes first. It returns
// nil when ctx is done, or the error a subscription ended with.
func (s *session) follow(ctx context.Context, join *client.Join) error {
	cfg := s.cfg
	for {
		sub, stop := context.WithCancel(ctx)
		served, ended := make(chan struct{}), make(chan error, 1)
		go func() {
			defer close(served)
			join.Serve(sub, &cfg.Post, cfg.Pub, cfg.Posting, cfg.Posting.Timeout)
		}()
		go func() { ended <- receive(sub, cfg, s.con, join) }()
		select {
		case err := <-ended:
			stop()
			<-served
			return err
		case <-ctx.Done():
			stop()
			<-served
			return <-ended
		case cfg.Channel = <-s.moves:
			stop()
			<-served
			<-ended
			join = s.join(cfg)
		}
	}
}

// receive subscribes to what the client shows (its channel, or everything
// on ALL and in parts 1 to 3) and shows each message, through join, and
// at a terminal who joins and leaves, until ctx is done.
func receive(ctx context.Context, cfg Config, con *console, join *client.Join) error {
	h := join.Handlers(client.ReportConnection(cfg.Pub, con.Warn), func(err error) { con.Warn(err.Error()) })
	if con.Interactive() {
		h.Notice = func(n msg.Notice) { con.ShowNotice(n, time.Now()) }
	}
	return client.Subscribe(ctx, cfg.Pub, cfg.subscription(), h)
}

// subscription is what the client shows: its channel, or everything on
// ALL and in parts 1 to 3.
func (cfg Config) subscription() client.Subscription {
	return client.Subscription{Channel: cfg.Channel, All: cfg.readOnly() || cfg.Mode == msg.SingleRoom}
}

// historyChannel is the channel a HISTORY request names for what the
// client shows: "" in parts 1 to 3.
func (cfg Config) historyChannel() string {
	if cfg.Mode == msg.SingleRoom {
		return ""
	}
	return cfg.Channel
}

// job is what the input asks the posting goroutine for: a message to post,
// or (at a terminal) a question whose answer is shown: the n most recent
// messages of a channel (/history), the channels (/channels), or who is on
// a channel (/who).
type job struct {
	m       msg.Message
	ask     string // the command: "/history", "/channels", "/who"; "" to post m
	channel string
	n       int
}

// postLines posts each message from posts until it is closed or ctx is
// done. A post that fails is reported and the next one is tried: the
// Poster has rebuilt its socket by then.
func postLines(ctx context.Context, poster *client.Poster, posts <-chan job, con *console, n *tally, own *echoes) {
	for {
		var m msg.Message
		select {
		case <-ctx.Done():
			return
		case next, ok := <-posts:
			if !ok {
				return
			}
			if next.ask != "" {
				answer(ctx, poster, next, con)
				continue
			}
			m = next.m
		}
		own.expect(m)
		err := poster.Post(ctx, m)
		if ctx.Err() != nil && err != nil {
			return // not sent, or not confirmed: counted as not sent
		}
		posted(client.Result{M: m, Err: err}, con, n, own)
	}
}

// posted counts and reports how a post ended: a refusal or a lost reply
// is said on stderr, and its echo is no longer awaited.
func posted(r client.Result, con *console, n *tally, own *echoes) {
	switch {
	case r.Err == nil:
		n.posted.Add(1)
		return
	case msg.IsInvalid(r.Err):
		con.Warn("the server refused the message: " + r.Err.Error())
	default:
		con.Warn(r.Err.Error())
	}
	n.failed.Add(1)
	own.forget(r.M)
}

// pipeLines posts the messages from posts as postLines does, but keeps up
// to the pipeline's window of them in flight: how a script's lines are
// posted. Each line's failure is still said, in the order posted.
func pipeLines(ctx context.Context, pipe *client.Pipeline, posts <-chan job, con *console, n *tally, own *echoes) {
	done := func(r client.Result) { posted(r, con, n, own) }
	open := true
	for open || pipe.InFlight() > 0 {
	fill:
		for open && !pipe.Full() {
			var j job
			if pipe.InFlight() == 0 { // nothing to wait for but a line
				select {
				case j, open = <-posts:
				case <-ctx.Done():
					return
				}
			} else {
				select {
				case j, open = <-posts:
				default:
					break fill
				}
			}
			if !open {
				break
			}
			own.expect(j.m)
			if err := pipe.Send(j.m); err != nil {
				done(client.Result{M: j.m, Err: err})
			}
		}
		if ctx.Err() != nil {
			return // what is in flight is counted as not sent
		}
		if err := pipe.Poll(pollSlice, done); err != nil {
			con.Warn(err.Error())
			return
		}
	}
}

// pollSlice bounds each wait for replies, so that new lines and a
// cancelled context are seen promptly.
const pollSlice = 10 * time.Millisecond

// answer asks the server what j asks, and shows the answer.
func answer(ctx context.Context, poster *client.Poster, j job, con *console) {
	switch j.ask {
	case "/history":
		showHistory(ctx, poster, j.channel, j.n, con)
	case "/channels":
		showChannels(ctx, poster, con)
	case "/who":
		showWho(ctx, poster, j.channel, con)
	}
}

// showHistory shows the n most recent messages of channel, for /history.
func showHistory(ctx context.Context, poster *client.Poster, channel string, n int, con *console) {
	ms, err := poster.History(ctx, channel, n)
	switch {
	case err != nil && ctx.Err() == nil:
		con.Warn("no history: " + err.Error())
	case err == nil:
		con.ShowHistory(ms)
	}
}

// showChannels shows the server's channels, for /channels.
func showChannels(ctx context.Context, poster *client.Poster, con *console) {
	cs, err := poster.Channels(ctx)
	if err != nil {
		if ctx.Err() == nil {
			con.Warn("no channel list: " + err.Error())
		}
		return
	}
	con.Warn(display.Count(len(cs), "channel", "channels") + ":")
	for _, c := range cs {
		last := "earlier"
		if t, err := msg.ParseTime(c.Last); err == nil {
			last = t.Local().Format(display.TimeLayout)
		}
		name := display.Escape(c.Name)
		if c.Name == "" {
			name = "(the room)"
		}
		con.Warn(fmt.Sprintf("  %-16s %s, the last %s", name, display.Count(int(c.Count), "message", "messages"), last))
	}
}

// errEmpty is compose's answer to a line with nothing to post, which is
// skipped without a word.
var errEmpty = errors.New("empty line")

// compose turns a typed line into a message stamped at now, or says why it
// cannot be posted: errEmpty for a blank line, otherwise a reason for a
// person.
func compose(cfg Config, line string, now time.Time) (msg.Message, error) {
	line = strings.TrimSuffix(line, "\r")
	if strings.TrimSpace(line) == "" {
		return msg.Message{}, errEmpty
	}
	if cfg.readOnly() {
		return msg.Message{}, errors.New("channel " + msg.AllChannel + " is read-only: it shows every channel; join a channel to post")
	}
	m := msg.Message{Username: cfg.Name, Time: now, Body: line}
	if cfg.Mode == msg.MultiChannel {
		m.Channel = cfg.Channel
	}
	if err := m.Check(cfg.Mode); err != nil {
		return msg.Message{}, errors.New("not sent: " + err.Error())
	}
	return m, nil
}
