package stub

import "math/bits"

// The image filter: a bit array, mapped read-only after the slots, in
// which the stub looks up the inode number a fused stat found (one
// multiplicative hash, the bit at its top bits). A clear bit means the
// container's image gives that object no owner, and the stat returns to
// the caller with no stop; a set bit (the image may give it one, or
// another inode shares the bit) makes the stub come back to the tracer,
// which looks the owner up exactly. The filter has at least 16 bits per
// inode, so about one stat in 16 of objects without an image owner stops
// for nothing.

// FilterAddr is where the filter is mapped, after the slots.
const FilterAddr = DataAddr + Slots*SlotSize

// filterMaxBits caps the filter at 512 KiB (millions of inodes with
// owners from the image then share bits more often).
const filterMaxBits = 1 << 22

// filterMinBits is the smallest filter: one page.
const filterMinBits = 1 << 15

// filterHash is the multiplier of the stub's hash (2^64 / the golden
// ratio), in its source too.
const filterHash = 0x9e3779b97f4a7c15

// Filter is an image filter's bits and the shift that takes a hash to a
// bit index (64 - log2 of the number of bits).
type Filter struct {
	Bits  []byte
	Shift uint64
}

// NewFilter returns the filter of inodes; it is empty (no filter) when
// inodes is.
func NewFilter(inodes []uint64) Filter {
	if len(inodes) == 0 {
		return Filter{}
	}
	n := uint64(filterMinBits)
	for n < 16*uint64(len(inodes)) && n < filterMaxBits {
		n <<= 1
	}
	f := Filter{Bits: make([]byte, n/8), Shift: uint64(64 - bits.TrailingZeros64(n))}
	for _, ino := range inodes {
		i := f.index(ino)
		f.Bits[i/8] |= 1 << (i % 8)
	}
	return f
}

// index is the bit the stub tests for ino.
func (f Filter) index(ino uint64) uint64 { return (ino * filterHash) >> f.Shift }

// Maybe reports whether the stub comes back to the tracer for ino: what
// its bt instruction finds.
func (f Filter) Maybe(ino uint64) bool {
	if len(f.Bits) == 0 {
		return true
	}
	i := f.index(ino)
	return f.Bits[i/8]&(1<<(i%8)) != 0
}
