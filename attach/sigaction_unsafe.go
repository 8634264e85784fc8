package attach

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

// saNoCldStop is SA_NOCLDSTOP.
const saNoCldStop = 1

// quietStopNotifications adds SA_NOCLDSTOP to the tracer's SIGCHLD action
// (the Go runtime's handler stays): the kernel then sends no SIGCHLD for
// each ptrace stop of a tracee, only for exits. wait4 is woken all the
// same; without this, every stop also interrupts one of the tracer's
// threads with a signal the runtime only discards.
func quietStopNotifications() error {
	var act kernelSigaction
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0,
		uintptr(unsafe.Pointer(&act)), 8, 0, 0); e != 0 {
		return e
	}
	act.flags |= saNoCldStop
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD),
		uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
		return e
	}
	return nil
}

// StopWithDefaultAction stops the calling thread's process with sig as if
// sig had its default action, and restores the previous action once the
// process is continued. Go's runtime keeps its own handler for SIGTSTP,
// SIGTTIN and SIGTTOU even after signal.Reset, and ignores them there, so
// the default action is set directly. The signal goes to this thread
// (tgkill), which therefore stops before tgkill returns. The caller must be
// locked to its OS thread.
func StopWithDefaultAction(sig unix.Signal) error {
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
