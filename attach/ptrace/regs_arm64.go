package ptrace

import (
	"golang.org/x/sys/unix"
)

// arm64 system call conventions: the number in x8 (changed through the
// NT_ARM_SYSTEM_CALL register set), arguments in x0..x5, the result in x0,
// and the four-byte `svc #0` instruction just before pc at a syscall stop.
//
// This port builds and follows the kernel's arm64 ABI but has not run on
// arm64 hardware here. One known gap: arm64 keeps the first argument of an
// interrupted call in orig_x0, which ptrace cannot read, so an injection at
// a thread blocked in a system call (attach) cannot restart that call; it
// returns EINTR to the thread instead.

const (
	// sysRestartSyscall is __NR_restart_syscall.
	sysRestartSyscall = unix.SYS_RESTART_SYSCALL
	// redZone: the AArch64 ABI has none, but leave room all the same.
	RedZone = 128
	// insnAlign is the alignment of instructions.
	InsnAlign = 4
	// ntArmSystemCall is the NT_ARM_SYSTEM_CALL register set.
	ntArmSystemCall = 0x404
	ntPrstatus      = 1
)

// SyscallInsn is `svc #0`.
var SyscallInsn = []byte{0x01, 0x00, 0x00, 0xd4}

// Regs are a stopped thread's general registers and its system call number.
type Regs struct {
	r  unix.PtraceRegsArm64
	nr int64
	// nrChanged says whether setRegs must write the number back.
	nrChanged bool
}

// GetRegs reads the general registers of stopped thread tid.
func GetRegs(tid int) (*Regs, error) {
	var r Regs
	err := Retry("ptrace(PTRACE_GETREGSET)", func() error { return unix.PtraceGetRegSetArm64(tid, ntPrstatus, &r.r) })
	if err != nil {
		return nil, err
	}
	nr, err := getSyscallNr(tid)
	if err != nil {
		return nil, err
	}
	r.nr = nr
	return &r, nil
}

// SetRegs writes them back.
func SetRegs(tid int, r *Regs) error {
	if err := Retry("ptrace(PTRACE_SETREGSET)", func() error { return unix.PtraceSetRegSetArm64(tid, ntPrstatus, &r.r) }); err != nil {
		return err
	}
	if r.nrChanged {
		return setSyscallNrReg(tid, r.nr)
	}
	return nil
}

// SyscallNr is the number of the system call the thread is stopped in.
func (r *Regs) SyscallNr() int64 { return r.nr }

// Args are the system call's six argument registers.
func (r *Regs) Args() [6]uint64 {
	return [6]uint64{r.r.Regs[0], r.r.Regs[1], r.r.Regs[2], r.r.Regs[3], r.r.Regs[4], r.r.Regs[5]}
}

// SetArgs sets the six argument registers.
func (r *Regs) SetArgs(a [6]uint64) { copy(r.r.Regs[:6], a[:]) }

// SetSyscallNr changes the call a thread at a seccomp stop will make;
// -1 skips it, leaving the return value register as the result.
func (r *Regs) SetSyscallNr(nr int64) { r.nr, r.nrChanged = nr, true }

// ReturnValue is the result register.
func (r *Regs) ReturnValue() int64 { return int64(r.r.Regs[0]) }

// SetReturnValue sets the result register.
func (r *Regs) SetReturnValue(v int64) { r.r.Regs[0] = uint64(v) }

// PC is the program counter.
func (r *Regs) PC() uint64 { return r.r.Pc }

// SetPC sets the program counter.
func (r *Regs) SetPC(pc uint64) { r.r.Pc = pc }

// SP is the stack pointer.
func (r *Regs) SP() uint64 { return r.r.Sp }

// PrepareInjection makes the thread execute system call nr with args at
// the instruction at insn.
func (r *Regs) PrepareInjection(insn uint64, nr int64, args [6]uint64) {
	r.r.Pc = insn
	r.r.Regs[8] = uint64(nr)
	r.SetArgs(args)
	r.SetSyscallNr(-1)
}

// restartInterrupted: see the package note above; only restart_syscall
// (whose argument is not needed) can be set up.
func (r *Regs) RestartInterrupted() bool {
	if r.nr < 0 || -int64(r.r.Regs[0]) != ERestartRestartBlock {
		return false
	}
	r.r.Regs[8] = sysRestartSyscall
	r.r.Pc -= uint64(len(SyscallInsn))
	return true
}

// setArg5 sets the sixth argument register.
func (r *Regs) SetArg5(v uint64) { r.r.Regs[5] = v }

// Clone returns a copy of r.
func (r *Regs) Clone() *Regs { c := *r; return &c }

// rerunSyscall makes a thread at a syscall-exit stop execute its system
// call instruction again, as call nr.
func (r *Regs) RerunSyscall(nr int64) {
	r.r.Pc -= uint64(len(SyscallInsn))
	r.r.Regs[8] = uint64(nr)
	r.SetSyscallNr(-1)
}
