package attach

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
	auditArch = unix.AUDIT_ARCH_AARCH64
	// x32SyscallBit: arm64 has no x32-like ABI to reject.
	x32SyscallBit = 0
	// sysRestartSyscall is __NR_restart_syscall.
	sysRestartSyscall = unix.SYS_RESTART_SYSCALL
	// redZone: the AArch64 ABI has none, but leave room all the same.
	redZone = 128
	// insnAlign is the alignment of instructions.
	insnAlign = 4
	// ntArmSystemCall is the NT_ARM_SYSTEM_CALL register set.
	ntArmSystemCall = 0x404
	ntPrstatus      = 1
)

// syscallInsn is `svc #0`.
var syscallInsn = []byte{0x01, 0x00, 0x00, 0xd4}

// regs are a stopped thread's general registers and its system call number.
type regs struct {
	r  unix.PtraceRegsArm64
	nr int64
	// nrChanged says whether setRegs must write the number back.
	nrChanged bool
}

func getRegs(tid int) (*regs, error) {
	var r regs
	err := retry("ptrace(PTRACE_GETREGSET)", func() error { return unix.PtraceGetRegSetArm64(tid, ntPrstatus, &r.r) })
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

func setRegs(tid int, r *regs) error {
	if err := retry("ptrace(PTRACE_SETREGSET)", func() error { return unix.PtraceSetRegSetArm64(tid, ntPrstatus, &r.r) }); err != nil {
		return err
	}
	if r.nrChanged {
		return setSyscallNrReg(tid, r.nr)
	}
	return nil
}

func (r *regs) syscallNr() int64 { return r.nr }

func (r *regs) args() [6]uint64 {
	return [6]uint64{r.r.Regs[0], r.r.Regs[1], r.r.Regs[2], r.r.Regs[3], r.r.Regs[4], r.r.Regs[5]}
}

func (r *regs) setArgs(a [6]uint64) { copy(r.r.Regs[:6], a[:]) }

func (r *regs) setSyscallNr(nr int64) { r.nr, r.nrChanged = nr, true }

func (r *regs) returnValue() int64 { return int64(r.r.Regs[0]) }

func (r *regs) setReturnValue(v int64) { r.r.Regs[0] = uint64(v) }

func (r *regs) pc() uint64 { return r.r.Pc }

func (r *regs) setPC(pc uint64) { r.r.Pc = pc }

func (r *regs) sp() uint64 { return r.r.Sp }

func (r *regs) prepareInjection(insn uint64, nr int64, args [6]uint64) {
	r.r.Pc = insn
	r.r.Regs[8] = uint64(nr)
	r.setArgs(args)
	r.setSyscallNr(-1)
}

// restartInterrupted: see the package note above; only restart_syscall
// (whose argument is not needed) can be set up.
func (r *regs) restartInterrupted() bool {
	if r.nr < 0 || -int64(r.r.Regs[0]) != errRestartRestartBlock {
		return false
	}
	r.r.Regs[8] = sysRestartSyscall
	r.r.Pc -= uint64(len(syscallInsn))
	return true
}

// setArg5 sets the sixth argument register.
func (r *regs) setArg5(v uint64) { r.r.Regs[5] = v }

func (r *regs) clone() *regs { c := *r; return &c }

// rerunSyscall makes a thread at a syscall-exit stop execute its system
// call instruction again, as call nr.
func (r *regs) rerunSyscall(nr int64) {
	r.r.Pc -= uint64(len(syscallInsn))
	r.r.Regs[8] = uint64(nr)
	r.setSyscallNr(-1)
}
