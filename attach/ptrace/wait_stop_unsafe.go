package ptrace

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WaitStop waits for tracee tid's next stop and returns it as wait4
// would. If tid exits instead, gone is true and its exit is left
// unreaped: the tracer's wait loop owns the end of every tracee (it
// records the command's status and forgets the thread), so code that
// waits for one thread's stop in the middle of a job (an injection) never
// takes an exit from it.
func WaitStop(tid int) (ws unix.WaitStatus, gone bool, err error) {
	for {
		// Peek, leaving whatever comes in place.
		var info unix.Siginfo
		if err := waitid(tid, unix.WEXITED|unix.WSTOPPED|unix.WNOWAIT, &info); err != nil {
			return 0, false, err
		}
		switch siginfoCode(&info) {
		case cldExited, cldKilled, cldDumped:
			return 0, true, nil
		}
		// A stop: take it, by a wait that cannot take an exit (SIGKILL
		// may have ended the stop since the peek; then look again).
		info = unix.Siginfo{}
		if err := waitid(tid, unix.WSTOPPED|unix.WNOHANG, &info); err != nil {
			return 0, false, err
		}
		if pid, status := siginfoChild(&info); pid != 0 {
			// wait4's encoding of a stop: the stop's code above 0x7f.
			return unix.WaitStatus(status<<8 | 0x7f), false, nil
		}
	}
}

// waitid's si_code for an exit (<asm-generic/siginfo.h>).
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// waitid is waitid(P_PID, tid, ...) for any child (__WALL), retried on
// EINTR.
func waitid(tid, options int, info *unix.Siginfo) error {
	for {
		err := unix.Waitid(unix.P_PID, tid, info, options|unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("waitid", err)
		}
		return nil
	}
}

// siginfoCode is the si_code of a waitid result.
func siginfoCode(info *unix.Siginfo) int { return int(info.Code) }

// siginfoChild is the si_pid and si_status of a waitid result: pid 0 when
// WNOHANG found nothing. Both follow si_code and a padding word, as
// consecutive ints, after si_uid between them (siginfo_t's _sigchld).
func siginfoChild(info *unix.Siginfo) (pid int, status int) {
	fields := (*[4]int32)(unsafe.Add(unsafe.Pointer(info), 16))
	return int(fields[0]), int(fields[2])
}
