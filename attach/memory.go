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

// WriteScattered writes each piece at its address with one
// process_vm_writev.
func (m memory) WriteScattered(pieces [][]byte, addrs []uint64) error {
	local := make([]unix.Iovec, 0, len(pieces))
	remote := make([]unix.RemoteIovec, 0, len(pieces))
	total := 0
	for i, p := range pieces {
		if len(p) == 0 {
			continue
		}
		local = append(local, unix.Iovec{Base: &p[0], Len: uint64(len(p))})
		remote = append(remote, unix.RemoteIovec{Base: uintptr(addrs[i]), Len: len(p)})
		total += len(p)
	}
	n, err := unix.ProcessVMWritev(m.tid, local, remote, 0)
	if err != nil {
		return err
	}
	if n != total {
		return fmt.Errorf("tracee %d: partial write: %w", m.tid, unix.EFAULT)
	}
	return nil
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
