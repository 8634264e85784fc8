package ptrace

import (
	"os"

	"golang.org/x/sys/unix"
)

// Thin wrappers around the ptrace requests the tracer uses. Each retries on
// EINTR and returns an *os.SyscallError naming the request.

// seizeOptions are set atomically by PTRACE_SEIZE, so they are in force
// before the tracee can fork. EXITKILL: if the tracer dies, its tracees die
// too rather than run on with system calls that fail with ENOSYS.
const seizeOptions = unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACESECCOMP | unix.PTRACE_O_TRACESYSGOOD |
	unix.PTRACE_O_EXITKILL

// Retry calls f until it fails with other than EINTR, and names request
// name in its error.
func Retry(name string, f func() error) error {
	for {
		err := f()
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError(name, err)
		}
		return nil
	}
}

// Raw makes a ptrace request that does not block: as a raw system
// call, without telling the Go scheduler (it returns at once; the tracer
// makes several for every stop).
func Raw(req, tid int, addr, data uintptr) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Seize attaches to tid with the tracer's options without stopping it.
func Seize(tid int) error {
	return Retry("ptrace(PTRACE_SEIZE)", func() error {
		return Raw(unix.PTRACE_SEIZE, tid, 0, seizeOptions)
	})
}

// Interrupt asks a seized tid to stop with PTRACE_EVENT_STOP.
func Interrupt(tid int) error {
	return Retry("ptrace(PTRACE_INTERRUPT)", func() error { return Raw(unix.PTRACE_INTERRUPT, tid, 0, 0) })
}

// Resume restarts tid, delivering sig (0 for none).
func Resume(tid, sig int) error {
	return Retry("ptrace(PTRACE_CONT)", func() error { return Raw(unix.PTRACE_CONT, tid, 0, uintptr(sig)) })
}

// ResumeToSyscall restarts tid until its next syscall entry or exit stop.
func ResumeToSyscall(tid int) error {
	return Retry("ptrace(PTRACE_SYSCALL)", func() error { return Raw(unix.PTRACE_SYSCALL, tid, 0, 0) })
}

// Listen lets a tracee in group-stop stay stopped while the tracer waits
// for other events: ctrl-z and SIGCONT then behave as without a tracer.
func Listen(tid int) error {
	return Retry("ptrace(PTRACE_LISTEN)", func() error { return Raw(unix.PTRACE_LISTEN, tid, 0, 0) })
}

// EventMsg returns PTRACE_GETEVENTMSG: the new tid after a clone event, the
// former tid after an exec event.
func EventMsg(tid int) (uint, error) {
	var msg uint
	err := Retry("ptrace(PTRACE_GETEVENTMSG)", func() error {
		return ptraceGetEventMsg(tid, &msg)
	})
	return msg, err
}

// GetSiginfo returns the signal number and si_code of a signal-delivery-stop.
func GetSiginfo(tid int) (*unix.Siginfo, error) {
	var si unix.Siginfo
	err := Retry("ptrace(PTRACE_GETSIGINFO)", func() error { return ptraceGetSiginfo(tid, &si) })
	return &si, err
}

// Wait4 waits for any tracee (pid -1) or one tid, with __WALL so threads
// are reported too.
func Wait4(pid int) (int, unix.WaitStatus, error) { return Wait4Flags(pid, 0) }

// Wait4Flags is wait4 with more flags (__WNOTHREAD).
func Wait4Flags(pid, flags int) (int, unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		wpid, err := unix.Wait4(pid, &ws, unix.WALL|flags, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, 0, os.NewSyscallError("wait4", err)
		}
		return wpid, ws, nil
	}
}
