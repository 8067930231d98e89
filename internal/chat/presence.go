package chat

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/zmqchat/zmqchat/internal/client"
	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
)

// leaveWait bounds the LEAVE a client sends as it goes: Ctrl-C still
// leaves at once, near enough; a client that cannot say it is forgotten
// after msg.QuietAfter.
const leaveWait = 300 * time.Millisecond

// present tells the server, on a REQ socket of its own, that the client
// is here: HERE once join's subscription is up, every msg.HereEvery and on each /join, and LEAVE
// when ctx is done. If the first answer counts others under the client's
// name, that is said on stderr, in open mode (in keyed mode the name is
// the key's). A server that refuses (an older one) or does not answer
// costs nothing but the announcements.
func (s *session) present(ctx context.Context, join *client.Join) {
	poster, err := client.NewPoster(s.cfg.Post, client.Options{Timeout: s.cfg.Posting.Timeout})
	if err != nil {
		return
	}
	defer poster.Close()
	// Once subscribed, the client sees its own join, as others do.
	join.WaitUp(ctx, s.cfg.Posting.Timeout)
	h := msg.Here{Channel: s.cfg.historyChannel(), Username: s.cfg.Name, Session: rand.Text()[:16]}
	every := time.NewTicker(msg.HereEvery)
	defer every.Stop()
	answered := false
	for {
		others, err := poster.Here(ctx, h)
		if err == nil && !answered && others > 0 && s.cfg.Post.Curve == nil {
			s.con.Warn(fmt.Sprintf("%s: someone else is here as %s already; in open mode names are not checked, so pick another to be told apart", s.cfg.Program, display.Escape(h.Username)))
		}
		answered = answered || err == nil
		select {
		case <-ctx.Done():
			bye, cancel := context.WithTimeout(context.Background(), leaveWait)
			poster.Leave(bye, h.Session)
			cancel()
			return
		case <-every.C:
		case h.Channel = <-s.whereabouts:
		}
	}
}

// showWho shows who is on channel (everyone, grouped by channel, on ALL),
// for /who.
func showWho(ctx context.Context, poster *client.Poster, channel string, con *console) {
	ps, err := poster.Who(ctx, channel)
	if err != nil {
		if ctx.Err() == nil {
			con.Warn("no one listed: " + err.Error())
		}
		return
	}
	if len(ps) == 0 {
		con.Warn("no one is here")
		return
	}
	var lines []string
	for i := 0; i < len(ps); {
		c, names := ps[i].Channel, []string{}
		for ; i < len(ps) && ps[i].Channel == c; i++ {
			names = append(names, display.Escape(ps[i].Username))
		}
		where := "on " + display.Escape(c)
		switch c {
		case "":
			where = "here"
		case msg.AllChannel:
			where = "watching every channel"
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s", display.Count(len(names), "person", "people"), where, strings.Join(names, ", ")))
	}
	con.Warn(strings.Join(lines, "\n"))
}
