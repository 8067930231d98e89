package transport

/*
#cgo !windows pkg-config: libzmq
#include <zmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 32
#define MAX_USER 128

// batch is what one receive holds: a whole message's frames, still in
// libzmq's memory until the next receive, and two of its properties.
typedef struct {
	zmq_msg_t msgs[MAX_FRAMES];
	void *data[MAX_FRAMES];
	size_t size[MAX_FRAMES];
	int n;
	int fd;
	char user[MAX_USER];
	int userlen;
} batch;

static void batch_release(batch *b) {
	for (int i = 0; i < b->n; i++) {
		zmq_msg_close(&b->msgs[i]);
	}
	b->n = 0;
}

// batch_recv releases what b held, then receives one whole message from
// sock: the number of its frames, -2 if it had more than MAX_FRAMES (they
// are dropped), or -1 and errno. A signal's interruption (EINTR, which
// libzmq may give even between the frames of a message) is retried, as
// zmq4 retries it.
static int batch_recv(batch *b, void *sock, int flags) {
	batch_release(b);
	int more = 1, over = 0;
	while (more) {
		zmq_msg_t drop, *m = &drop;
		if (b->n < MAX_FRAMES) {
			m = &b->msgs[b->n];
		} else {
			over = 1;
		}
		zmq_msg_init(m);
		int rc;
		do {
			rc = zmq_msg_recv(m, sock, b->n == 0 ? flags : 0);
		} while (rc < 0 && errno == EINTR);
		if (rc < 0) {
			int e = errno;
			zmq_msg_close(m);
			batch_release(b);
			errno = e;
			return -1;
		}
		more = zmq_msg_more(m);
		if (m == &drop) {
			zmq_msg_close(m);
			continue;
		}
		b->data[b->n] = zmq_msg_data(m);
		b->size[b->n] = zmq_msg_size(m);
		b->n++;
	}
	const char *fd = zmq_msg_gets(&b->msgs[0], "__fd");
	b->fd = fd ? atoi(fd) : -1;
	const char *user = zmq_msg_gets(&b->msgs[0], "User-Id");
	b->userlen = 0;
	if (user) {
		size_t n = strlen(user);
		b->userlen = n < MAX_USER ? (int) n : MAX_USER;
		memcpy(b->user, user, b->userlen);
	}
	return over ? -2 : b->n;
}

// take_in asks sock for its events, which has libzmq take in what came
// for it (new subscribers and their subscriptions).
static int take_in(void *sock) {
	int events, rc;
	size_t size = sizeof events;
	do {
		rc = zmq_getsockopt(sock, ZMQ_EVENTS, &events, &size);
	} while (rc < 0 && errno == EINTR);
	return rc;
}

// send_frame sends one frame, retrying a signal's interruption as the
// other calls here do.
static int send_frame(void *sock, void *buf, size_t len, int flags) {
	int rc;
	do {
		rc = zmq_send(sock, buf, len, flags);
	} while (rc < 0 && errno == EINTR);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	zmq "github.com/pebbe/zmq4"
)

// Receiver receives whole messages from one socket: what zmq4's
// RecvMessageBytesWithMetadata does, in one call into libzmq a message
// rather than two a frame, and without copying or allocating: the frames
// it returns are libzmq's own memory, until the next receive. A server's
// loop receives every request through it.
type Receiver struct {
	soc    unsafe.Pointer // libzmq's socket, under zmq4's
	b      *C.batch       // in C's memory: libzmq's messages may not live in Go's
	frames [][]byte
	user   string // the last User-Id, kept while it does not change
}

// Peer is what a message's connection says of itself: its descriptor
// ("__fd"; -1 if none) and, in keyed mode, its ZAP User-Id.
type Peer struct {
	FD   int
	User string
}

// ErrTooManyFrames is Receive's error for a message of more frames than
// MAX_FRAMES (32), which it drops: no request has as many.
var ErrTooManyFrames = fmt.Errorf("a message of more than %d frames: dropped", C.MAX_FRAMES)

// NewReceiver returns a Receiver for s, which the caller's goroutine
// owns and keeps open (and reachable: zmq4 closes a socket it finalizes);
// Close it before s.
func NewReceiver(s *zmq.Socket) (*Receiver, error) {
	soc, err := libzmqSocket(s)
	if err != nil {
		return nil, err
	}
	b := (*C.batch)(C.calloc(1, C.size_t(unsafe.Sizeof(C.batch{}))))
	return &Receiver{soc: soc, b: b}, nil
}

// libzmqSocket returns libzmq's socket under s: zmq4's Socket begins with
// it, which is checked by asking the socket's type both ways.
func libzmqSocket(s *zmq.Socket) (unsafe.Pointer, error) {
	soc := *(*unsafe.Pointer)(unsafe.Pointer(s))
	want, err := s.GetType()
	if err != nil {
		return nil, err
	}
	var t C.int
	size := C.size_t(unsafe.Sizeof(t))
	if rc := C.zmq_getsockopt(soc, C.ZMQ_TYPE, unsafe.Pointer(&t), &size); rc != 0 || zmq.Type(t) != want {
		return nil, fmt.Errorf("zmq4's socket is not laid out as expected (type %d, want %s)", t, want)
	}
	return soc, nil
}

// Publisher sends a publish socket's messages, first having libzmq take
// in the subscriptions that came: a send alone does so at most once a
// millisecond, so a subscriber that had its welcome (and then posted)
// could miss what is published in that millisecond.
type Publisher struct {
	soc unsafe.Pointer // libzmq's socket, under zmq4's
}

// NewPublisher returns a Publisher for s, which the caller's goroutine
// owns and keeps open (and reachable: zmq4 closes a socket it finalizes)
// while it uses the Publisher.
func NewPublisher(s *zmq.Socket) (*Publisher, error) {
	soc, err := libzmqSocket(s)
	if err != nil {
		return nil, err
	}
	return &Publisher{soc: soc}, nil
}

// Send takes in the subscriptions that came (see TakeIn), then sends
// frames as one message.
func (p *Publisher) Send(frames [][]byte) error {
	if err := p.TakeIn(); err != nil {
		return err
	}
	return sendParts(p.soc, frames)
}

// TakeIn has libzmq take in the new subscribers and subscriptions that
// came: asking for the socket's events does, as zmq4's GetEvents would,
// but without allocating.
func (p *Publisher) TakeIn() error {
	if rc, err := C.take_in(p.soc); rc != 0 {
		return zmq.AsErrno(err)
	}
	return nil
}

// Send sends the frames of parts, in order, as one message on the
// Receiver's socket: a reply, its envelope first.
func (r *Receiver) Send(parts ...[][]byte) error { return sendParts(r.soc, parts...) }

// sendParts sends the frames of parts, in order, as one message on
// libzmq's socket soc. zmq4's SendMessage would put each part in an
// interface, and its SendBytes makes a byte for each empty frame (every
// reply's delimiter): an allocation or more on each reply and
// publication, which this makes none.
func sendParts(soc unsafe.Pointer, parts ...[][]byte) error {
	last := len(parts) - 1
	for last >= 0 && len(parts[last]) == 0 {
		last--
	}
	for i, frames := range parts[:last+1] {
		for j, f := range frames {
			flags := C.int(C.ZMQ_SNDMORE)
			if i == last && j == len(frames)-1 {
				flags = 0
			}
			var buf unsafe.Pointer
			if len(f) > 0 {
				buf = unsafe.Pointer(&f[0])
			}
			if rc, err := C.send_frame(soc, buf, C.size_t(len(f)), flags); rc < 0 {
				return zmq.AsErrno(err)
			}
		}
	}
	return nil
}

// Receive waits for the next whole message (as the socket's receive
// timeout allows) and returns its frames, good until the next Receive or
// Close (they are libzmq's memory, and must not be changed), and its
// peer.
func (r *Receiver) Receive() ([][]byte, Peer, error) {
	n, err := C.batch_recv(r.b, r.soc, 0)
	if n == -1 {
		return nil, Peer{}, zmq.AsErrno(err)
	}
	peer := Peer{FD: int(r.b.fd), User: r.userID()}
	if n == -2 {
		return nil, peer, ErrTooManyFrames
	}
	data := unsafe.Slice(&r.b.data[0], n)
	sizes := unsafe.Slice(&r.b.size[0], n)
	r.frames = r.frames[:0]
	for i, s := range sizes {
		f := []byte{}
		if s > 0 {
			f = unsafe.Slice((*byte)(data[i]), int(s))
		}
		r.frames = append(r.frames, f[:len(f):len(f)])
	}
	return r.frames, peer, nil
}

// userID is the message's User-Id, reusing the last string while it is
// the same.
func (r *Receiver) userID() string {
	u := unsafe.Slice((*byte)(unsafe.Pointer(&r.b.user[0])), int(r.b.userlen))
	if string(u) != r.user {
		r.user = string(u)
	}
	return r.user
}

// Close lets go of the last message and the Receiver's memory.
func (r *Receiver) Close() {
	if r.b != nil {
		C.batch_release(r.b)
		C.free(unsafe.Pointer(r.b))
		r.b = nil
	}
}
