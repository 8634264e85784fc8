//go:build amd64

package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

func ptraceGetRegs(tid int, r *unix.PtraceRegs) error {
	return ptracePtr(unix.PTRACE_GETREGS, tid, unsafe.Pointer(r))
}

func ptraceSetRegs(tid int, r *unix.PtraceRegs) error {
	return ptracePtr(unix.PTRACE_SETREGS, tid, unsafe.Pointer(r))
}
