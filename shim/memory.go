package shim

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// pathMax is PATH_MAX: a longer path is ENAMETOOLONG.
const pathMax = 4096

func readU32s(m Memory, addr uint64, n int) ([]uint32, error) {
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, 4*n)
	if err := m.ReadAt(b, addr); err != nil {
		return nil, unix.EFAULT
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out, nil
}

func writeU32s(m Memory, addr uint64, vals ...uint32) error {
	if len(vals) == 0 {
		return nil
	}
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	if err := m.WriteAt(b, addr); err != nil {
		return unix.EFAULT
	}
	return nil
}

// readPath reads a NUL-terminated path as getname() does: EFAULT when it is
// unreadable, ENAMETOOLONG past PATH_MAX. It reads in small pieces so a path
// near the end of a mapping is still found.
func readPath(m Memory, addr uint64) (string, error) {
	var out []byte
	chunk := make([]byte, 256)
	for len(out) < pathMax {
		// Do not cross a page boundary in one read: the next page may be unmapped.
		n := len(chunk)
		if rest := 4096 - int((addr+uint64(len(out)))%4096); rest < n {
			n = rest
		}
		if err := m.ReadAt(chunk[:n], addr+uint64(len(out))); err != nil {
			return "", unix.EFAULT
		}
		for i := 0; i < n; i++ {
			if chunk[i] == 0 {
				return string(append(out, chunk[:i]...)), nil
			}
		}
		out = append(out, chunk[:n]...)
	}
	return "", unix.ENAMETOOLONG
}
