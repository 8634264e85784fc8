package stub

import (
	"math/rand/v2"
	"testing"
)

func TestFilter(t *testing.T) {
	for _, n := range []int{1, 100, 5000, 300000} {
		r := rand.New(rand.NewPCG(1, uint64(n)))
		in := make([]uint64, n)
		set := map[uint64]bool{}
		for i := range in {
			in[i] = r.Uint64N(1 << 40)
			set[in[i]] = true
		}
		f := NewFilter(in)
		bits := uint64(len(f.Bits)) * 8
		if bits < filterMinBits || bits > filterMaxBits || bits&(bits-1) != 0 || 64-f.Shift != uint64(log2(bits)) {
			t.Fatalf("%d inodes: %d bits, shift %d", n, bits, f.Shift)
		}
		if bits < filterMaxBits && bits < 16*uint64(n) {
			t.Errorf("%d inodes: %d bits, want at least 16 per inode", n, bits)
		}
		for _, ino := range in {
			if !f.Maybe(ino) {
				t.Fatalf("%d inodes: inode %d in the filter not found", n, ino)
			}
		}
		// Others come back rarely: at most 1 in 16 (n/bits), with room.
		const tries = 20000
		back := 0
		for range tries {
			ino := r.Uint64N(1 << 40)
			if !set[ino] && f.Maybe(ino) {
				back++
			}
		}
		if limit := tries * 2 * n / int(bits); back > limit+20 {
			t.Errorf("%d inodes in %d bits: %d of %d other inodes come back, want at most about %d", n, bits, back, tries, limit)
		}
	}
	if f := NewFilter(nil); len(f.Bits) != 0 || !f.Maybe(7) {
		t.Errorf("no inodes: %d bytes, Maybe %v; want no filter, every stat coming back", len(f.Bits), f.Maybe(7))
	}
}

func log2(n uint64) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}
