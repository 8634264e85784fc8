package fallback

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// slotMemory is the memory the tracer and the fallback answerer share: per
// listener, the id of the last notification received and whether there is
// one (two 64-bit words).
type slotMemory struct {
	fd  int
	mem []byte
}

func newSlotMemory(slots int) (slotMemory, error) {
	fd, err := unix.MemfdCreate("remainroot-fallback", unix.MFD_CLOEXEC)
	if err != nil {
		return slotMemory{}, os.NewSyscallError("memfd_create", err)
	}
	if err := unix.Ftruncate(fd, int64(slots*16)); err != nil {
		unix.Close(fd)
		return slotMemory{}, os.NewSyscallError("ftruncate", err)
	}
	m, err := openSlotMemory(fd, slots)
	if err != nil {
		unix.Close(fd)
	}
	return m, err
}

func openSlotMemory(fd, slots int) (slotMemory, error) {
	mem, err := unix.Mmap(fd, 0, slots*16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return slotMemory{}, fmt.Errorf("map the fallback slots: %w", os.NewSyscallError("mmap", err))
	}
	return slotMemory{fd: fd, mem: mem}, nil
}

func (m slotMemory) words(i uint32) (id, set *uint64) {
	p := unsafe.Pointer(&m.mem[int(i)*16])
	return (*uint64)(p), (*uint64)(unsafe.Add(p, 8))
}

// store records id in slot i.
func (m slotMemory) store(i uint32, id uint64) {
	w, set := m.words(i)
	atomic.StoreUint64(w, id)
	atomic.StoreUint64(set, 1)
}

// clear empties slot i.
func (m slotMemory) clear(i uint32) {
	w, set := m.words(i)
	atomic.StoreUint64(set, 0)
	atomic.StoreUint64(w, 0)
}

// load returns slot i's id, if any.
func (m slotMemory) load(i uint32) (uint64, bool) {
	if int(i)*16+16 > len(m.mem) {
		return 0, false
	}
	w, set := m.words(i)
	if atomic.LoadUint64(set) == 0 {
		return 0, false
	}
	return atomic.LoadUint64(w), true
}

func (m slotMemory) close() {
	if m.mem != nil {
		unix.Munmap(m.mem)
	}
	unix.Close(m.fd)
}
