package server_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/zmqchat/zmqchat/internal/cli"
	"github.com/zmqchat/zmqchat/internal/server"
)

func TestFlagsStoreBudget(t *testing.T) {
	for _, tt := range []struct {
		arg  string
		want int64 // 0: refused
	}{{"1", 1 << 20}, {"512", 512 << 20}, {"0", 0}, {"-3", 0}} {
		cmd := cli.NewCommand("s", "S.")
		opts := server.Flags(cmd)
		if _, err := cmd.Parse([]string{"-store-mib", tt.arg}); err != nil {
			t.Fatal(err)
		}
		setup, err := opts.Start(context.Background(), cli.Env{Stderr: io.Discard})
		switch {
		case tt.want == 0 && err == nil:
			t.Errorf("-store-mib %s taken", tt.arg)
		case tt.want != 0 && (err != nil || opts.Store().Budget != tt.want):
			t.Errorf("-store-mib %s: %v, budget %d", tt.arg, err, opts.Store().Budget)
		}
		if setup != nil {
			setup.Stop()
		}
	}
}

func TestFlagsWriteAProfile(t *testing.T) {
	cmd := cli.NewCommand("s", "S.")
	opts := server.Flags(cmd)
	file := filepath.Join(t.TempDir(), "cpu.prof")
	if _, err := cmd.Parse([]string{"-cpuprofile", file}); err != nil {
		t.Fatal(err)
	}
	setup, err := opts.Start(context.Background(), cli.Env{Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	setup.Stop()
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
		t.Fatalf("no profile written: %v", err)
	}
}
