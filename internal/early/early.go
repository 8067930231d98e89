// Package early catches the signals that stop a program from the moment it
// is initialised, which is as early as a Go program can: a stop signal
// that comes before main has set up its own handling then ends the program
// cleanly (cli.Main sees it) instead of killing it, and SIGUSR1, which
// only a keyed server uses (to re-read its allow-list), never kills. It
// imports nothing but the signal package, so that it is initialised right
// after it.
package early

import (
	"os"
	"os/signal"
	"syscall"
)

// Stops receives SIGINT, SIGTERM and SIGHUP from the package's
// initialisation on.
var Stops = make(chan os.Signal, 1)

// StopSignals are the signals that stop a program.
var StopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func init() {
	signal.Notify(Stops, StopSignals...)
	// Caught and dropped: a keyed server's own handler gets it too.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGUSR1)
}
