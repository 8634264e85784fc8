package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelSigaction is the kernel's struct sigaction (with sa_restorer, as on
// x86-64 and arm64).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// stopWithDefaultAction stops the calling thread's process with sig as if
// sig had its default action, then restores the previous action once the
// process is continued. Go's runtime keeps its own handler for SIGTSTP,
// SIGTTIN and SIGTTOU even after signal.Reset, and ignores them there, so
// the default action is set directly. The signal is sent to this thread
// (tgkill), which therefore stops before tgkill returns. The caller must be
// locked to its OS thread.
func stopWithDefaultAction(sig unix.Signal) error {
	if sig == unix.SIGSTOP {
		return unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	}
	var old kernelSigaction
	dfl := kernelSigaction{} // SIG_DFL
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)),
		uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
		return e
	}
	err := unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	return err
}
