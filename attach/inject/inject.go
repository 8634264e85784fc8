package inject

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/shim"
)

// Syscall injection: making a stopped tracee run a system call of the
// tracer's choosing (here, seccomp(2) to install a filter) and then carry on
// exactly where it was.

// ErrTraceeGone means the thread died while the tracer was working on it.
var ErrTraceeGone = errors.New("tracee exited")

// findSyscallInsn returns the address of a system call instruction in the
// thread's vDSO, a mapping every process has. Injection from a stop that is
// not at a system call jumps there.
func findSyscallInsn(tid int) (uint64, error) {
	start, end, err := procfs.VDSORange(tid)
	if err != nil {
		return 0, fmt.Errorf("find a syscall instruction: %w", err)
	}
	buf := make([]byte, end-start)
	if err := (ptrace.Memory{Tid: tid}).ReadAt(buf, start); err != nil {
		return 0, fmt.Errorf("read vdso: %w", err)
	}
	for off := 0; ; {
		i := bytes.Index(buf[off:], ptrace.SyscallInsn)
		if i < 0 {
			return 0, errors.New("no syscall instruction in the vdso")
		}
		// Instructions are aligned on arm64; any offset works on x86.
		if addr := start + uint64(off+i); addr%uint64(ptrace.InsnAlign) == 0 {
			return addr, nil
		}
		off += i + 1
	}
}

// WaitSyscallStop resumes tid to its next syscall stop and waits for it.
// Signals that arrive first are delivered as usual (their handlers run and
// return to the same point); the thread dying ends the injection, its exit
// left for the tracer's wait loop to reap (ptrace.WaitStop).
func WaitSyscallStop(tid int) error {
	if err := ptrace.ResumeToSyscall(tid); err != nil {
		return err
	}
	for {
		ws, gone, err := ptrace.WaitStop(tid)
		if err != nil {
			return err
		}
		switch {
		case gone:
			return ErrTraceeGone
		case !ws.Stopped():
			continue
		case ws.StopSignal() == ptrace.SyscallStop:
			return nil
		case ptrace.StopEvent(ws) == 0 && ws.StopSignal() != unix.SIGTRAP:
			// A signal-delivery-stop: deliver it and go on.
			if err := ptrace.Retry("ptrace(PTRACE_SYSCALL)", func() error {
				return unix.PtraceSyscall(tid, int(ws.StopSignal()))
			}); err != nil {
				return err
			}
		default:
			if err := ptrace.ResumeToSyscall(tid); err != nil {
				return err
			}
		}
	}
}

// filterArgs lays out a struct sock_fprog and its instructions just below
// the thread's stack pointer (past the red zone) and returns the address of
// the sock_fprog and the bytes to write there.
func filterArgs(sp uint64, prog []byte) (addr uint64, data []byte) {
	size := uint64(16 + len(prog))
	addr = (sp - ptrace.RedZone - size) &^ 15
	data = make([]byte, size)
	binary.LittleEndian.PutUint16(data[0:], uint16(len(prog)/8))
	binary.LittleEndian.PutUint64(data[8:], addr+16)
	copy(data[16:], prog)
	return addr, data
}

// Filter makes tid, stopped at a PTRACE_EVENT_STOP or another stop
// outside a system call, call seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)
// and restores its registers. It returns seccomp's result (0, a listener
// descriptor with NEW_LISTENER, a thread id for a failed TSYNC, or -errno).
func Filter(tid int, prog []byte, flags uint64) (int64, error) {
	saved, err := ptrace.GetRegs(tid)
	if err != nil {
		return 0, err
	}
	addr, data := filterArgs(saved.SP(), prog)
	return Syscall(tid, saved, unix.SYS_SECCOMP,
		[6]uint64{unix.SECCOMP_SET_MODE_FILTER, flags, addr, shim.InjectMarker}, data, addr)
}

// Close closes descriptor fd in tid, at the same kind of stop.
func Close(tid, fd int) (int64, error) {
	saved, err := ptrace.GetRegs(tid)
	if err != nil {
		return 0, err
	}
	return Syscall(tid, saved, unix.SYS_CLOSE, [6]uint64{uint64(fd)}, nil, 0)
}

// Syscall runs nr(args) in tid, whose registers are saved, writing
// data at addr first, and restores the registers. A blocking call that the
// stop interrupted is set up to restart, as the kernel's signal code would
// have done.
func Syscall(tid int, saved *ptrace.Regs, nr int64, args [6]uint64, data []byte, addr uint64) (int64, error) {
	insn, err := findSyscallInsn(tid)
	if err != nil {
		return 0, err
	}
	r := saved.Clone()
	r.PrepareInjection(insn, nr, args)
	if err := ptrace.SetRegs(tid, r); err != nil {
		return 0, err
	}
	if err := WaitSyscallStop(tid); err != nil { // entry
		return 0, err
	}
	// Written only now: no user code runs between entry and exit, so no
	// signal frame can overwrite it.
	if len(data) > 0 {
		if err := (ptrace.Memory{Tid: tid}).WriteAt(data, addr); err != nil {
			return 0, fmt.Errorf("write to tracee stack: %w", err)
		}
	}
	if err := WaitSyscallStop(tid); err != nil { // exit
		return 0, err
	}
	done, err := ptrace.GetRegs(tid)
	if err != nil {
		return 0, err
	}
	restore := saved.Clone()
	restore.RestartInterrupted()
	if err := ptrace.SetRegs(tid, restore); err != nil {
		return 0, err
	}
	return done.ReturnValue(), nil
}

// ReplaceWithFilter turns the system call tid is stopped at (a seccomp stop)
// into seccomp(SECCOMP_SET_MODE_FILTER, 0, prog), runs it to its exit, and
// then makes the original call return result instead. It returns seccomp's
// own result. The thread is left at the syscall-exit stop, to be resumed.
func ReplaceWithFilter(tid int, saved *ptrace.Regs, prog []byte, result int64) (int64, error) {
	addr, data := filterArgs(saved.SP(), prog)
	if err := (ptrace.Memory{Tid: tid}).WriteAt(data, addr); err != nil {
		return 0, fmt.Errorf("write filter to tracee stack: %w", err)
	}
	r := saved.Clone()
	r.SetSyscallNr(unix.SYS_SECCOMP)
	r.SetArgs([6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, addr, shim.InjectMarker})
	if err := ptrace.SetRegs(tid, r); err != nil {
		return 0, err
	}
	if err := WaitSyscallStop(tid); err != nil { // exit of seccomp()
		return 0, err
	}
	done, err := ptrace.GetRegs(tid)
	if err != nil {
		return 0, err
	}
	// Every register but the result is the caller's: the injected call's
	// arguments must not leak into it (the kernel preserves them, and
	// inline syscall code relies on that).
	final := saved.Clone()
	final.SetReturnValue(result)
	if err := ptrace.SetRegs(tid, final); err != nil {
		return 0, err
	}
	return done.ReturnValue(), nil
}
