// Package server is the zmqchat server: a request handler that checks,
// stores and publishes posts, and the loop that serves it on a REP socket
// and a PUB socket. Every part's server is this one, configured.
package server

import (
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
}

// Handle answers one request: OK once the message is stored (or was
// already), ERR and a reason when it is rejected. It never panics on
// malformed input and stores nothing it rejects.
func (h *Handler) Handle(frames [][]byte) [][]byte {
	m, err := msg.DecodePost(frames, h.Mode)
	if err != nil {
		return msg.ErrReply(err)
	}
	if h.Store.Add(m) && h.Stored != nil {
		h.Stored(m, msg.PubFrames(frames))
	}
	return msg.OKReply()
}
