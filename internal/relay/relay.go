// Package relay runs a relay's two devices: libzmq's own proxy
// (zmq_proxy_steerable), each in a goroutine of its own that owns its
// pair of sockets, steered from the caller's through a control socket:
// statistics when asked, and termination when the relay stops.
package relay

/*
#include <signal.h>
#include <pthread.h>

// blockSignals keeps signals off the calling thread.
static void blockSignals(void) {
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
}
*/
import "C"

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
)

// A Device is one of a relay's proxies: Front is what clients connect to,
// Back what connects upstream. Name says what passes ("requests",
// "publications").
type Device struct {
	Name        string
	Front, Back *zmq.Socket
}

// Stats are a device's statistics, as libzmq's proxy counts them.
type Stats struct {
	Name                    string
	FrontIn, FrontInBytes   uint64 // messages and bytes from the clients' side
	FrontOut, FrontOutBytes uint64
	BackIn, BackInBytes     uint64 // and from upstream
	BackOut, BackOutBytes   uint64
}

// String says the statistics for a person: "requests: 12 messages (1.2 KiB)
// up, 12 (96 B) down".
func (s Stats) String() string {
	return fmt.Sprintf("%s: %d messages (%d B) up, %d (%d B) down", s.Name, s.FrontIn, s.FrontInBytes, s.BackIn, s.BackInBytes)
}

// Relay is a set of running devices.
type Relay struct {
	devices  []*running
	finished chan error
	news     chan string // what the upstream watches say
}

type running struct {
	Device
	control *zmq.Socket // the caller's end
}

var controls atomic.Int64

// Start starts each device's proxy in a goroutine of its own, which owns
// the device's sockets (and closes them when its proxy ends).
func Start(devices ...Device) (*Relay, error) {
	r := &Relay{finished: make(chan error, len(devices)), news: make(chan string, 16)}
	for _, d := range devices {
		mine, theirs, err := controlPair()
		if err != nil {
			r.Stop()
			return nil, err
		}
		r.devices = append(r.devices, &running{Device: d, control: mine})
		go func() {
			// A signal that lands on the proxy's thread interrupts its
			// wait, and zmq4 starts it again, with its statistics at
			// zero: the thread is the proxy's alone (it ends with it), and
			// takes no signals.
			runtime.LockOSThread()
			C.blockSignals()
			defer d.Front.Close()
			defer d.Back.Close()
			defer theirs.Close()
			err := zmq.ProxySteerable(d.Front, d.Back, nil, theirs)
			if err != nil {
				err = fmt.Errorf("%s: %w", d.Name, err)
			}
			r.finished <- err
		}()
	}
	return r, nil
}

// controlPair returns the two ends of an inproc PAIR connection: the
// caller's, and the proxy's control socket.
func controlPair() (mine, theirs *zmq.Socket, err error) {
	addr := fmt.Sprintf("inproc://zmqchat-relay-control-%d", controls.Add(1))
	if theirs, err = zmq.NewSocket(zmq.PAIR); err == nil {
		err = theirs.Bind(addr)
	}
	if err == nil {
		if mine, err = zmq.NewSocket(zmq.PAIR); err == nil {
			err = mine.Connect(addr)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("relay control socket: %w", err)
	}
	return mine, theirs, nil
}

// Upstream are the monitor events a relay's upstream sockets report (see
// WatchUpstream).
const Upstream = zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED | zmq.EVENT_MONITOR_STOPPED

// WatchUpstream reads mon, a monitor of an upstream socket (with
// Upstream's events, attached before it connected), in a goroutine of its
// own, and has Run say when the connection to what (its name, endpoint)
// comes and goes. It ends when the socket is closed.
func (r *Relay) WatchUpstream(mon *zmq.Socket, what string) {
	go func() {
		defer mon.Close()
		up := false
		for {
			ev, _, _, err := mon.RecvEvent(0)
			switch {
			case err != nil || ev == zmq.EVENT_MONITOR_STOPPED:
				return
			case ev == zmq.EVENT_HANDSHAKE_SUCCEEDED && !up:
				r.say("connected to the upstream " + what)
			case ev == zmq.EVENT_DISCONNECTED && up:
				r.say("lost the upstream " + what + "; reconnecting (clients will fetch what they miss meanwhile)")
			}
			up = ev == zmq.EVENT_HANDSHAKE_SUCCEEDED || up && ev != zmq.EVENT_DISCONNECTED
		}
	}()
}

func (r *Relay) say(s string) {
	select {
	case r.news <- s:
	default: // Run is behind: the next line will do
	}
}

// Finished delivers the end of each device's proxy: nil when it was
// stopped, or what broke it.
func (r *Relay) Finished() <-chan error { return r.finished }

// Stats asks each device's proxy for its statistics.
func (r *Relay) Stats() ([]Stats, error) {
	var all []Stats
	for _, d := range r.devices {
		if _, err := d.control.Send("STATISTICS", 0); err != nil {
			return nil, err
		}
		frames, err := d.control.RecvMessageBytes(0)
		if err != nil {
			return nil, err
		}
		if len(frames) != 8 {
			return nil, fmt.Errorf("%s: %d frames of statistics, want 8", d.Name, len(frames))
		}
		n := make([]uint64, 8)
		for i, f := range frames {
			if len(f) == 8 {
				n[i] = binary.NativeEndian.Uint64(f)
			}
		}
		all = append(all, Stats{d.Name, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]})
	}
	return all, nil
}

// Stop ends every device's proxy, and waits for each.
func (r *Relay) Stop() {
	for _, d := range r.devices {
		d.control.Send("TERMINATE", 0)
	}
	for range r.devices {
		<-r.finished
	}
	for _, d := range r.devices {
		d.control.Close()
	}
	r.devices = nil
}

// Run relays until ctx is done, then stops, and says the statistics each
// time stats delivers (a signal).
func Run(ctx context.Context, r *Relay, stats <-chan os.Signal, say func(string)) error {
	defer r.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-r.finished:
			r.finished <- err // for Stop to count
			if err == nil {
				err = fmt.Errorf("a proxy ended")
			}
			return err
		case s := <-r.news:
			say(s)
		case <-stats:
			all, err := r.Stats()
			if err != nil {
				return err
			}
			for _, s := range all {
				say(s.String())
			}
		}
	}
}
