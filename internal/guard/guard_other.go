//go:build !linux

package guard

import "errors"

var errUnsupported = errors.New("guard: no TCP counters on this system")

func counted(int) (counters, error) { return counters{}, errUnsupported }

func abort(int) {}

func identity(int) (uint64, bool) { return 0, false }

// peerOf finds no peer, so Event watches no connection.
func peerOf(int) (string, bool) { return "", false }

// OpenMemory returns a Memory that reads nothing.
func OpenMemory() *Memory { return &Memory{} }

// Resident returns 0: this system's resident memory is not read.
func (m *Memory) Resident() int64 { return 0 }

// releaseFreed does nothing here: the allocator keeps what it keeps.
func releaseFreed() {}
