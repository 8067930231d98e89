// Package keys is zmqchat's CurveZMQ key handling: generating a key pair
// into a directory, loading one (refusing a secret key that others can
// read, as ssh does), reading a server's public key, and the servers'
// allow-list that binds each username to one public key.
package keys

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	zmq "github.com/pebbe/zmq4"

	"github.com/zmqchat/zmqchat/internal/display"
	"github.com/zmqchat/zmqchat/internal/msg"
)

// The files of a key directory.
const (
	PublicFile = "public.key"
	SecretFile = "secret.key"
)

// Pair is a CurveZMQ key pair, as Z85 text (40 characters each).
type Pair struct {
	Public, Secret string
}

// Generate makes a new key pair in dir (created, readable by its owner
// only), with the secret key readable by its owner only, and returns it.
// It refuses to overwrite a key that is there.
func Generate(dir string) (Pair, error) {
	if !zmq.HasCurve() {
		return Pair{}, errors.New("this libzmq was built without CurveZMQ (libsodium)")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Pair{}, fmt.Errorf("key directory: %w", err)
	}
	for _, f := range []string{PublicFile, SecretFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return Pair{}, fmt.Errorf("%s already exists: remove it first to make a new key", filepath.Join(dir, f))
		}
	}
	pub, sec, err := zmq.NewCurveKeypair()
	if err != nil {
		return Pair{}, fmt.Errorf("new key pair: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte(sec+"\n"), 0o600); err != nil {
		return Pair{}, fmt.Errorf("write secret key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, PublicFile), []byte(pub+"\n"), 0o644); err != nil {
		return Pair{}, fmt.Errorf("write public key: %w", err)
	}
	return Pair{Public: pub, Secret: sec}, nil
}

// Load reads the key pair in dir. The secret key must be readable by its
// owner only, and the public key must be the secret key's.
func Load(dir string) (Pair, error) {
	secPath := filepath.Join(dir, SecretFile)
	fi, err := os.Stat(secPath)
	if err != nil {
		return Pair{}, fmt.Errorf("secret key: %w (make one with: make key KEYDIR=%s)", err, dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return Pair{}, fmt.Errorf("secret key %s can be read by others (mode %04o): run chmod 600 %s", secPath, fi.Mode().Perm(), secPath)
	}
	sec, err := readKey(secPath)
	if err != nil {
		return Pair{}, err
	}
	pub, err := readKey(filepath.Join(dir, PublicFile))
	if err != nil {
		return Pair{}, err
	}
	if derived, err := zmq.AuthCurvePublic(sec); err != nil || derived != pub {
		return Pair{}, fmt.Errorf("%s is not the public key of %s", filepath.Join(dir, PublicFile), secPath)
	}
	return Pair{Public: pub, Secret: sec}, nil
}

// PublicKey returns the public key s names: the key itself (40 characters
// of Z85), or a file that holds it, such as a server's public.key.
func PublicKey(s string) (string, error) {
	if err := checkKey(s); err == nil {
		return s, nil
	}
	return readKey(s)
}

func readKey(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("key file %s does not exist", path)
		}
		return "", fmt.Errorf("key file: %w", err)
	}
	k := strings.TrimSpace(string(data))
	if err := checkKey(k); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Len is the length of a key in Z85 text.
const Len = 40

// checkKey checks that k is a CurveZMQ key in Z85: 40 characters that
// decode to 32 bytes.
func checkKey(k string) error {
	if len(k) != Len || len(zmq.Z85decode(k)) != 32 {
		return errors.New("not a CurveZMQ key (40 characters of Z85)")
	}
	return nil
}

// AllowList binds usernames to public keys: the users a keyed server lets
// in, and the one name each may post as. Some keys are relays': those
// connections pass on other users' requests, each named by its key.
type AllowList struct {
	names  map[string]string // public key -> username
	relays map[string]bool   // public keys of relays
}

// Relay reports whether key is listed as a relay's.
func (a *AllowList) Relay(key string) bool { return a.relays[key] }

// String says what is listed: "3 users", "3 users and 2 relays".
func (a *AllowList) String() string {
	relays := 0
	for _, r := range a.relays {
		if r {
			relays++
		}
	}
	users := display.Count(len(a.names)-relays, "user", "users")
	if relays == 0 {
		return users
	}
	return users + " and " + display.Count(relays, "relay", "relays")
}

// Name returns the username bound to key, and whether key is listed.
func (a *AllowList) Name(key string) (string, bool) {
	name, ok := a.names[key]
	return name, ok
}

// ReadAllowList reads an allow-list file: one "username public-key" a
// line, like ssh's authorized_keys, or "relay name public-key" for a
// relay; blank lines and lines starting with # are skipped. A name or a
// key listed twice is an error, so each key stands for exactly one name.
func ReadAllowList(path string) (*AllowList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("allow-list: %w", err)
	}
	defer f.Close()
	a := &AllowList{names: map[string]string{}, relays: map[string]bool{}}
	users := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		relay := len(fields) == 3 && fields[0] == "relay"
		if relay {
			fields = fields[1:]
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"username public-key\" or \"relay name public-key\", got %d fields", path, n, len(fields))
		}
		name, key := fields[0], fields[1]
		if err := msg.CheckUsername(name); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if err := checkKey(key); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", path, n, name, err)
		}
		if prev, ok := users[name]; ok {
			return nil, fmt.Errorf("%s:%d: %s is listed already on line %d: one key a name", path, n, name, prev)
		}
		if prev, ok := a.names[key]; ok {
			return nil, fmt.Errorf("%s:%d: this key is %s's already: one name a key", path, n, prev)
		}
		users[name] = n
		a.names[key] = name
		a.relays[key] = relay
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("allow-list %s: %w", path, err)
	}
	return a, nil
}
