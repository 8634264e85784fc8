//go:build arm64

package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

func getSyscallNr(tid int) (int64, error) {
	var nr int32
	iov := unix.Iovec{Base: (*byte)(unsafe.Pointer(&nr)), Len: 4}
	err := Retry("ptrace(PTRACE_GETREGSET, NT_ARM_SYSTEM_CALL)", func() error {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET, uintptr(tid), ntArmSystemCall,
			uintptr(unsafe.Pointer(&iov)), 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
	return int64(nr), err
}

func setSyscallNrReg(tid int, nr int64) error {
	v := int32(nr)
	iov := unix.Iovec{Base: (*byte)(unsafe.Pointer(&v)), Len: 4}
	return Retry("ptrace(PTRACE_SETREGSET, NT_ARM_SYSTEM_CALL)", func() error {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SETREGSET, uintptr(tid), ntArmSystemCall,
			uintptr(unsafe.Pointer(&iov)), 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
}
