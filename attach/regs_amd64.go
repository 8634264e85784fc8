package attach

import (
	"golang.org/x/sys/unix"
)

// x86-64 system call conventions: the number in orig_rax (rax at entry),
// arguments in rdi, rsi, rdx, r10, r8, r9, the result in rax, and the
// two-byte `syscall` instruction (0f 05) just before rip at a syscall stop.

const (
	auditArch     = unix.AUDIT_ARCH_X86_64
	x32SyscallBit = 0x40000000
	// sysRestartSyscall is __NR_restart_syscall.
	sysRestartSyscall = unix.SYS_RESTART_SYSCALL
	// redZone is the area below the stack pointer a leaf function may use.
	redZone = 128
	// insnAlign is the alignment of instructions.
	insnAlign = 1
)

// syscallInsn is the machine code of the system call instruction.
var syscallInsn = []byte{0x0f, 0x05}

// regs are a stopped thread's general registers.
type regs struct{ r unix.PtraceRegs }

func getRegs(tid int) (*regs, error) {
	var r regs
	err := retry("ptrace(PTRACE_GETREGS)", func() error { return ptraceGetRegs(tid, &r.r) })
	return &r, err
}

func setRegs(tid int, r *regs) error {
	return retry("ptrace(PTRACE_SETREGS)", func() error { return ptraceSetRegs(tid, &r.r) })
}

func (r *regs) syscallNr() int64 { return int64(r.r.Orig_rax) }

func (r *regs) args() [6]uint64 {
	return [6]uint64{r.r.Rdi, r.r.Rsi, r.r.Rdx, r.r.R10, r.r.R8, r.r.R9}
}

func (r *regs) setArgs(a [6]uint64) {
	r.r.Rdi, r.r.Rsi, r.r.Rdx, r.r.R10, r.r.R8, r.r.R9 = a[0], a[1], a[2], a[3], a[4], a[5]
}

// setSyscallNr changes the call a thread at a seccomp stop will make;
// -1 skips it, leaving the return value register as the result.
func (r *regs) setSyscallNr(nr int64) { r.r.Orig_rax = uint64(nr) }

func (r *regs) returnValue() int64 { return int64(r.r.Rax) }

func (r *regs) setReturnValue(v int64) { r.r.Rax = uint64(v) }

func (r *regs) pc() uint64 { return r.r.Rip }

func (r *regs) setPC(pc uint64) { r.r.Rip = pc }

func (r *regs) sp() uint64 { return r.r.Rsp }

// prepareInjection makes the thread execute system call nr with args at the
// instruction at insn, as if it had just been about to do so: the return
// register holds the number, orig_rax is -1 so that no syscall-restart
// logic applies on resume.
func (r *regs) prepareInjection(insn uint64, nr int64, args [6]uint64) {
	r.r.Rip = insn
	r.r.Rax = uint64(nr)
	r.r.Orig_rax = ^uint64(0)
	r.setArgs(args)
}

// restartInterrupted adjusts saved registers of a thread that was stopped
// inside an interrupted blocking system call (return register -ERESTART*),
// the way the kernel's signal code would when no handler runs: back up over
// the syscall instruction and reload the number, so the call restarts
// instead of returning an internal error code to user space.
func (r *regs) restartInterrupted() bool {
	if int64(r.r.Orig_rax) < 0 {
		return false
	}
	switch -int64(r.r.Rax) {
	case errRestartSys, errRestartNoIntr, errRestartNoHand:
		r.r.Rax = r.r.Orig_rax
	case errRestartRestartBlock:
		r.r.Rax = sysRestartSyscall
	default:
		return false
	}
	r.r.Rip -= uint64(len(syscallInsn))
	return true
}

// setArg5 sets the sixth argument register.
func (r *regs) setArg5(v uint64) { r.r.R9 = v }

func (r *regs) clone() *regs { c := *r; return &c }

// rerunSyscall makes a thread at a syscall-exit stop execute its system
// call instruction again, as call nr.
func (r *regs) rerunSyscall(nr int64) {
	r.r.Rip -= uint64(len(syscallInsn))
	r.r.Rax = uint64(nr)
	r.r.Orig_rax = ^uint64(0)
}
