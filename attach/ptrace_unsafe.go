package attach

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

func ptraceGetSiginfo(tid int, si *unix.Siginfo) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO, uintptr(tid), 0,
		uintptr(unsafe.Pointer(si)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
