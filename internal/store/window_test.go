package store

import (
	"math/rand/v2"
	"testing"
)

// The window answers as a list of the last size IDs would, whatever the
// IDs: many alike (resends), and alike in their low bits, where the table
// probes (collisions), across its growth and its ring's wrapping.
func TestResendsAgreesWithAList(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 2, 3, 7, 64, 1000} {
		for _, kinds := range []int{3, 40, 5000} {
			w := resends{size: size}
			var list []uint64
			for n := 0; n < 4*size+200; n++ {
				id := uint64(rng.IntN(kinds)) << 3 // the low bits alike
				if rng.IntN(4) == 0 {
					id = rng.Uint64()
				}
				w.add(id)
				list = append(list, id)
				if len(list) > size {
					list = list[1:]
				}
				for _, probe := range []uint64{id, uint64(rng.IntN(kinds)) << 3, rng.Uint64()} {
					want, wantOK := -1, false
					for k := len(list) - 1; k >= 0; k-- {
						if list[k] == probe {
							want, wantOK = len(list)-1-k, true
							break
						}
					}
					if got, ok := w.age(probe); ok != wantOK || ok && got != want {
						t.Fatalf("size %d, %d kinds, after %d: age(%x) = %d %v, want %d %v", size, kinds, n+1, probe, got, ok, want, wantOK)
					}
				}
			}
			if full := 0; len(w.table) > 0 {
				for _, e := range w.table {
					if e != 0 {
						full++
					}
				}
				if 2*full > len(w.table) {
					t.Errorf("size %d: the table is %d of %d full", size, full, len(w.table))
				}
			}
		}
	}
}

// A channel's index keeps the low 32 bits of each message's index: they
// give the index back across a multiple of 2^32.
func TestIndexAcrossTheLow32Bits(t *testing.T) {
	s := New(4)
	s.first = 1<<32 - 2
	for _, i := range []int{1<<32 - 2, 1<<32 - 1, 1 << 32, 1<<32 + 5, 1<<33 - 3} {
		if got := s.index(uint32(i)); got != i {
			t.Errorf("index(%d's low bits) = %d", i, got)
		}
	}
}
