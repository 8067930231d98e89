// Package server is the zmqchat server: a request handler that checks,
// stores and publishes posts and answers HISTORY, and the loop that serves
// it on a ROUTER socket (which REQ and DEALER clients speak to as to a REP
// socket) and a PUB socket. Every part's server is this one, configured.
package server

import (
	"fmt"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/store"
)

// Handler turns requests into replies. It holds no socket, so it is tested
// (and fuzzed) directly. One goroutine uses it.
type Handler struct {
	// Store keeps every accepted message.
	Store *store.Store
	// Mode is which part's rules posts are checked by: in part 4's
	// MultiChannel every post names a channel other than ALL; in
	// SingleRoom the channel must be empty.
	Mode msg.Mode
	// Stored, if set, is called with each newly stored message and its
	// publication frames, after it is stored: the server publishes and logs
	// it there. A resend that the store recognizes is acknowledged without
	// a second call.
	Stored func(m msg.Message, pub [][]byte)
	// Owner, set in keyed mode, returns the username bound to a public key
	// by the allow-list in force: a post is taken only from the key its
	// username is bound to.
	Owner func(key string) (name string, ok bool)

	pending pending // posts checked and waiting to be stored together
}

// Request is one request's frames and, in keyed mode, the public key it
// came with ("" otherwise).
type Request struct {
	Frames [][]byte
	Key    string
}

// pending is a run of checked posts, stored in one transaction.
type pending struct {
	recs  []store.Record
	ids   []uint64
	ms    []msg.Message
	pubs  [][][]byte
	reply []int // which request each answers
}

func (p *pending) reset() {
	clear(p.pubs) // let the requests' frames go
	p.recs, p.ids, p.ms, p.pubs, p.reply = p.recs[:0], p.ids[:0], p.ms[:0], p.pubs[:0], p.reply[:0]
}

// Handle answers one request (see HandleAll).
func (h *Handler) Handle(frames [][]byte, key string) [][]byte {
	return h.HandleAll([]Request{{frames, key}})[0]
}

// HandleAll answers requests in the order they came, one function per
// command word: OK once a post is stored (or was already), ERR and a
// reason when a request is refused. Posts in a row are stored together
// (one write to a store file for all of them), before any later request
// is answered. It never panics on malformed input and stores nothing it
// refuses.
func (h *Handler) HandleAll(reqs []Request) [][][]byte {
	replies := make([][][]byte, len(reqs))
	for i, r := range reqs {
		cmd := ""
		if len(r.Frames) > 0 {
			cmd = string(r.Frames[0])
		}
		switch cmd {
		case msg.CmdPost:
			replies[i] = h.post(r, i)
		case msg.CmdHistory:
			h.store(replies) // a history asked after a post shows it
			replies[i] = h.history(r.Frames)
		case "":
			replies[i] = msg.ErrReply(&msg.Error{Reason: "empty request"})
		default:
			replies[i] = msg.ErrReply(msg.ErrUnknownCommand(cmd))
		}
	}
	h.store(replies)
	return replies
}

// post checks a POST. Its reply is nil while it waits to be stored.
func (h *Handler) post(r Request, i int) [][]byte {
	m, err := msg.DecodePost(r.Frames, h.Mode)
	if err != nil {
		return msg.ErrReply(err)
	}
	if h.Owner != nil {
		if err := h.checkOwner(m.Username, r.Key); err != nil {
			return msg.ErrReply(err)
		}
	}
	f := r.Frames
	id := h.Store.ID(f[1], f[2], f[3], f[4])
	pub := msg.PubFrames(f, m)
	// m's texts are already strings of their own: only the time is copied.
	rec := store.Record{Channel: m.Channel, Username: m.Username, Time: string(f[3]), Body: m.Body}
	if h.Store.Seen(id, rec) || h.pending.has(id, rec) {
		return msg.OKReply()
	}
	p := &h.pending
	p.recs, p.ids, p.ms, p.pubs, p.reply = append(p.recs, rec), append(p.ids, id), append(p.ms, m), append(p.pubs, pub), append(p.reply, i)
	return nil
}

// has reports whether a post waiting to be stored is the same as rec: a
// resend that came before the first was stored.
func (p *pending) has(id uint64, rec store.Record) bool {
	for i, other := range p.ids {
		if other == id && p.recs[i] == rec {
			return true
		}
	}
	return false
}

// store stores the pending posts and fills in their replies: OK, and each
// is published; or, if the store cannot take them, ERR for each.
func (h *Handler) store(replies [][][]byte) {
	p := &h.pending
	if len(p.recs) == 0 {
		return
	}
	defer p.reset()
	if err := h.Store.Append(p.recs, p.ids); err != nil {
		refused := msg.ErrReply(&msg.Error{Reason: fmt.Sprintf("not stored, try again later: %v", err)})
		for _, i := range p.reply {
			replies[i] = refused
		}
		return
	}
	for j, i := range p.reply {
		if h.Stored != nil {
			h.Stored(p.ms[j], p.pubs[j])
		}
		replies[i] = msg.OKReply()
	}
}

// history answers HISTORY: the channel's most recent messages, oldest
// first, as publications.
func (h *Handler) history(frames [][]byte) [][]byte {
	channel, n, err := msg.DecodeHistory(frames, h.Mode)
	if err != nil {
		return msg.ErrReply(err)
	}
	all := h.Mode == msg.SingleRoom || channel == msg.AllChannel
	recs, err := h.Store.History(channel, all, n)
	if err != nil {
		return msg.ErrReply(&msg.Error{Reason: fmt.Sprintf("history is not available now, try again later: %v", err)})
	}
	pubs := make([][][]byte, len(recs))
	for i, r := range recs {
		pubs[i] = r.Frames()
	}
	return msg.HistoryReply(pubs)
}

// checkOwner refuses a post whose username is not the one bound to key.
func (h *Handler) checkOwner(username, key string) error {
	name, ok := h.Owner(key)
	switch {
	case !ok:
		return &msg.Error{Reason: "your key is no longer on this server's allow-list"}
	case name != username:
		return &msg.Error{Reason: fmt.Sprintf("you cannot post as %s: your key is %s's", username, name)}
	}
	return nil
}
