package ptrace

import (
	"golang.org/x/sys/unix"
)

// x86-64 system call conventions: the number in orig_rax (rax at entry),
// arguments in rdi, rsi, rdx, r10, r8, r9, the result in rax, and the
// two-byte `syscall` instruction (0f 05) just before rip at a syscall stop.

const (
	// sysRestartSyscall is __NR_restart_syscall.
	sysRestartSyscall = unix.SYS_RESTART_SYSCALL
	// RedZone is the area below the stack pointer a leaf function may use.
	RedZone = 128
	// InsnAlign is the alignment of instructions.
	InsnAlign = 1
)

// SyscallInsn is the machine code of the system call instruction.
var SyscallInsn = []byte{0x0f, 0x05}

// Regs are a stopped thread's general registers.
type Regs struct{ r unix.PtraceRegs }

// GetRegs reads the general registers of stopped thread tid.
func GetRegs(tid int) (*Regs, error) {
	var r Regs
	err := Retry("ptrace(PTRACE_GETREGS)", func() error { return ptraceGetRegs(tid, &r.r) })
	return &r, err
}

// SetRegs writes them back.
func SetRegs(tid int, r *Regs) error {
	return Retry("ptrace(PTRACE_SETREGS)", func() error { return ptraceSetRegs(tid, &r.r) })
}

// SyscallNr is the number of the system call the thread is stopped in.
func (r *Regs) SyscallNr() int64 { return int64(r.r.Orig_rax) }

// Args are the system call's six argument registers.
func (r *Regs) Args() [6]uint64 {
	return [6]uint64{r.r.Rdi, r.r.Rsi, r.r.Rdx, r.r.R10, r.r.R8, r.r.R9}
}

// SetArgs sets the six argument registers.
func (r *Regs) SetArgs(a [6]uint64) {
	r.r.Rdi, r.r.Rsi, r.r.Rdx, r.r.R10, r.r.R8, r.r.R9 = a[0], a[1], a[2], a[3], a[4], a[5]
}

// SetSyscallNr changes the call a thread at a seccomp stop will make;
// -1 skips it, leaving the return value register as the result.
func (r *Regs) SetSyscallNr(nr int64) { r.r.Orig_rax = uint64(nr) }

// ReturnValue is the result register.
func (r *Regs) ReturnValue() int64 { return int64(r.r.Rax) }

// SetReturnValue sets the result register.
func (r *Regs) SetReturnValue(v int64) { r.r.Rax = uint64(v) }

// PC is the program counter.
func (r *Regs) PC() uint64 { return r.r.Rip }

// SetPC sets the program counter.
func (r *Regs) SetPC(pc uint64) { r.r.Rip = pc }

// SP is the stack pointer.
func (r *Regs) SP() uint64 { return r.r.Rsp }

// PrepareInjection makes the thread execute system call nr with args at the
// instruction at insn, as if it had just been about to do so: the return
// register holds the number, orig_rax is -1 so that no syscall-restart
// logic applies on resume.
func (r *Regs) PrepareInjection(insn uint64, nr int64, args [6]uint64) {
	r.r.Rip = insn
	r.r.Rax = uint64(nr)
	r.r.Orig_rax = ^uint64(0)
	r.SetArgs(args)
}

// RestartInterrupted adjusts saved registers of a thread that was stopped
// inside an interrupted blocking system call (return register -ERESTART*),
// the way the kernel's signal code would when no handler runs: back up over
// the syscall instruction and reload the number, so the call restarts
// instead of returning an internal error code to user space.
func (r *Regs) RestartInterrupted() bool {
	if int64(r.r.Orig_rax) < 0 {
		return false
	}
	switch -int64(r.r.Rax) {
	case ERestartSys, ERestartNoIntr, ERestartNoHand:
		r.r.Rax = r.r.Orig_rax
	case ERestartRestartBlock:
		r.r.Rax = sysRestartSyscall
	default:
		return false
	}
	r.r.Rip -= uint64(len(SyscallInsn))
	return true
}

// SetArg5 sets the sixth argument register.
func (r *Regs) SetArg5(v uint64) { r.r.R9 = v }

// Clone returns a copy of r.
func (r *Regs) Clone() *Regs { c := *r; return &c }

// RerunSyscall makes a thread at a syscall-exit stop execute its system
// call instruction again, as call nr.
func (r *Regs) RerunSyscall(nr int64) {
	r.r.Rip -= uint64(len(SyscallInsn))
	r.r.Rax = uint64(nr)
	r.r.Orig_rax = ^uint64(0)
}

// Raw returns the general registers as the kernel lays them out, for the
// code that knows a register by name (the stub's frame).
func (r *Regs) Raw() *unix.PtraceRegs { return &r.r }
