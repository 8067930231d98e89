package guard

import "sync"

// A Ledger is kept by a server's loop: for each connection of its request
// socket (by descriptor, which libzmq gives each message as its "__fd"
// property), the requests it took whole from it and the bytes it replied.
// A request taken whole is progress that protocol chatter cannot fake; the
// bytes replied, less what the peer acknowledged, are the replies it has
// not read, which the server holds for it.
//
// The loop writes it and a Watch's goroutine reads it, hence the lock,
// which each request takes once.
type Ledger struct {
	mu       sync.Mutex
	accounts map[int]account
}

type account struct {
	requests, replied uint64
	key               string // the peer's public key in keyed mode, else ""
	socket            uint64 // the connection's identity, once Unread asked
}

// NewLedger returns an empty Ledger.
func NewLedger() *Ledger { return &Ledger{accounts: make(map[int]account)} }

// Served records a request taken whole from the connection on fd, the
// bytes of its reply, and in keyed mode the peer's public key, by which a
// cut-off names it.
func (l *Ledger) Served(fd, replied int, key string) {
	l.mu.Lock()
	a := l.accounts[fd]
	a.requests++
	a.replied += uint64(replied)
	a.key = key
	l.accounts[fd] = a
	l.mu.Unlock()
}

// Unread returns the bytes of replies the connection on fd has not read
// (acknowledged) yet, or 0 if its counters cannot be read.
//
// A connection that went and one that came on the same descriptor may both
// have been served before a Watch heard of either, so the account is kept
// with the connection's identity (its socket's inode), taken the first
// time Unread is asked of it: an account of another connection is begun
// again, costing at most the replies to posts (a few bytes each) made
// before.
func (l *Ledger) Unread(fd int) uint64 {
	info, err := counted(fd)
	socket, ok := identity(fd)
	if err != nil || !ok {
		return 0
	}
	l.mu.Lock()
	a := l.accounts[fd]
	if a.socket != socket {
		a = account{socket: socket, requests: a.requests, key: a.key}
		l.accounts[fd] = a
	}
	l.mu.Unlock()
	return unread(a, info)
}

func unread(a account, info counters) uint64 {
	if a.replied > info.acked {
		return a.replied - info.acked
	}
	return 0
}

func (l *Ledger) account(fd int) account {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accounts[fd]
}

// forget drops the account of a connection that went, before its
// descriptor is reused.
func (l *Ledger) forget(fd int) {
	l.mu.Lock()
	delete(l.accounts, fd)
	l.mu.Unlock()
}
