package scenario

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// keyring is a keyed set-up: key pairs made by keygen for the server and
// for alice, bob and eve, and an allow-list with alice and bob (eve is a
// stranger whose key is not listed).
type keyring struct {
	dir   string
	allow string
}

func newKeyring(t *testing.T) *keyring {
	t.Helper()
	k := &keyring{dir: t.TempDir()}
	k.allow = filepath.Join(k.dir, "allow")
	k.generate(t, "server", "alice", "bob", "eve")
	k.write(t, "alice", "bob")
	return k
}

// generate makes key pairs for each of who with keygen.
func (k *keyring) generate(t *testing.T, who ...string) {
	t.Helper()
	for _, w := range who {
		if p := run(t, "keygen", k.keys(w)); p.code != 0 {
			t.Fatalf("keygen %s: exit %d\n%s", w, p.code, p.err)
		}
	}
}

func (k *keyring) keys(who string) string { return filepath.Join(k.dir, who) }

func (k *keyring) public(t *testing.T, who string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(k.keys(who), "public.key"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// write makes the allow-list list users; "relay NAME" lists a relay.
func (k *keyring) write(t *testing.T, users ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# zmqchat allow-list\n")
	for _, u := range users {
		fmt.Fprintf(&b, "%s %s\n", u, k.public(t, strings.TrimPrefix(u, "relay ")))
	}
	if err := os.WriteFile(k.allow, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// client returns the flags of who's keyed client.
func (k *keyring) client(who string) []string {
	return []string{"-keys", k.keys(who), "-server-key", filepath.Join(k.keys("server"), "public.key")}
}

// startKeyedServer starts a keyed mc_server of k, whose allow-list lists
// alice and bob, or what listed says ("3 users and 2 relays").
func startKeyedServer(t *testing.T, k *keyring, listed ...string) *server {
	t.Helper()
	s := &server{host: "127.0.0.1"}
	s.proc = start(t, "mc_server", "-keys", k.keys("server"), "-allow", k.allow, "127.0.0.1", "0", "0")
	m := bannerPorts.FindStringSubmatch(s.out.waitMatch(t, "mc_server", "banner", bannerPorts.MatchString))
	s.post, s.pub = m[1], m[2]
	want := "2 users"
	if len(listed) > 0 {
		want = listed[0]
	}
	s.err.waitFor(t, "mc_server", "keyed mode: CurveZMQ, "+want+" on ")
	return s
}

// probed has poster type probes until every output shows one: what a keyed
// server's subscriber needs before it sees everything (the slow joiner),
// when raw plain posts cannot be used. Then a last marker is waited for
// everywhere: publications keep their order, so once it is shown no probe
// is still on its way.
func probed(t *testing.T, poster *proc, outs ...*lines) {
	t.Helper()
	tag := fmt.Sprintf("probe-%d", probes.Add(1))
	defer func() {
		poster.typeLine(tag + "-settled")
		for _, o := range outs {
			o.waitFor(t, poster.name, tag+"-settled (")
		}
	}()
	deadline := time.Now().Add(wait)
	for {
		poster.typeLine(tag)
		ready := 0
		for _, o := range outs {
			if o.count(tag) > 0 {
				ready++
			}
		}
		if ready == len(outs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d subscribers saw a probe within %s", ready, len(outs), wait)
		}
		waitChange(outs[0], 100*time.Millisecond)
	}
}

func TestKeyedChatLetsInOnlyListedKeysUnderTheirOwnNames(t *testing.T) {
	t.Parallel()
	k := newKeyring(t)
	s := startKeyedServer(t, k)
	alice := start(t, "mc_client", append(k.client("alice"), s.args("dev", "alice")...)...)
	bob := start(t, "mc_client", append(k.client("bob"), s.args("dev", "bob")...)...)
	probed(t, alice, alice.out, bob.out)
	alice.typeLine("hello bob")
	bob.out.waitFor(t, "bob", "alice: hello bob (")
	s.out.waitFor(t, "mc_server", "[dev] alice: hello bob (")

	// A stranger, whose key is not listed, can neither read nor post: each
	// client says why and exits 1, and the server says so once, with the
	// address.
	for _, stranger := range []*proc{
		start(t, "mc_client", append(k.client("eve"), s.args("dev", "eve")...)...),
		start(t, "pub_client", append(k.client("eve"), s.host, s.pub)...),
	} {
		if code := stranger.wait(); code != 1 {
			t.Errorf("%s with an unlisted key exited %d, want 1", stranger.name, code)
		}
		stranger.err.waitFor(t, stranger.name, "handshake with the server failed")
		if stranger.out.String() != "" {
			t.Errorf("%s with an unlisted key printed:\n%s", stranger.name, stranger.out)
		}
	}
	s.err.waitFor(t, "mc_server", "refused a connection from 127.0.0.1: its key "+k.public(t, "eve")+" is not on the allow-list")
	if n := s.err.count("refused a connection"); n != 1 {
		t.Errorf("the refusal of eve's key was reported %d times, want once:\n%s", n, s.err)
	}
	// Without keys at all, a client is told the server is keyed.
	plain := start(t, "pub_client", s.host, s.pub)
	if code := plain.wait(); code != 1 {
		t.Errorf("a plain pub_client at a keyed server exited %d, want 1", code)
	}
	plain.err.waitFor(t, "pub_client", "is it in keyed mode")

	// alice cannot post as bob: her key is hers.
	fake := start(t, "mc_client", append(k.client("alice"), s.args("dev", "bob")...)...)
	fake.typeLine("I am bob, honest")
	fake.err.waitFor(t, "mc_client", "the server refused the message: you cannot post as bob: your key is alice's")

	// bob's key is taken off the list and the list re-read: his posts are
	// refused at once, and his connections are closed and cannot come
	// back. (Which he meets first, the refusal or the closed door, is a
	// race; his client says it is about the allow-list either way.)
	k.write(t, "alice")
	s.signal(syscall.SIGUSR1)
	s.err.waitFor(t, "mc_server", "allow-list reloaded: 1 user")
	bob.typeLine("am I still here?")
	if code := bob.wait(); code != 1 {
		t.Errorf("bob's client exited %d once his key was removed, want 1", code)
	}
	bob.err.waitFor(t, "bob", "allow-list")
	// The publish socket was opened anew, and what is published before a
	// subscriber is back is not for it: alice waits to be back.
	alice.err.waitFor(t, "alice", "lost the connection")
	alice.err.waitCount(t, "alice", "connected to", 2)
	alice.typeLine("bob has gone")
	alice.out.waitFor(t, "alice", "alice: bob has gone (")
	never(t, []*lines{s.out, alice.out, bob.out}, "I am bob", "am I still here")
	never(t, []*lines{bob.out}, "bob has gone")
	// End of input, not Ctrl-C: her line's publication can come before its
	// reply, and Ctrl-C would count it as not posted.
	alice.stdin.Close()
	if code := alice.wait(); code != 0 {
		t.Errorf("alice's client exited %d at the end of its input, want 0", code)
	}
}

// relay is a TCP relay between a client and a server: a man in the middle,
// which can alter the bytes that pass in either direction.
type relay struct {
	ln     net.Listener
	target string
	// tamper, per direction (0 client to server, 1 server to client):
	// flip a bit of each chunk that passes, or rewrite one text for another.
	flip    [2]atomic.Bool
	rewrite [2]atomic.Pointer[[2]string]
	delay   [2]atomic.Int64 // nanoseconds each chunk waits: a slow link
	wg      sync.WaitGroup
}

func startRelay(t *testing.T, host, port string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: net.JoinHostPort(host, port)}
	var conns sync.Map
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", r.target)
			if err != nil {
				c.Close()
				continue
			}
			conns.Store(c, up)
			r.wg.Add(2)
			go r.pipe(up, c, 0)
			go r.pipe(c, up, 1)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(c, up any) bool { c.(net.Conn).Close(); up.(net.Conn).Close(); return true })
		r.wg.Wait()
	})
	return r
}

func (r *relay) port() string { return itoa(r.ln.Addr().(*net.TCPAddr).Port) }

func (r *relay) pipe(dst, src net.Conn, dir int) {
	defer r.wg.Done()
	defer dst.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if rw := r.rewrite[dir].Load(); rw != nil {
				chunk = bytes.ReplaceAll(chunk, []byte(rw[0]), []byte(rw[1]))
			}
			if r.flip[dir].Load() {
				chunk[len(chunk)-1] ^= 0x01
			}
			time.Sleep(time.Duration(r.delay[dir].Load()))
			if _, err := dst.Write(chunk); err != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

// A man in the middle who rewrites text succeeds against a plain server
// (the control: the relay really alters what passes); against a keyed one,
// any altered byte, in either direction, breaks the connection, and nothing
// altered is stored, shown or acknowledged.
func TestKeyedRelayCannotAlterAnything(t *testing.T) {
	t.Parallel()
	t.Run("plain, the control", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "mc_server", "127.0.0.1")
		r := startRelay(t, s.host, s.post)
		r.rewrite[0].Store(&[2]string{"10 EUR", "99 EUR"})
		ann := start(t, "mc_client", s.host, r.port(), s.pub, "dev", "ann")
		probed(t, ann, ann.out)
		ann.typeLine("transfer 10 EUR to bob")
		s.out.waitFor(t, "mc_server", "ann: transfer 99 EUR to bob (")
		ann.out.waitFor(t, "ann", "ann: transfer 99 EUR to bob (")
		ann.interrupt()
	})
	for _, dir := range []int{0, 1} {
		t.Run([]string{"keyed, client to server", "keyed, server to client"}[dir], func(t *testing.T) {
			t.Parallel()
			k := newKeyring(t)
			s := startKeyedServer(t, k)
			postRelay, pubRelay := startRelay(t, s.host, s.post), startRelay(t, s.host, s.pub)
			alice := start(t, "mc_client", append(append(k.client("alice"), "-timeout", "1s", "-retries", "0"),
				s.host, postRelay.port(), pubRelay.port(), "dev", "alice")...)
			bob := start(t, "mc_client", append(k.client("bob"), s.args("dev", "bob")...)...)
			probed(t, bob, alice.out, bob.out)

			if dir == 0 {
				postRelay.flip[0].Store(true)
			} else {
				pubRelay.flip[1].Store(true)
			}
			alice.typeLine("transfer 10 EUR to bob")
			if dir == 0 {
				// The post fails its authentication at the server, which
				// drops the connection: no reply, so no OK, and alice's
				// client says the traffic was altered.
				alice.err.waitFor(t, "alice", "something on the way altered the traffic")
			} else {
				// The post is stored and goes to bob as sent, but the copy
				// through the relay fails its authentication at alice's
				// client, which stops and says so.
				bob.out.waitFor(t, "bob", "alice: transfer 10 EUR to bob (")
				alice.err.waitFor(t, "alice", "something on the way altered the traffic")
				if code := alice.wait(); code != 1 {
					t.Errorf("alice's client exited %d after tampering, want 1", code)
				}
			}
			for _, out := range []*lines{s.out, bob.out, alice.out} {
				for _, line := range strings.Split(out.String(), "\n") {
					if strings.Contains(line, "EUR") && !strings.Contains(line, "transfer 10 EUR to bob (") {
						t.Errorf("an altered line got through: %q", line)
					}
				}
			}
			if dir == 0 {
				never(t, []*lines{s.out, bob.out, alice.out}, "EUR")
			}
			never(t, []*lines{alice.out}, "alice: transfer")
		})
	}
}
