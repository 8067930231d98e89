package store

// segSize is the size of one segment of the text log: far more than the
// longest message's text (names, time and a body of at most 16 KiB), so
// what a segment leaves unused at its end is little.
const segSize = 1 << 20

// maxSpare is how many emptied segments the log keeps to write again;
// past it they are let go.
const maxSpare = 2

// textLog holds the texts of messages back to back, oldest first, in
// segments of segSize bytes. A text is copied once, into memory that
// holds no pointers, which the collector does not scan; and a segment
// whose messages are all gone is written again rather than let go, so a
// store at its budget touches no fresh memory (a fresh page faults on its
// first touch). A position is a byte's place in the log since it began:
// segment k holds positions k*segSize to (k+1)*segSize-1, and no text
// straddles two.
type textLog struct {
	segs  [][]byte // held, oldest first: segs[0] starts at position base
	base  uint64
	end   uint64   // where the next text goes
	spare [][]byte // emptied segments, to be written again
}

// add copies parts back to back and returns their position, or false if
// together they are longer than a segment.
func (l *textLog) add(parts ...string) (uint64, bool) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > segSize {
		return 0, false
	}
	if len(l.segs) == 0 || l.end+uint64(n) > l.base+uint64(len(l.segs))*segSize {
		l.grow()
	}
	pos := l.end
	seg := l.segs[len(l.segs)-1][pos%segSize:]
	for _, p := range parts {
		seg = seg[copy(seg, p):]
	}
	l.end += uint64(n)
	return pos, true
}

// grow starts a segment: the next text goes at its start, and what is
// left of the one before stays unused.
func (l *textLog) grow() {
	if len(l.segs) == 0 {
		l.base = (l.end + segSize - 1) / segSize * segSize
	}
	l.end = l.base + uint64(len(l.segs))*segSize
	var seg []byte
	if k := len(l.spare); k > 0 {
		seg, l.spare = l.spare[k-1], l.spare[:k-1]
	} else {
		seg = make([]byte, segSize)
	}
	l.segs = append(l.segs, seg)
}

// bytes returns the n bytes at pos, in the log's own memory: good until
// the segment that holds them is released.
func (l *textLog) bytes(pos uint64, n int) []byte {
	off := pos - l.base
	at := off % segSize
	return l.segs[off/segSize][at : at+uint64(n) : at+uint64(n)]
}

// release lets go of the segments wholly before pos, the position of the
// oldest text still needed (end if none is), keeping up to maxSpare of
// them to write again.
func (l *textLog) release(pos uint64) {
	for len(l.segs) > 0 && l.base+segSize <= pos {
		if len(l.spare) < maxSpare {
			l.spare = append(l.spare, l.segs[0])
		}
		l.segs[0] = nil
		l.segs = l.segs[1:]
		l.base += segSize
	}
}
