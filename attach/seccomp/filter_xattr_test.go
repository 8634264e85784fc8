package seccomp

import (
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

var setxattrCalls = []uint32{unix.SYS_SETXATTR, unix.SYS_LSETXATTR, unix.SYS_FSETXATTR, unix.SYS_SETXATTRAT}

// setxattr stops in every mode (an ACL naming an unmapped id is emulated in
// mode creds too), always as a ptrace stop: its emulation runs steps. The
// getter filter, which a thread may get later as a filter of its own, has
// no exception for the stub's page and must not trace it.
func TestFilterSetxattrStopsInEveryMode(t *testing.T) {
	args := [6]uint64{0x1000, 0x2000, 0x3000, 28, 0}
	for _, f := range []Filter{SetterFilter, FullFilter, SetterFilter.WithNotify(), FullFilter.WithNotify(),
		SetterFilter.WithFiles(), FullFilter.WithFiles().WithNotify()} {
		for _, nr := range setxattrCalls {
			if got := runFilterData(t, f, seccompDataArgs(AuditArch, nr, args)); got != trace {
				t.Errorf("setxattr call %d with %+v: got %#x, want TRACE", nr, f, got)
			}
		}
	}
	for _, nr := range setxattrCalls {
		if got := runFilterData(t, GetterFilter, seccompDataArgs(AuditArch, nr, args)); got != allow {
			t.Errorf("setxattr call %d with the getter filter: got %#x, want ALLOW", nr, got)
		}
	}
	// Mode creds leaves the other xattr calls alone.
	for _, nr := range []uint32{unix.SYS_GETXATTR, unix.SYS_LGETXATTR, unix.SYS_FGETXATTR, unix.SYS_LISTXATTR,
		unix.SYS_REMOVEXATTR, unix.SYS_GETXATTRAT} {
		for _, f := range []Filter{SetterFilter, FullFilter, FullFilter.WithNotify()} {
			if got := runFilterData(t, f, seccompDataArgs(AuditArch, nr, args)); got != allow {
				t.Errorf("xattr call %d with %+v: got %#x, want ALLOW", nr, f, got)
			}
		}
	}
	for _, nr := range setxattrCalls {
		s, ok := shim.Lookup(uintptr(nr))
		if !ok || !s.NeedsStop() || s.Class != shim.Setter {
			t.Errorf("setxattr call %d: %+v, want a Setter that needs a stop", nr, s)
		}
	}
}

// constAllow reports whether the kernel's seccomp action cache
// (seccomp_is_const_allow, kernel/seccomp.c) finds that prog allows call nr
// whatever its arguments and instruction pointer: the filter then never
// runs for nr. It follows the program as the kernel's check does, giving
// up on a load of anything but the number or the architecture.
func constAllow(t *testing.T, prog []bpf.RawInstruction, nr uint32) bool {
	t.Helper()
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatal("program does not disassemble")
	}
	var a uint32
	for pc := 0; pc < len(insns); pc++ {
		switch in := insns[pc].(type) {
		case bpf.LoadAbsolute:
			switch in.Off {
			case seccompNr:
				a = nr
			case seccompArch:
				a = AuditArch
			default:
				return false
			}
		case bpf.RetConstant:
			return in.Val == unix.SECCOMP_RET_ALLOW
		case bpf.Jump:
			pc += int(in.Skip)
		case bpf.JumpIf:
			var taken bool
			switch in.Cond {
			case bpf.JumpEqual:
				taken = a == in.Val
			case bpf.JumpNotEqual:
				taken = a != in.Val
			case bpf.JumpGreaterOrEqual:
				taken = a >= in.Val
			case bpf.JumpGreaterThan:
				taken = a > in.Val
			case bpf.JumpBitsSet:
				taken = a&in.Val != 0
			default:
				return false
			}
			if taken {
				pc += int(in.SkipTrue)
			} else {
				pc += int(in.SkipFalse)
			}
		default:
			return false
		}
	}
	return false
}

// Tracing setxattr adds instructions to the filter, but in mode creds the
// calls it does not select are still allowed from their number alone, so
// the kernel's action cache skips the filter for them: common calls pay
// nothing.
func TestFilterCommonCallsStayCached(t *testing.T) {
	common := []uint32{unix.SYS_READ, unix.SYS_WRITE, unix.SYS_OPENAT, unix.SYS_CLOSE, unix.SYS_MMAP,
		unix.SYS_FUTEX, unix.SYS_GETXATTR, unix.SYS_LISTXATTR, unix.SYS_STATX, unix.SYS_EXECVE}
	for _, f := range []Filter{SetterFilter, FullFilter, SetterFilter.WithNotify(), FullFilter.WithNotify()} {
		prog, err := f.Program()
		if err != nil {
			t.Fatal(err)
		}
		for _, nr := range common {
			if !constAllow(t, prog, nr) {
				t.Errorf("call %d with %+v: the filter runs for it (not a constant ALLOW)", nr, f)
			}
		}
		for _, nr := range setxattrCalls {
			if constAllow(t, prog, nr) {
				t.Errorf("setxattr call %d with %+v: a constant ALLOW", nr, f)
			}
		}
	}
	// The check can tell: mode full's stub exception reads the instruction
	// pointer of every call first.
	if len(stub.Code) > 0 {
		prog, err := SetterFilter.WithFiles().Program()
		if err != nil {
			t.Fatal(err)
		}
		if constAllow(t, prog, unix.SYS_READ) {
			t.Error("read in mode full: a constant ALLOW, but the filter loads the instruction pointer")
		}
	}
}
