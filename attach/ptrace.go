package attach

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

func retry(name string, f func() error) error {
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

// ptraceRaw makes a ptrace request that does not block: as a raw system
// call, without telling the Go scheduler (it returns at once; the tracer
// makes several for every stop).
func ptraceRaw(req, tid int, addr, data uintptr) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// seize attaches to tid with the tracer's options without stopping it.
func seize(tid int) error {
	return retry("ptrace(PTRACE_SEIZE)", func() error {
		return ptraceRaw(unix.PTRACE_SEIZE, tid, 0, seizeOptions)
	})
}

// interrupt asks a seized tid to stop with PTRACE_EVENT_STOP.
func interrupt(tid int) error {
	return retry("ptrace(PTRACE_INTERRUPT)", func() error { return ptraceRaw(unix.PTRACE_INTERRUPT, tid, 0, 0) })
}

// resume restarts tid, delivering sig (0 for none).
func resume(tid, sig int) error {
	return retry("ptrace(PTRACE_CONT)", func() error { return ptraceRaw(unix.PTRACE_CONT, tid, 0, uintptr(sig)) })
}

// resumeToSyscall restarts tid until its next syscall entry or exit stop.
func resumeToSyscall(tid int) error {
	return retry("ptrace(PTRACE_SYSCALL)", func() error { return ptraceRaw(unix.PTRACE_SYSCALL, tid, 0, 0) })
}

// listen lets a tracee in group-stop stay stopped while the tracer waits
// for other events: ctrl-z and SIGCONT then behave as without a tracer.
func listen(tid int) error {
	return retry("ptrace(PTRACE_LISTEN)", func() error { return ptraceRaw(unix.PTRACE_LISTEN, tid, 0, 0) })
}

// eventMsg returns PTRACE_GETEVENTMSG: the new tid after a clone event, the
// former tid after an exec event.
func eventMsg(tid int) (uint, error) {
	var msg uint
	err := retry("ptrace(PTRACE_GETEVENTMSG)", func() error {
		return ptraceGetEventMsg(tid, &msg)
	})
	return msg, err
}

// getSiginfo returns the signal number and si_code of a signal-delivery-stop.
func getSiginfo(tid int) (*unix.Siginfo, error) {
	var si unix.Siginfo
	err := retry("ptrace(PTRACE_GETSIGINFO)", func() error { return ptraceGetSiginfo(tid, &si) })
	return &si, err
}

// wait4 waits for any tracee (pid -1) or one tid, with __WALL so threads
// are reported too.
func wait4(pid int) (int, unix.WaitStatus, error) { return wait4Flags(pid, 0) }

// wait4Flags is wait4 with more flags (__WNOTHREAD).
func wait4Flags(pid, flags int) (int, unix.WaitStatus, error) {
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
