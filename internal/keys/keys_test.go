package keys

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateAndLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "alice")
	pair, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for f, mode := range map[string]os.FileMode{SecretFile: 0o600, PublicFile: 0o644, "": 0o700} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, %v; want %04o", filepath.Join(dir, f), fi.Mode().Perm(), err, mode)
		}
	}
	got, err := Load(dir)
	if err != nil || got != pair {
		t.Fatalf("Load: %+v, %v; want %+v", got, err, pair)
	}
	if _, err := Generate(dir); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second Generate over the key: %v", err)
	}
	if k, err := PublicKey(filepath.Join(dir, PublicFile)); err != nil || k != pair.Public {
		t.Errorf("PublicKey of the file: %q, %v", k, err)
	}
	if k, err := PublicKey(pair.Public); err != nil || k != pair.Public {
		t.Errorf("PublicKey of the key itself: %q, %v", k, err)
	}
}

// Like ssh, a secret key that others can read is refused.
func TestLoadRefusesASecretKeyOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		os.Chmod(filepath.Join(dir, SecretFile), mode)
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("can be read by others (mode %04o): run chmod 600", mode)) {
			t.Errorf("secret key mode %04o: %v", mode, err)
		}
	}
}

func TestLoadRefusesMismatchedOrMissingKeys(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	Generate(a)
	Generate(b)
	data, _ := os.ReadFile(filepath.Join(b, PublicFile))
	os.WriteFile(filepath.Join(a, PublicFile), data, 0o644)
	if _, err := Load(a); err == nil || !strings.Contains(err.Error(), "is not the public key of") {
		t.Errorf("mismatched pair: %v", err)
	}
	if _, err := Load(filepath.Join(a, "nothing")); err == nil || !strings.Contains(err.Error(), "make key KEYDIR=") {
		t.Errorf("no key: %v", err)
	}
	os.WriteFile(filepath.Join(a, PublicFile), []byte("short\n"), 0o644)
	if _, err := PublicKey(filepath.Join(a, PublicFile)); err == nil || !strings.Contains(err.Error(), "not a CurveZMQ key") {
		t.Errorf("a file with no key: %v", err)
	}
}

func TestReadAllowList(t *testing.T) {
	dir := t.TempDir()
	var pub []string
	for i := 0; i < 3; i++ {
		p, err := Generate(filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		pub = append(pub, p.Public)
	}
	write := func(text string) string {
		path := filepath.Join(dir, "allow")
		os.WriteFile(path, []byte(text), 0o644)
		return path
	}
	list, err := ReadAllowList(write("# users\n\nalice " + pub[0] + "\n  bob   " + pub[1] + "  \nrelay east " + pub[2] + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := list.Name(pub[0]); !ok || n != "alice" || list.String() != "2 users and 1 relay" {
		t.Errorf("Name(alice's key) = %q, %v; list %q", n, ok, list)
	}
	if n, ok := list.Name(pub[2]); !ok || n != "east" || !list.Relay(pub[2]) || list.Relay(pub[0]) {
		t.Errorf("the relay east: Name %q %v, Relay %v; alice Relay %v", n, ok, list.Relay(pub[2]), list.Relay(pub[0]))
	}
	if _, ok := list.Name("unknown"); ok {
		t.Error("an unknown key has a name")
	}
	for _, tt := range []struct{ text, want string }{
		{"alice " + pub[0] + "\nalice " + pub[1] + "\n", "allow:2: alice is listed already on line 1"},
		{"alice " + pub[0] + "\nbob " + pub[0] + "\n", "allow:2: this key is alice's already"},
		{"alice\n", "allow:1: want \"username public-key\" or \"relay name public-key\", got 1 fields"},
		{"relays east " + pub[2] + "\n", "got 3 fields"},
		{"a/b " + pub[0] + "\n", "allow:1: username \"a/b\""},
		{"alice notakey\n", "allow:1: alice: not a CurveZMQ key"},
	} {
		if _, err := ReadAllowList(write(tt.text)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.text, err, tt.want)
		}
	}
	if _, err := ReadAllowList(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing allow-list was read")
	}
}
