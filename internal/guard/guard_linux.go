package guard

/*
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
static void trim(void) { malloc_trim(0); }
#else
static void trim(void) {}
#endif
*/
import "C"

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// counted reads the kernel's counters of the TCP connection on fd.
func counted(fd int) (counters, error) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return counters{}, err
	}
	return counters{received: info.Bytes_received, acked: info.Bytes_acked}, nil
}

// identity returns what tells the socket on fd from another that has the
// same descriptor later: its inode.
func identity(fd int) (uint64, bool) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return 0, false
	}
	return st.Ino, true
}

// abort resets the connection on fd, under libzmq's feet: connecting a TCP
// socket to AF_UNSPEC drops the connection (the peer gets a reset) and
// leaves the socket unconnected, so libzmq's next read fails and it closes
// the descriptor itself, and frees what it held for the connection.
// (shutdown is not enough: Linux goes on taking what the peer sends after
// SHUT_RD, and libzmq reading it never sees the end.)
func abort(fd int) {
	sa := unix.RawSockaddr{Family: unix.AF_UNSPEC}
	unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
}

// peerOf returns the address of the TCP peer on fd.
func peerOf(fd int) (string, bool) {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return "", false
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port)), true
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port)), true
	}
	return "", false
}

// OpenMemory opens /proc/self/statm, one read of which is the process's
// resident memory.
func OpenMemory() *Memory {
	f, _ := os.Open("/proc/self/statm")
	return &Memory{f: f}
}

// Resident returns the process's resident memory in bytes, or 0 if it
// cannot be read.
func (m *Memory) Resident() int64 {
	if m.f == nil {
		return 0
	}
	var buf [128]byte
	n, _ := m.f.ReadAt(buf[:], 0)
	var size, resident int64
	if _, err := fmt.Sscan(string(buf[:n]), &size, &resident); err != nil {
		return 0
	}
	return resident * int64(os.Getpagesize())
}

// releaseFreed gives the memory the C allocator holds free back to the
// system (glibc's malloc_trim): libzmq frees what it held for a connection
// cut off, in small pieces the allocator would otherwise keep, and the
// process's resident memory would go on saying it holds them.
func releaseFreed() { C.trim() }
