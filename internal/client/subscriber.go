package client

import (
	"context"
	"fmt"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/msg"
	"github.com/zmqchat/zmqchat/internal/transport"
)

// Subscription says which publications a Subscriber delivers.
type Subscription struct {
	// Channel is the one channel delivered, compared exactly ("" for the
	// single-room servers of parts 1 to 3).
	Channel string
	// All delivers every channel, whatever Channel says.
	All bool
}

// Subscribe connects to a server's publish endpoint and delivers each
// matching publication to deliver, and each malformed one to bad, until ctx
// is done or the socket fails. The socket is made, used and closed in the
// calling goroutine. A server that goes away is reconnected to by libzmq;
// heartbeats make a silently dead connection noticed.
func Subscribe(ctx context.Context, ep transport.Endpoint, sub Subscription, deliver func(msg.Message), bad func(error)) error {
	topic := sub.Channel
	if sub.All {
		topic = ""
	}
	sock, err := transport.DialSubscribe(ep, topic)
	if err != nil {
		return err
	}
	defer sock.Close()
	poller := zmq.NewPoller()
	poller.Add(sock, zmq.POLLIN)
	for ctx.Err() == nil {
		polled, err := poller.Poll(pollSlice)
		if err != nil {
			return fmt.Errorf("poll %s: %w", ep, err)
		}
		if len(polled) == 0 {
			continue
		}
		frames, err := sock.RecvMessageBytes(0)
		if err != nil {
			return fmt.Errorf("receive from %s: %w", ep, err)
		}
		// Subscriptions match a prefix: "dev" also brings "devops".
		if !sub.All && string(frames[0]) != sub.Channel {
			continue
		}
		m, err := msg.DecodePub(frames)
		if err != nil {
			if bad != nil {
				bad(fmt.Errorf("dropped a malformed publication from %s: %w", ep, err))
			}
			continue
		}
		deliver(m)
	}
	return nil
}
