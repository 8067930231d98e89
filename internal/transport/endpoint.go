// Package transport turns command-line addresses into ZeroMQ endpoints and
// creates zmqchat's sockets with their options set in one place: linger,
// high-water marks, message-size caps, heartbeats and ZAP.
package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/zmqchat/zmqchat/internal/keys"
)

// Endpoint is a resolved ZeroMQ TCP endpoint.
type Endpoint struct {
	URL  string // tcp://host:port as libzmq wants it
	IPv6 bool   // the socket must have ZMQ_IPV6 set to use it
	// Curve, when set, makes the sockets on this endpoint speak CurveZMQ
	// (keyed mode); nil is plain ZMTP, as the assignment has it.
	Curve *Curve
	// Also are more URLs of the same chat (relays of one server), which a
	// client connects to as well: libzmq takes publications from all of
	// them (the client drops repeats by their numbers) and sends requests
	// to those that are up, so losing one loses nothing.
	Also []string
}

// Curve is an endpoint's CurveZMQ keys.
type Curve struct {
	// Pair is this side's own key pair.
	keys.Pair
	// Server is, for a client, the server's public key: a server that does
	// not hold its secret key fails the handshake.
	Server string
	// Gate is, for a server, who may connect.
	Gate *Gate
}

func (e Endpoint) String() string {
	if len(e.Also) == 0 {
		return e.URL
	}
	return e.URL + " (and " + strings.Join(e.Also, ", ") + ")"
}

// Port returns the endpoint's port number.
func (e Endpoint) Port() string {
	i := strings.LastIndexByte(e.URL, ':')
	return e.URL[i+1:]
}

// WithPort returns e on another port of the same host, with the same keys
// (a subscriber learns the post port from the server's welcome).
func (e Endpoint) WithPort(port int) Endpoint {
	i := strings.LastIndexByte(e.URL, ':')
	e.URL, e.Also = e.URL[:i+1]+strconv.Itoa(port), nil
	return e
}

// ParsePort parses a TCP port number a client connects to, 1 to 65535.
func ParsePort(s string) (int, error) { return parsePort(s, 1) }

// parsePort parses a port number from lowest (0 for a server, where 0
// lets the system pick a free port) to 65535.
func parsePort(s string, lowest int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lowest || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from %d to 65535", s, lowest)
	}
	return n, nil
}

// BindEndpoint returns the endpoint a server binds for host and port. host
// is an IPv4 or IPv6 address, "*" for every interface, or a host name, which
// is resolved here because libzmq refuses to bind a name such as localhost.
// Port 0 binds a free port, which the bound socket tells (see Bound).
func BindEndpoint(host, port string) (Endpoint, error) {
	p, err := parsePort(port, 0)
	if err != nil {
		return Endpoint{}, err
	}
	if host == "*" {
		// IPv6 on so that "*" also takes IPv6 connections.
		return Endpoint{URL: fmt.Sprintf("tcp://*:%d", p), IPv6: true}, nil
	}
	return endpoint(host, p)
}

// ConnectEndpoint returns the endpoint a client connects to for host and
// port. "*" is refused: a client needs a particular server.
func ConnectEndpoint(host, port string) (Endpoint, error) {
	if host == "*" {
		return Endpoint{}, fmt.Errorf("address * means every interface, which only a server can bind: give the server's address")
	}
	p, err := ParsePort(port)
	if err != nil {
		return Endpoint{}, err
	}
	return endpoint(host, p)
}

func endpoint(host string, p int) (Endpoint, error) {
	ip, err := resolve(host)
	if err != nil {
		return Endpoint{}, err
	}
	ap := netip.AddrPortFrom(ip, uint16(p))
	return Endpoint{URL: "tcp://" + ap.String(), IPv6: ip.Is6()}, nil
}

// resolve turns host into one address, preferring IPv4 because that is what
// "localhost" means to most people and their servers.
func resolve(host string) (netip.Addr, error) {
	if host == "" {
		return netip.Addr{}, fmt.Errorf("address is empty")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("address %q: IPv6 zones are not supported", host)
		}
		return ip.Unmap(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("address %q is neither an IP address nor a host name that resolves", host)
	}
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return a.Unmap(), nil
		}
	}
	return addrs[0], nil
}
