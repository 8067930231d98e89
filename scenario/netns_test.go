package scenario

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// machines are network namespaces a test makes, each a machine of its
// own with its loopback up, joined by veth links: the server on one,
// relays on others, as they would be deployed. Making them needs root and
// ip (iproute2); a test that cannot make them fails, saying why.
type machines struct {
	t      *testing.T
	ip     string
	prefix string
	links  int
}

var worlds atomic.Int64

func newMachines(t *testing.T) *machines {
	t.Helper()
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Fatalf("cannot make network namespaces: no ip command (iproute2): %v", err)
	}
	if os.Geteuid() != 0 {
		t.Fatalf("cannot make network namespaces: not root (uid %d); the relay tests run as root, as CI does", os.Geteuid())
	}
	return &machines{t: t, ip: ip, prefix: fmt.Sprintf("zc%d-%d", os.Getpid(), worlds.Add(1))}
}

// run runs ip with args, failing the test if it fails.
func (m *machines) run(args ...string) {
	m.t.Helper()
	if out, err := exec.Command(m.ip, args...).CombinedOutput(); err != nil {
		m.t.Fatalf("cannot make network namespaces: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// machine makes a namespace, removed when the test ends, and returns its
// name.
func (m *machines) machine(name string) string {
	m.t.Helper()
	ns := m.prefix + "-" + name
	m.run("netns", "add", ns)
	m.t.Cleanup(func() { exec.Command(m.ip, "netns", "del", ns).Run() })
	m.run("-n", ns, "link", "set", "lo", "up")
	return ns
}

// link joins namespaces a and b ("" for the test's own) with a veth pair
// and returns the address of each end, and the name of b's end.
func (m *machines) link(a, b string) (ipA, ipB, devB string) {
	m.t.Helper()
	m.links++
	n := worlds.Load()*16 + int64(m.links)
	devA, devB := fmt.Sprintf("zv%da", n), fmt.Sprintf("zv%db", n)
	ipA, ipB = fmt.Sprintf("10.%d.%d.1", 100+n/250, n%250), fmt.Sprintf("10.%d.%d.2", 100+n/250, n%250)
	m.run("link", "add", devA, "type", "veth", "peer", "name", devB)
	m.t.Cleanup(func() { exec.Command(m.ip, "link", "del", devA).Run() })
	for _, end := range []struct{ ns, dev, addr string }{{a, devA, ipA}, {b, devB, ipB}} {
		in := []string{}
		if end.ns != "" {
			m.run("link", "set", end.dev, "netns", end.ns)
			in = []string{"-n", end.ns}
		}
		m.run(append(in, "addr", "add", end.addr+"/30", "dev", end.dev)...)
		m.run(append(in, "link", "set", end.dev, "up")...)
	}
	return ipA, ipB, devB
}

// lossy makes namespace ns drop percent of the packets it receives and
// sends, at random (nftables' numgen: this kernel has no netem), and
// returns a function that ends the loss and says how many packets it
// dropped.
func (m *machines) lossy(ns string, percent int) (end func() int) {
	m.t.Helper()
	nft := func(args ...string) string {
		out, err := exec.Command(m.ip, append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput()
		if err != nil {
			m.t.Fatalf("nft %s in %s: %v\n%s", strings.Join(args, " "), ns, err, out)
		}
		return string(out)
	}
	nft("add", "table", "inet", "loss")
	for _, hook := range []string{"input", "output"} {
		nft("add", "chain", "inet", "loss", hook, "{ type filter hook "+hook+" priority 0 ; }")
		nft("add", "rule", "inet", "loss", hook, "numgen", "random", "mod", "100", "<", fmt.Sprint(percent), "counter", "drop")
	}
	return func() int {
		dropped := 0
		for _, m := range regexp.MustCompile(`counter packets (\d+)`).FindAllStringSubmatch(nft("list", "table", "inet", "loss"), -1) {
			n, _ := strconv.Atoi(m[1])
			dropped += n
		}
		nft("delete", "table", "inet", "loss")
		return dropped
	}
}

// setLink takes b's end of a link down or up: a cut cable.
func (m *machines) setLink(ns, dev string, up bool) {
	m.t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	m.run("-n", ns, "link", "set", dev, state)
}

// start starts one of the programs in namespace ns.
func (m *machines) start(ns, name string, args ...string) *proc {
	m.t.Helper()
	return start(m.t, m.ip, append([]string{"netns", "exec", ns, filepath.Join(binDir, name)}, args...)...)
}

// connections counts the TCP connections established in namespace ns from
// peer to local port port.
func (m *machines) connections(ns, port, peer string) int {
	m.t.Helper()
	out, err := exec.Command(m.ip, "netns", "exec", ns, "ss", "-Htn", "state", "established", "( sport = :"+port+" )").Output()
	if err != nil {
		m.t.Fatalf("ss in %s: %v", ns, err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, peer) { // 10.x.y.2:port, or [::ffff:10.x.y.2]:port
			n++
		}
	}
	return n
}

// The server on one machine, a relay on each of two others with clients
// behind it, a fifth machine whose client knows both relays, and the test
// posting to the server from its own: every client sees every message
// once and in order; the server holds one connection per relay and port,
// however many clients sit behind it; a relay's machine losing 5% of its
// packets at random costs its clients nothing; a relay whose link is cut
// for a few seconds says so, and its clients get what they missed once it
// is back; and a relay killed (SIGKILL) costs the client that knows the
// other nothing.
func TestRelaysAcrossMachines(t *testing.T) {
	t.Parallel()
	m := newMachines(t)
	srv, r1, r2, cl := m.machine("srv"), m.machine("r1"), m.machine("r2"), m.machine("cl")
	_, toSrv, _ := m.link("", srv)
	srvFor1, relay1, _ := m.link(srv, r1)
	srvFor2, relay2, dev2 := m.link(srv, r2)
	r1ForCl, _, _ := m.link(r1, cl)
	r2ForCl, _, _ := m.link(r2, cl)

	s, err := serving(m.start(srv, "mc_server", "*", "0", "0"), toSrv)
	if err != nil {
		t.Fatalf("mc_server did not start: %v\n%s", err, s.err)
	}
	rel1, rel2 := m.relay(r1, srvFor1, s), m.relay(r2, srvFor2, s)
	clients := []*proc{
		m.start(r1, "mc_client", rel1.args("dev", "bob")...),
		m.start(r1, "mc_client", rel1.args("ALL", "eve")...),
		m.start(r2, "mc_client", rel2.args("dev", "cy")...),
		m.start(r2, "pub_client", rel2.host, rel2.pub),
		m.start(cl, "mc_client", "-also", r2ForCl+":"+rel2.post+":"+rel2.pub, r1ForCl, rel1.post, rel1.pub, "dev", "dee"),
	}
	subscribed(t, s, "dev", clients[0], clients[1], clients[2], clients[3], clients[4])
	postMany(t, s, "dev", "ann", "n", "", 1, 300)
	allSeen(t, clients, 300)
	for _, r := range []struct{ name, ip string }{{"r1", relay1}, {"r2", relay2}} {
		for _, port := range []string{s.post, s.pub} {
			if n := m.connections(srv, port, r.ip); n != 1 {
				t.Errorf("the server holds %d connections from relay %s on port %s, want 1", n, r.name, port)
			}
		}
	}

	// r1's machine loses 5% of its packets, both ways, while 300 more
	// are posted, and its clients type through it.
	end := m.lossy(r1, 5)
	postMany(t, s, "dev", "ann", "n", "", 301, 300)
	clients[0].typeLine("typed through the loss")
	allSeen(t, clients, 600)
	for _, c := range clients {
		c.out.waitFor(t, c.name, "bob: typed through the loss (")
	}
	dropped := end()
	if dropped == 0 {
		t.Error("nftables dropped no packet on r1: the loss was not tested")
	}
	t.Logf("nftables dropped %d packets on r1", dropped)

	// Cut r2's link long enough for the relay to notice (heartbeats time
	// out in 3 s), post meanwhile, and mend it.
	m.setLink(r2, dev2, false)
	rel2.err.waitFor(t, "relay", "lost the upstream")
	postMany(t, s, "dev", "ann", "n", "", 601, 100)
	m.setLink(r2, dev2, true)
	rel2.err.waitFor(t, "relay", "connected to the upstream tcp://"+srvFor2+":"+s.pub)
	postMany(t, s, "dev", "ann", "n", "", 701, 10)
	allSeen(t, clients, 710)

	// Kill r1's relay: dee goes on through r2's, missing nothing.
	rel1.signal(syscall.SIGKILL)
	rel1.wait()
	postMany(t, s, "dev", "ann", "n", "", 711, 100)
	allSeen(t, clients[2:], 810)
}

// relay starts a relay in namespace ns, on every interface, for s at
// upstream (s's address from ns).
func (m *machines) relay(ns, upstream string, s *server) *server {
	m.t.Helper()
	r, err := serving(m.start(ns, "relay", "*", "0", "0", upstream, s.post, s.pub), "127.0.0.1")
	if err != nil {
		m.t.Fatalf("relay did not start: %v\n%s", err, r.err)
	}
	return r
}

// allSeen waits until each client has shown message n, and checks that it
// showed 1 to n once each, in order.
func allSeen(t *testing.T, clients []*proc, n int) {
	t.Helper()
	for _, c := range clients {
		c.out.waitFor(t, c.name, fmt.Sprintf("n-%05d ", n))
		checkAllOnce(t, c.name, numbersShown(c.out, "n"), 1, n)
	}
}
