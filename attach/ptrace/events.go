package ptrace

import "golang.org/x/sys/unix"

// SyscallStop is the stop signal of a syscall-entry or -exit stop with
// PTRACE_O_TRACESYSGOOD.
const SyscallStop = unix.SIGTRAP | 0x80

// StopEvent decodes the PTRACE_EVENT_* of a stop (status>>16).
// WaitStatus.TrapCause is -1 unless the stop signal is SIGTRAP, so the
// event is read from the status directly.
func StopEvent(ws unix.WaitStatus) int { return int(ws>>16) & 0xff }

// IsStopSignal reports whether sig stops a process by default: a
// PTRACE_EVENT_STOP with one of these is a group-stop.
func IsStopSignal(sig unix.Signal) bool {
	switch sig {
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return true
	}
	return false
}
