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
		args []string
		want int64 // 0: refused
	}{
		{[]string{}, 384 << 20},
		{[]string{"-store-mib", "1"}, 1 << 20},
		{[]string{"-store-mib", "384"}, 384 << 20},
		{[]string{"-store-mib", "385"}, 0}, // over 3/8 of -memory
		{[]string{"-memory", "2048", "-store-mib", "768"}, 768 << 20},
		{[]string{"-memory", "256"}, 96 << 20},
		{[]string{"-memory", "256", "-store", filepath.Join(t.TempDir(), "f.db")}, 64 << 20},
		{[]string{"-memory", "63"}, 0},
		{[]string{"-store-mib", "0"}, 0},
		{[]string{"-store-mib", "-3"}, 0},
	} {
		cmd := cli.NewCommand("s", "S.")
		opts := server.Flags(cmd)
		if _, err := cmd.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		setup, err := opts.Start(context.Background(), cli.Env{Stderr: io.Discard})
		switch {
		case tt.want == 0 && err == nil:
			t.Errorf("%q taken", tt.args)
		case tt.want != 0 && (err != nil || opts.Store().Budget != tt.want):
			t.Errorf("%q: %v, budget %d, want %d", tt.args, err, opts.Store().Budget, tt.want)
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
