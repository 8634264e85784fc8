package attach

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// memory reads and writes a tracee's address space with
// process_vm_readv/process_vm_writev, falling back to /proc/TID/mem (which
// also writes read-only pages) when those fail.
type memory struct{ tid int }

func (m memory) ReadAt(p []byte, addr uint64) error {
	if len(p) == 0 {
		return nil
	}
	n, err := unix.ProcessVMReadv(m.tid, []unix.Iovec{{Base: &p[0], Len: uint64(len(p))}},
		[]unix.RemoteIovec{{Base: uintptr(addr), Len: len(p)}}, 0)
	if err == nil && n == len(p) {
		return nil
	}
	return m.viaProc(p, addr, false)
}

func (m memory) WriteAt(p []byte, addr uint64) error {
	if len(p) == 0 {
		return nil
	}
	n, err := unix.ProcessVMWritev(m.tid, []unix.Iovec{{Base: &p[0], Len: uint64(len(p))}},
		[]unix.RemoteIovec{{Base: uintptr(addr), Len: len(p)}}, 0)
	if err == nil && n == len(p) {
		return nil
	}
	return m.viaProc(p, addr, true)
}

func (m memory) viaProc(p []byte, addr uint64, write bool) error {
	if int64(addr) < 0 {
		return fmt.Errorf("tracee %d address %#x: %w", m.tid, addr, unix.EFAULT)
	}
	flag := os.O_RDONLY
	if write {
		flag = os.O_WRONLY
	}
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", m.tid), flag, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var n int
	if write {
		n, err = f.WriteAt(p, int64(addr))
	} else {
		n, err = f.ReadAt(p, int64(addr))
	}
	if err != nil || n != len(p) {
		return fmt.Errorf("tracee %d memory at %#x: %w", m.tid, addr, unix.EFAULT)
	}
	return nil
}
