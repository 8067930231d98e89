package store

// resends is the resend window: the IDs of the last messages added, up to
// its size, and which message has each. A ring holds the IDs (the oldest
// at next once it is full); a table with open addressing and linear
// probing holds their places in the ring, keyed by the ID there, at most
// half full: 8 bytes a message beside its ID, where a map of ID to index
// took 38.
type resends struct {
	size  int      // how many IDs it holds at most
	ids   []uint64 // the ring: it grows as messages come, up to size
	next  int      // once the ring is full, the oldest's place, where the next goes
	table []uint32 // a place in ids, plus 1; 0 is empty
}

// add puts in the ID of the message added next, and forgets the oldest's
// once the window is full.
func (w *resends) add(id uint64) {
	if w.ids == nil {
		// All of it at once: memory not yet written takes no room, and a
		// ring grown by doubling would leave its old copies to the
		// collector (at a million messages, 8 bytes a message more).
		w.ids = make([]uint64, 0, w.size)
	}
	if p := len(w.ids); p < w.size {
		w.ids = append(w.ids, id)
		if 2*len(w.ids) > len(w.table) {
			w.rehash()
		} else {
			w.insert(p)
		}
		return
	}
	p := w.next
	w.remove(p)
	w.ids[p] = id
	w.insert(p)
	w.next = (p + 1) % len(w.ids)
}

// age returns how many messages were added after the newest with ID id,
// if the window has it.
func (w *resends) age(id uint64) (int, bool) {
	mask := len(w.table) - 1
	for i := int(id) & mask; len(w.table) > 0 && w.table[i] != 0; i = (i + 1) & mask {
		if p := int(w.table[i] - 1); w.ids[p] == id {
			newest := (w.next - 1 + len(w.ids)) % len(w.ids)
			return (newest - p + len(w.ids)) % len(w.ids), true
		}
	}
	return 0, false
}

// insert enters place p, whose ID is in the ring, in the table, over the
// entry of an older message with the same ID.
func (w *resends) insert(p int) {
	id, mask := w.ids[p], len(w.table)-1
	i := int(id) & mask
	for w.table[i] != 0 && w.ids[w.table[i]-1] != id {
		i = (i + 1) & mask
	}
	w.table[i] = uint32(p + 1)
}

// remove takes place p out of the table, if its entry is there (a newer
// message with the same ID takes it over), and moves back the entries
// after it that probing would no longer reach.
func (w *resends) remove(p int) {
	mask := len(w.table) - 1
	i := int(w.ids[p]) & mask
	for w.table[i] != uint32(p+1) {
		if w.table[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; w.table[j] != 0; j = (j + 1) & mask {
		home := int(w.ids[w.table[j]-1]) & mask
		// An entry whose home lies cyclically after the hole, up to where
		// it sits, is reached without crossing the hole: it stays.
		if i < j && i < home && home <= j || j < i && (i < home || home <= j) {
			continue
		}
		w.table[i], i = w.table[j], j
	}
	w.table[i] = 0
}

// rehash makes the table twice as large, for a ring that has not wrapped.
func (w *resends) rehash() {
	w.table = make([]uint32, max(16, 2*len(w.table)))
	for p := range w.ids {
		w.insert(p)
	}
}
