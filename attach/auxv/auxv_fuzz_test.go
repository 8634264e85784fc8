package auxv

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// stackMemory is a traced program's stack for tests: size bytes at
// stackBase, any other address faults.
type stackMemory struct{ buf []byte }

const stackBase = 0x7ff000000000

func (m *stackMemory) span(addr uint64, n int) ([]byte, bool) {
	if addr < stackBase || addr-stackBase > uint64(len(m.buf)) || uint64(n) > uint64(len(m.buf))-(addr-stackBase) {
		return nil, false
	}
	return m.buf[addr-stackBase : addr-stackBase+uint64(n)], true
}

func (m *stackMemory) ReadAt(p []byte, addr uint64) error {
	b, ok := m.span(addr, len(p))
	if !ok {
		return unix.EFAULT
	}
	copy(p, b)
	return nil
}

func (m *stackMemory) WriteAt(p []byte, addr uint64) error {
	b, ok := m.span(addr, len(p))
	if !ok {
		return unix.EFAULT
	}
	copy(b, p)
	return nil
}

// wellFormedStack is argc, argv, envp and an auxv holding AT_UID and
// AT_SECURE, as the kernel lays them out at exec.
func wellFormedStack() []byte {
	var b []byte
	for _, w := range []uint64{1, 0x7ff000001000, 0, 0x7ff000001010, 0,
		6, 4096, atUID, 0, atSecure, 0, atNull, 0} {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// FuzzFixAuxv: whatever the traced program's stack holds, the rewrite of
// its auxiliary vector neither panics nor writes anything but the value of
// a credential entry, and within auxvLimit of the stack pointer.
func FuzzFixAuxv(f *testing.F) {
	f.Add(wellFormedStack(), uint16(0), false)
	f.Add(wellFormedStack(), uint16(8), true)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f}, uint16(0), false)
	f.Fuzz(func(t *testing.T, stack []byte, off uint16, secure bool) {
		m := &stackMemory{buf: make([]byte, 8192)}
		copy(m.buf, stack)
		before := slices.Clone(m.buf)
		sp := stackBase + uint64(off)%uint64(len(m.buf))&^7
		c := shim.Creds{UID: 1000, EUID: 1001, GID: 1002, EGID: 1003}
		err := FixIn(m, sp, c, secure)
		if err != nil && strings.ContainsAny(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
		for i := 0; i+8 <= len(m.buf); i += 8 {
			if slices.Equal(m.buf[i:i+8], before[i:i+8]) {
				continue
			}
			if i < 8 || uint64(i) < sp-stackBase {
				t.Fatalf("word at sp%+d changed", int64(i)-int64(sp-stackBase))
			}
			switch typ := binary.LittleEndian.Uint64(before[i-8:]); typ {
			case atUID, atEUID, atGID, atEGID, atSecure:
			default:
				t.Fatalf("word at sp%+d changed, after an entry of type %d", int64(i)-int64(sp-stackBase), typ)
			}
		}
	})
}
