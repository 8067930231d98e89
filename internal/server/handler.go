// Package server is the zmqchat server: a request handler that checks,
// stores and publishes posts, and the loop that serves it on a REP socket
// and a PUB socket. Every part's server is this one, configured.
package server

import (
	"fmt"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/store"
)

// Handler turns one request into its reply. It holds no socket, so it is
// tested (and fuzzed) directly.
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
}

// Handle answers one request: OK once the message is stored (or was
// already), ERR and a reason when it is rejected. key is the public key
// the request came with in keyed mode ("" otherwise). It never panics on
// malformed input and stores nothing it rejects.
func (h *Handler) Handle(frames [][]byte, key string) [][]byte {
	m, err := msg.DecodePost(frames, h.Mode)
	if err != nil {
		return msg.ErrReply(err)
	}
	if h.Owner != nil {
		if err := h.checkOwner(m.Username, key); err != nil {
			return msg.ErrReply(err)
		}
	}
	id := h.Store.ID(frames[1], frames[2], frames[3], frames[4])
	if h.Store.Add(m, id) && h.Stored != nil {
		h.Stored(m, msg.PubFrames(frames, m))
	}
	return msg.OKReply()
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
