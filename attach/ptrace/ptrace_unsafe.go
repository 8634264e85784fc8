package ptrace

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

// GetSigmask and setSigmask read and write a stopped thread's blocked
// signals (PTRACE_GETSIGMASK, PTRACE_SETSIGMASK).
func GetSigmask(tid int) (uint64, error) {
	var mask uint64
	err := Retry("ptrace(PTRACE_GETSIGMASK)", func() error {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGMASK, uintptr(tid), 8,
			uintptr(unsafe.Pointer(&mask)), 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
	return mask, err
}

// SetSigmask is the write half of GetSigmask.
func SetSigmask(tid int, mask uint64) error {
	return Retry("ptrace(PTRACE_SETSIGMASK)", func() error {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SETSIGMASK, uintptr(tid), 8,
			uintptr(unsafe.Pointer(&mask)), 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
}

// ptracePtr is Raw with a pointer for data (GETREGS, SETREGS,
// GETEVENTMSG), converted in the call as unsafe.Pointer rules require.
func ptracePtr(req, tid int, data unsafe.Pointer) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), 0, uintptr(data), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func ptraceGetEventMsg(tid int, msg *uint) error {
	return ptracePtr(unix.PTRACE_GETEVENTMSG, tid, unsafe.Pointer(msg))
}

// SiginfoPid returns si_pid of a signal sent by kill, tkill or sigqueue
// (offset 16 of struct siginfo on 64-bit machines).
func SiginfoPid(si *unix.Siginfo) int32 {
	return *(*int32)(unsafe.Add(unsafe.Pointer(si), 16))
}
