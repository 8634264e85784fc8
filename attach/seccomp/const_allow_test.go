package seccomp

import (
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// constAllow is the kernel's seccomp_is_const_allow (kernel/seccomp.c,
// since 5.11): when a filter is loaded, the kernel runs it for each call
// number of the native and compat architectures knowing only nr and arch,
// and caches as allowed the numbers whose run reaches SECCOMP_RET_ALLOW;
// the filter never runs for those again. It follows the classic BPF
// program as written, and gives up (false) on a load of any other field
// (the instruction pointer, an argument), on any instruction but a
// constant return, ja, jeq/jge/jgt/jset with a constant and and with a
// constant, and on running off the end. The kernel's exception for the
// uprobe calls, allowed whatever the filters, is left out: it adds
// numbers, and a test of what the program does must not count them.
func constAllow(prog []bpf.RawInstruction, arch, nr uint32) bool {
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Op {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case seccompNr:
				a = nr
			case seccompArch:
				a = arch
			default:
				return false
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K == unix.SECCOMP_RET_ALLOW
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var taken bool
			switch in.Op &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				taken = a == in.K
			case unix.BPF_JGE:
				taken = a >= in.K
			case unix.BPF_JGT:
				taken = a > in.K
			case unix.BPF_JSET:
				taken = a&in.K != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		default:
			return false
		}
	}
	return false
}

// The analysis itself, on small programs: it must be able to say no.
func TestConstAllowFollowsTheKernel(t *testing.T) {
	ld := func(off uint32) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: 4} }
	ret := func(v uint32) bpf.Instruction { return bpf.RetConstant{Val: v} }
	const allowed, traced = unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_TRACE
	for _, c := range []struct {
		name string
		prog []bpf.Instruction
		nr   uint32
		want bool
	}{
		{"allow", []bpf.Instruction{ret(allowed)}, 1, true},
		{"trace", []bpf.Instruction{ret(traced)}, 1, false},
		{"nr selects another", []bpf.Instruction{ld(seccompNr), bpf.JumpIf{Cond: bpf.JumpEqual, Val: 7, SkipTrue: 1}, ret(allowed), ret(traced)}, 1, true},
		{"nr selects it", []bpf.Instruction{ld(seccompNr), bpf.JumpIf{Cond: bpf.JumpEqual, Val: 7, SkipTrue: 1}, ret(allowed), ret(traced)}, 7, false},
		{"ip loaded first", []bpf.Instruction{ld(seccompIP), ld(seccompNr), ret(allowed)}, 1, false},
		{"an argument", []bpf.Instruction{ld(seccompArg0), ret(allowed)}, 1, false},
		{"jset", []bpf.Instruction{ld(seccompNr), bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 4, SkipTrue: 1}, ret(allowed), ret(traced)}, 5, false},
		{"jgt", []bpf.Instruction{ld(seccompNr), bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: 4, SkipTrue: 1}, ret(allowed), ret(traced)}, 4, true},
		{"and", []bpf.Instruction{ld(seccompNr), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 1}, bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipTrue: 1}, ret(traced), ret(allowed)}, 6, true},
		{"ja", []bpf.Instruction{bpf.Jump{Skip: 1}, ret(traced), ret(allowed)}, 1, true},
		{"jump on x", []bpf.Instruction{ld(seccompNr), bpf.JumpIfX{Cond: bpf.JumpEqual, SkipTrue: 1}, ret(allowed), ret(allowed)}, 1, false},
		{"the arch", []bpf.Instruction{ld(seccompArch), bpf.JumpIf{Cond: bpf.JumpEqual, Val: AuditArch, SkipFalse: 1}, ret(allowed), ret(traced)}, 1, true},
	} {
		raw, err := bpf.Assemble(c.prog)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := constAllow(raw, AuditArch, c.nr); got != c.want {
			t.Errorf("%s, nr %d: got %v, want %v", c.name, c.nr, got, c.want)
		}
	}
}

// everyFilter is every filter the package can build: a superset of those
// remainroot installs (SetterFilter, GetterFilter, FullFilter, with files,
// a listener, lazily).
func everyFilter() []Filter {
	var out []Filter
	for bits := range 32 {
		f := Filter{Setters: bits&1 != 0, Getters: bits&2 != 0, Files: bits&4 != 0, Notify: bits&8 != 0, Lazy: bits&16 != 0}
		if !f.Lazy || !f.Files {
			out = append(out, f)
		}
	}
	return append(out, SetterFilter.WithInProcess(), FullFilter.WithInProcess())
}

// routes reports whether f sends some calls nr makes to the tracer or the
// listener, from shim's table alone: then the filter must look further
// than the number.
func routes(f Filter, nr uint32) bool {
	if f.Files && len(stub.Code) > 0 && nr == stub.TrapNr {
		return true // from the stub's page
	}
	if nr == unix.SYS_PRCTL {
		for _, c := range shim.PrctlOptions {
			if f.wants(c) {
				return true
			}
		}
		return false
	}
	if f.InProcess && (nr == unix.SYS_EXECVE || nr == unix.SYS_EXECVEAT) {
		return true
	}
	s, ok := shim.Lookup(uintptr(nr))
	return ok && f.wants(s.Class)
}

// Every call number a filter does not route is allowed from its number
// alone, in every filter, mode full's too: the kernel's action cache
// then skips the filter for it. A routed number never is.
func TestFilterConstAllow(t *testing.T) {
	for _, f := range everyFilter() {
		prog, err := f.Program()
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		for nr := range uint32(1024) {
			if got, want := constAllow(prog, AuditArch, nr), !routes(f, nr); got != want {
				t.Errorf("call %d with %+v: constant ALLOW %v, want %v", nr, f, got, want)
			}
			if !constAllow(prog, compatArch, nr) {
				t.Errorf("compat call %d with %+v: not a constant ALLOW", nr, f)
			}
		}
	}
	// The program before this rule loaded the instruction pointer first
	// in mode full: the filter ran for every call.
	if len(stub.Code) > 0 {
		before, err := programBefore(SetterFilter.WithFiles())
		if err != nil {
			t.Fatal(err)
		}
		if constAllow(before, AuditArch, unix.SYS_READ) {
			t.Error("read under the old mode full filter: a constant ALLOW")
		}
	}
	// Today's table: the checks above are not empty.
	prog, err := SetterFilter.WithFiles().WithNotify().Program()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		nr   uint32
		want bool
	}{
		{unix.SYS_READ, true}, {unix.SYS_GETPPID, true}, {unix.SYS_FUTEX, true}, {unix.SYS_CLOSE, true},
		{unix.SYS_SETRESUID, false}, {unix.SYS_OPENAT, false}, {unix.SYS_FSTAT, false}, {unix.SYS_SETXATTR, false},
	} {
		if got := constAllow(prog, AuditArch, c.nr); got != c.want {
			t.Errorf("call %d in mode full: constant ALLOW %v, want %v", c.nr, got, c.want)
		}
	}
}
