package transport

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/keys"
)

// zapEndpoint is where libzmq asks a socket's ZAP handler (RFC 27) whether
// a peer may connect.
const zapEndpoint = "inproc://zeromq.zap.01"

// Gate is who may connect to a keyed server: the ZAP handler lets in a
// CURVE peer whose public key is on the allow-list, naming the key as the
// connection's User-Id, and refuses every other key, reporting each
// refused key and address once. The list can be replaced while the server
// runs.
type Gate struct {
	domain string
	list   atomic.Pointer[keys.AllowList]
	gen    atomic.Int64
	report *Limited
	mu     sync.Mutex
	told   map[string]bool
}

// maxTold bounds the refusals remembered so as to report each once.
const maxTold = 4096

var gates struct {
	mu     sync.Mutex
	byName map[string]*Gate
}

// NewGate returns a gate that lets in the keys on list and reports each
// refusal with report, at most one a second.
func NewGate(list *keys.AllowList, report func(string)) *Gate {
	gates.mu.Lock()
	defer gates.mu.Unlock()
	g := &Gate{report: NewLimited(report, "refused"), told: map[string]bool{}}
	g.domain = fmt.Sprintf("%s-keyed-%p", ZAPDomain, g) // one domain a gate
	g.list.Store(list)
	if gates.byName == nil {
		gates.byName = map[string]*Gate{}
	}
	gates.byName[g.domain] = g
	return g
}

// Replace puts list in force: new connections are checked against it at
// once, and Generation changes, so that a server can make its existing
// connections check in again.
func (g *Gate) Replace(list *keys.AllowList) {
	g.list.Store(list)
	g.gen.Add(1)
}

// Generation counts the lists put in force by Replace.
func (g *Gate) Generation() int64 { return g.gen.Load() }

// Name returns the username bound to a public key (a connection's User-Id)
// by the list in force, and whether it is listed.
func (g *Gate) Name(key string) (string, bool) { return g.list.Load().Name(key) }

// Relay reports whether the list in force names key as a relay's, which
// may pass on other users' requests.
func (g *Gate) Relay(key string) bool { return g.list.Load().Relay(key) }

// RoutingID returns a routing id for a keyed client's socket: its public
// key, then a random tag, so that one user's several sockets are told
// apart. Through a relay it is what names the request's sender upstream.
func RoutingID(public string) string {
	return fmt.Sprintf("%s %08x", public, rand.Uint32())
}

// KeyOfRoutingID returns the public key a routing id starts with, if it
// does (RoutingID).
func KeyOfRoutingID(id []byte) (string, bool) {
	if len(id) < keys.Len || len(zmq.Z85decode(string(id[:keys.Len]))) != 32 {
		return "", false
	}
	return string(id[:keys.Len]), true
}

// allows answers a ZAP request for a CURVE peer at address with key and
// routing id: a listed key whose peer's routing id, if it set one, starts
// with it, so that a relay's envelope can be believed.
func (g *Gate) allows(address, key, id string) bool {
	name, ok := g.Name(key)
	if ok && (id == "" || strings.HasPrefix(id, key)) {
		return true
	}
	why := "its key " + key + " is not on the allow-list"
	if ok {
		why = fmt.Sprintf("%s's routing id does not start with its key", name)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if seen := key + " " + address; !g.told[seen] {
		if len(g.told) >= maxTold {
			clear(g.told)
		}
		g.told[seen] = true
		g.report.Say(fmt.Sprintf("refused a connection from %s: %s", address, why))
	}
	return false
}

var auth struct {
	once sync.Once
	err  error
	stop atomic.Bool
	done chan struct{}
}

// StartAuth starts, once per process, the ZAP handler that the servers'
// sockets consult. Plain servers (domain ZAPDomain, NULL mechanism) let
// every ZMTP 3 peer in; what that buys is that libzmq refuses the old
// ZMTP 1.0 framing on a ZAP-enabled socket. Without it, a peer that writes
// raw bytes (taken as ZMTP 1.0) and vanishes can make a REP socket drop its
// reply to the next, legitimate client. Keyed servers each have a Gate.
// The handler lives in zmq4's default context, so the servers' sockets are
// made there too.
func StartAuth() error {
	auth.once.Do(func() {
		sock, err := zmq.NewSocket(zmq.REP)
		if err == nil {
			sock.SetLinger(0)
			sock.SetRcvtimeo(100 * time.Millisecond) // the way out, to notice a stop
			err = sock.Bind(zapEndpoint)
			if err != nil {
				sock.Close()
			}
		}
		if err != nil {
			auth.err = fmt.Errorf("ZAP handler: %w", err)
			return
		}
		auth.done = make(chan struct{})
		go serveZAP(sock)
	})
	return auth.err
}

// serveZAP answers ZAP requests until StopAuth; it alone owns sock.
func serveZAP(sock *zmq.Socket) {
	defer close(auth.done)
	defer sock.Close()
	for !auth.stop.Load() {
		req, err := sock.RecvMessage(0)
		if err != nil {
			continue // the timeout: look at stop
		}
		// version, request id, domain, address, identity, mechanism, credentials...
		if len(req) < 6 {
			sock.SendMessage("1.0", "", "500", "malformed ZAP request", "", "")
			continue
		}
		status, text, user := zapAnswer(req[2], req[3], req[4], req[5], req[6:])
		sock.SendMessage(req[0], req[1], status, text, user, "")
	}
}

func zapAnswer(domain, address, id, mechanism string, credentials []string) (status, text, user string) {
	gates.mu.Lock()
	g := gates.byName[domain]
	gates.mu.Unlock()
	switch {
	case g == nil && domain == ZAPDomain && mechanism == "NULL":
		return "200", "OK", ""
	case g != nil && mechanism == "CURVE" && len(credentials) == 1 && len(credentials[0]) == 32:
		key := zmq.Z85encode(credentials[0])
		if g.allows(address, key, id) {
			return "200", "OK", key
		}
		return "400", "not allowed by the allow-list", ""
	default:
		return "400", "not allowed", ""
	}
}

// stopAuth ends the ZAP handler, if it runs, and waits for it to close its
// socket.
func stopAuth() {
	if auth.done == nil {
		return
	}
	auth.stop.Store(true)
	<-auth.done
}
