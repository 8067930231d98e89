// Package server is the zmqchat server: a request handler that checks and
// stores posts and answers the other requests, and the loop that serves it
// on a ROUTER socket (answering as REP) and publishes what it stores on a
// PUB socket. Every part's server
// is this one, configured.
package server

import (
	"fmt"
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/store"
)

// Handler turns requests into results. It holds no socket, so it is tested
// (and fuzzed) directly. One goroutine uses it.
type Handler struct {
	// Store keeps every accepted message.
	Store store.Store
	// Mode is which part's rules posts are checked by: in part 4's
	// MultiChannel every post names a channel other than ALL; in
	// SingleRoom the channel must be empty.
	Mode msg.Mode
	// Owner, set in keyed mode, returns the username bound to a public key
	// by the allow-list in force: a post is taken only from the key its
	// username is bound to.
	Owner func(key string) (name string, ok bool)

	present presence
	pub     [][]byte // the last post's publication, reused
	number  []byte   // and its number's frame
	names   map[string]string
	// The last HISTORY reply, reused: its frames, the number frames of
	// its messages, and where each of those ends.
	listed  [][]byte
	numbers []byte
	ends    []int
}

// maxNames bounds the names (channels and usernames) shared among their
// messages; past it they are let go, and shared anew.
const maxNames = 1 << 16

// name returns b as a string, the same string for the same name each
// time, so that the messages kept share it.
func (h *Handler) name(b []byte) string {
	if s, ok := h.names[string(b)]; ok {
		return s
	}
	if h.names == nil || len(h.names) >= maxNames {
		h.names = make(map[string]string)
	}
	s := string(b)
	h.names[s] = s
	return s
}

// Result is what one request comes to: the reply and, for a post stored
// now (not a resend), its publication and the message, for the log; and
// the notices of who joined or left, to publish. It holds the Handler's
// space and the request's frames (the message's body is read in place),
// and is good until the next request.
type Result struct {
	Reply   [][]byte
	Pub     [][]byte // nil if there is nothing to publish
	Message msg.Message
	Notices []msg.Notice
}

// Handle answers one request, with the public key it came with in keyed
// mode (otherwise ""): OK once a post is stored (or was already), ERR and
// a reason when a request is refused. It never panics on malformed input
// and stores nothing it refuses.
func (h *Handler) Handle(frames [][]byte, key string) Result {
	owner := ""
	if h.Owner != nil {
		var ok bool
		if owner, ok = h.Owner(key); !ok {
			return refuse(errRevoked)
		}
	}
	var cmd []byte
	if len(frames) > 0 {
		cmd = frames[0]
	}
	switch string(cmd) { // compared in place: no string is made
	case msg.CmdPost:
		return h.post(frames, owner)
	case msg.CmdHistory:
		return Result{Reply: h.history(frames)}
	case msg.CmdChannels:
		return Result{Reply: h.channels(frames)}
	case msg.CmdHere:
		return h.here(frames, owner, time.Now())
	case msg.CmdLeave:
		return h.leave(frames)
	case msg.CmdWho:
		return Result{Reply: h.who(frames)}
	case "":
		return refuse(&msg.Error{Reason: "empty request"})
	default:
		return refuse(msg.ErrUnknownCommand(string(cmd)))
	}
}

func refuse(err error) Result { return Result{Reply: msg.ErrReply(err)} }

// post checks a POST and stores it, unless it is a resend. In keyed mode
// owner is the name the post's key is bound to.
func (h *Handler) post(f [][]byte, owner string) Result {
	m, err := msg.DecodePostInPlace(f, h.Mode, h.name)
	if err != nil {
		return refuse(err)
	}
	if h.Owner != nil && m.Username != owner {
		return refuse(&msg.Error{Reason: fmt.Sprintf("you cannot post as %s: your key is %s's", m.Username, owner)})
	}
	// The time and body are the frames' memory, which the store copies
	// once, into its own.
	rec := store.Record{Channel: m.Channel, Username: m.Username, Time: msg.InPlace(f[3]), Body: m.Body}
	rec, added, err := h.Store.Add(store.ID(f[1], f[2], f[3], f[4]), rec)
	switch {
	case err != nil:
		return refuse(&msg.Error{Reason: fmt.Sprintf("not stored, try again later: %v", err)})
	case !added:
		return Result{Reply: msg.OKReply()}
	}
	m.Number = msg.Number{Numbering: h.Store.Numbering(), Seq: rec.Seq, All: rec.All}
	h.number = m.Number.AppendFrame(h.number[:0])
	h.pub = msg.AppendPubFrames(h.pub, f, m, h.number)
	return Result{Reply: msg.OKReply(), Pub: h.pub, Message: m}
}

// history answers HISTORY: the channel's most recent messages but the
// skipped newest, or the first after a number, oldest first, as
// publications, as many as fit in a reply (see fit).
func (h *Handler) history(frames [][]byte) [][]byte {
	req, err := msg.DecodeHistory(frames, h.Mode)
	if err != nil {
		return msg.ErrReply(err)
	}
	all := h.Mode == msg.SingleRoom || req.Channel == msg.AllChannel
	var recs []store.Record
	more := false
	if req.After != nil {
		recs, err = h.Store.After(req.Channel, all, h.after(req.After, all), req.Count+1)
		more = len(recs) > req.Count
		recs = recs[:min(len(recs), req.Count)]
	} else {
		recs, err = h.Store.History(req.Channel, all, req.Count+req.Skip)
		recs = recs[:max(0, len(recs)-req.Skip)]
	}
	if err != nil {
		return msg.ErrReply(&msg.Error{Reason: fmt.Sprintf("history is not available now, try again later: %v", err)})
	}
	return h.historyReply(recs, h.Store.Numbering(), req.After != nil, more)
}

// channels answers CHANNELS: the channels posted to, by name, at most
// msg.MaxChannels.
func (h *Handler) channels(frames [][]byte) [][]byte {
	if len(frames) != 1 {
		return msg.ErrReply(&msg.Error{Reason: fmt.Sprintf("%s takes 1 frame, got %d", msg.CmdChannels, len(frames))})
	}
	cs := h.Store.Channels()
	more := len(cs) > msg.MaxChannels
	return msg.ChannelsReply(cs[:min(len(cs), msg.MaxChannels)], more)
}

// after is the number a request's After asks for what came after: its
// channel's, or the server's with all; 0, from the first, if it is of
// another numbering (a store that began again).
func (h *Handler) after(n *msg.Number, all bool) uint64 {
	switch {
	case n.Numbering != h.Store.Numbering():
		return 0
	case all:
		return n.All
	}
	return n.Seq
}

// historyReply answers with the publications of as many of recs as fit
// in a reply, msg.HistoryBytes, oldest first: the oldest of recs if
// forward (what came after a number), the newest otherwise; MORE if any
// were left out, or if more says there are more. Its frames are the
// records' memory and the Handler's, which the next request reuses: no
// allocation for any number of messages.
func (h *Handler) historyReply(recs []store.Record, numbering string, forward, more bool) [][]byte {
	at := func(k int) *store.Record { // the kth taken: the oldest first if forward
		if forward {
			return &recs[k]
		}
		return &recs[len(recs)-1-k]
	}
	h.numbers, h.ends = h.numbers[:0], h.ends[:0]
	size := 0
	for k := range recs {
		r, start := at(k), len(h.numbers)
		h.numbers = msg.Number{Numbering: numbering, Seq: r.Seq, All: r.All}.AppendFrame(h.numbers)
		if size += len(r.Channel) + len(r.Username) + len(r.Time) + len(r.Body) + len(h.numbers) - start; size > msg.HistoryBytes {
			h.numbers = h.numbers[:start]
			break
		}
		h.ends = append(h.ends, len(h.numbers))
	}
	head := replyOK
	if more || len(h.ends) < len(recs) {
		head = replyMore
	}
	h.listed = append(h.listed[:0], head)
	for j := range h.ends {
		k := j // oldest first: in reverse of how they were taken, unless forward
		if !forward {
			k = len(h.ends) - 1 - j
		}
		start := 0
		if k > 0 {
			start = h.ends[k-1]
		}
		h.listed = at(k).AppendFrames(h.listed, h.numbers[start:h.ends[k]:h.ends[k]])
	}
	return h.listed
}

// The first frames of list replies, shared.
var replyOK, replyMore = []byte(msg.ReplyOK), []byte(msg.ReplyMore)

// here answers HERE: the client's session is present, on its channel,
// now; the reply says how many other sessions have its name. In keyed
// mode owner is the name its key is bound to, and the only one it may be
// present as.
func (h *Handler) here(frames [][]byte, owner string, now time.Time) Result {
	req, err := msg.DecodeHere(frames, h.Mode)
	if err != nil {
		return refuse(err)
	}
	if h.Owner != nil && req.Username != owner {
		return refuse(&msg.Error{Reason: fmt.Sprintf("you cannot be present as %s: your key is %s's", req.Username, owner)})
	}
	others, notices, err := h.present.here(req, now)
	if err != nil {
		return refuse(err)
	}
	return Result{Reply: msg.HereReply(others), Notices: notices}
}

// leave answers LEAVE: the session is gone.
func (h *Handler) leave(frames [][]byte) Result {
	tag, err := msg.DecodeLeave(frames)
	if err != nil {
		return refuse(err)
	}
	return Result{Reply: msg.OKReply(), Notices: h.present.remove(tag)}
}

// who answers WHO: who is on the channel now.
func (h *Handler) who(frames [][]byte) [][]byte {
	channel, err := msg.DecodeWho(frames, h.Mode)
	if err != nil {
		return msg.ErrReply(err)
	}
	return msg.WhoReply(h.present.who(channel))
}

// Expire forgets the clients not heard from lately, and returns the
// notices of their leaving, to publish.
func (h *Handler) Expire(now time.Time) []msg.Notice { return h.present.expire(now) }

// errRevoked refuses every request, in keyed mode, from a key that is no
// longer on the allow-list (its connection came before the list changed).
var errRevoked = &msg.Error{Reason: "your key is no longer on this server's allow-list"}
