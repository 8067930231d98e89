package server

import (
	"time"

	"github.com/zmqchat/zmqchat/internal/msg"
)

// ticks are the channels published to lately, with their last numbers,
// which the publish socket repeats every tickEvery for tickFor (see
// msg.Tick): a subscriber that lost the last messages before a quiet
// spell learns of them.
type ticks struct {
	last   map[string]tick // at most maxTicked channels
	latest tick            // the last message of all, whatever its channel
	sent   time.Time
}

type tick struct {
	n       msg.Number
	at      time.Time
	channel string
}

// maxTicked bounds the channels ticked, so that posts to channels by the
// thousand cannot make the loop publish ticks by the thousand.
const (
	tickEvery = time.Second
	tickFor   = 10 * time.Second
	maxTicked = 256
)

// published notes m, published at now.
func (t *ticks) published(m msg.Message, now time.Time) {
	if t.last == nil {
		t.last = make(map[string]tick)
	}
	k := tick{n: m.Number, at: now, channel: m.Channel}
	t.latest = k
	if _, ok := t.last[m.Channel]; ok || len(t.last) < maxTicked {
		t.last[m.Channel] = k
	}
}

// send publishes the ticks with publish, every tickEvery.
func (t *ticks) send(now time.Time, publish func([][]byte) error) error {
	if now.Sub(t.sent) < tickEvery {
		return nil
	}
	t.sent = now
	for channel, k := range t.last {
		if now.Sub(k.at) > tickFor {
			delete(t.last, channel)
		} else if k != t.latest {
			if err := publish(msg.Tick(k.channel, k.n)); err != nil {
				return err
			}
		}
	}
	if now.Sub(t.latest.at) > tickFor {
		return nil
	}
	return publish(msg.Tick(t.latest.channel, t.latest.n))
}
