package ptrace

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Memory reads and writes a tracee's address space with
// process_vm_readv/process_vm_writev, which honour the tracee's page
// protections as the kernel's copy_from_user/copy_to_user do for the
// tracee itself: a PROT_NONE page cannot be read, a read-only one cannot
// be written, and either makes the emulated call fail with EFAULT. (The
// tracer's own code page, which is not writable, is written once with
// WriteCode.)
type Memory struct{ Tid int }

// ReadAt reads len(p) bytes of the tracee at addr (shim.Memory).
func (m Memory) ReadAt(p []byte, addr uint64) error {
	if len(p) == 0 {
		return nil
	}
	n, err := unix.ProcessVMReadv(m.Tid, []unix.Iovec{{Base: &p[0], Len: uint64(len(p))}},
		[]unix.RemoteIovec{{Base: uintptr(addr), Len: len(p)}}, 0)
	return accessError(m.Tid, addr, n, len(p), err)
}

// WriteAt writes p to the tracee at addr (shim.Memory).
func (m Memory) WriteAt(p []byte, addr uint64) error {
	if len(p) == 0 {
		return nil
	}
	n, err := unix.ProcessVMWritev(m.Tid, []unix.Iovec{{Base: &p[0], Len: uint64(len(p))}},
		[]unix.RemoteIovec{{Base: uintptr(addr), Len: len(p)}}, 0)
	return accessError(m.Tid, addr, n, len(p), err)
}

// accessError turns the result of a process_vm_* call for want bytes at
// addr into nil or an error that wraps EFAULT (a fault part of the way is
// one too) or the call's own error (ESRCH: the thread is gone).
func accessError(tid int, addr uint64, n, want int, err error) error {
	switch {
	case err == nil && n == want:
		return nil
	case err == nil || errors.Is(err, unix.EFAULT):
		return fmt.Errorf("tracee %d memory at %#x: %w", tid, addr, unix.EFAULT)
	}
	return fmt.Errorf("tracee %d memory at %#x: %w", tid, addr, err)
}

// WriteScattered writes each piece at its address with one
// process_vm_writev.
func (m Memory) WriteScattered(pieces [][]byte, addrs []uint64) error {
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
	n, err := unix.ProcessVMWritev(m.Tid, local, remote, 0)
	if err != nil {
		return err
	}
	if n != total {
		return fmt.Errorf("tracee %d: partial write: %w", m.Tid, unix.EFAULT)
	}
	return nil
}

// WriteCode writes the tracer's own code into a page it has mapped
// read-and-execute into the tracee (the stub, package stub), through
// /proc/TID/mem, which writes pages the protections forbid. It is never
// used at an address that comes from the tracee.
func WriteCode(tid int, p []byte, addr uint64) error {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", tid), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := f.WriteAt(p, int64(addr))
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("tracee %d code at %#x: %w", tid, addr, err)
	}
	return nil
}
