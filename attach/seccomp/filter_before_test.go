package seccomp

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// programBefore is Filter.Program as it was at commit b2215f5, before the
// stub page's test moved behind the call number (so that the kernel's
// action cache skips the filter for the calls it does not route). Frozen
// here as the reference of TestFilterSameVerdicts: the new program must
// give every call the verdict this one gave. Do not change it.
func programBefore(f Filter) ([]bpf.RawInstruction, error) {
	if f.Lazy && f.Files {
		return nil, fmt.Errorf("seccomp program: a lazy filter cannot trace mode full's file calls")
	}
	type argTest struct {
		arg    int
		vals   []uint32 // equal to one of these
		mask   uint32   // or: any of these bits set
		unless bool     // or: none of the mask bits set
		// chownIDs: stop unless this argument and the next are both -1.
		chownIDs bool
		notify   bool // answered by the listener, not a ptrace stop
		// notifyRule: the calls that pass the test above go to the
		// listener (all, or those with notifyRule's bits), unless they
		// carry shim.EscalateMarker; the others stop.
		notifyRule *shim.ArgBits
		// marked: the call is allowed when argument markArg holds
		// shim.InjectMarker (the tracer's own injected call).
		marked  bool
		markArg int
	}
	var plainTrace, plainNotify []uint32
	conditional := map[uint32]argTest{}
	for _, s := range shim.Syscalls() {
		if s.Nr == unix.SYS_PRCTL || !f.wants(s.Class) {
			continue
		}
		notify := f.Notify && (!s.NeedsStop() || f.Lazy)
		if rule, ok := s.Notified(); ok && f.Notify {
			conditional[uint32(s.Nr)] = argTest{arg: s.OnlyIf.Arg, mask: s.OnlyIf.Mask,
				unless: s.OnlyIf.Unless, notifyRule: &rule}
			continue
		}
		if i, ok := s.ChownIDs(); ok {
			conditional[uint32(s.Nr)] = argTest{arg: i, chownIDs: true, notify: notify}
			continue
		}
		markArg, marked := s.InjectedArg()
		switch {
		case s.OnlyIf.Mask != 0 || marked:
			conditional[uint32(s.Nr)] = argTest{arg: s.OnlyIf.Arg, mask: s.OnlyIf.Mask,
				unless: s.OnlyIf.Unless, notify: notify, marked: marked, markArg: markArg}
		case notify:
			plainNotify = append(plainNotify, uint32(s.Nr))
		default:
			plainTrace = append(plainTrace, uint32(s.Nr))
		}
	}
	var opts []uint32
	for opt, c := range shim.PrctlOptions {
		if f.wants(c) {
			opts = append(opts, opt)
		}
	}
	if len(opts) > 0 {
		slices.Sort(opts)
		conditional[unix.SYS_PRCTL] = argTest{arg: 0, vals: opts, notify: f.Notify}
	}
	slices.Sort(plainTrace)
	slices.Sort(plainNotify)
	condNrs := make([]uint32, 0, len(conditional))
	for nr := range conditional {
		condNrs = append(condNrs, nr)
	}
	slices.Sort(condNrs)

	const (
		retAllow  = unix.SECCOMP_RET_ALLOW
		retTrace  = unix.SECCOMP_RET_TRACE
		retNosys  = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
		retNotify = unix.SECCOMP_RET_USER_NOTIF
	)
	// Layout: ld arch; jeq auditArch else ALLOW; ld nr; [jge x32 -> ENOSYS];
	// jeq nr -> TRACE for each plain call; jeq nr -> COND_i for each
	// conditional one; ALLOW: ret ALLOW; COND_i: ld arg; tests -> TRACE;
	// ret ALLOW; ...; TRACE: ret TRACE; NOSYS: ret ENOSYS.
	// Instructions are placed first; jump offsets are filled in from the
	// final positions of their targets.
	var prog []bpf.Instruction
	add := func(i ...bpf.Instruction) { prog = append(prog, i...) }
	type fix struct {
		at     int
		target *int
		onTrue bool
	}
	var fixes []fix
	var labelAllow, labelTrace, labelNotify, labelNosys int
	labelCond := make([]int, len(condNrs))
	jump := func(val uint32, target *int, cond bpf.JumpTest) {
		fixes = append(fixes, fix{len(prog), target, true})
		add(bpf.JumpIf{Cond: cond, Val: val})
	}

	add(bpf.LoadAbsolute{Off: seccompArch, Size: 4})
	fixes = append(fixes, fix{len(prog), &labelAllow, false})
	add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: AuditArch})
	add(bpf.LoadAbsolute{Off: seccompNr, Size: 4})
	if X32SyscallBit != 0 {
		jump(X32SyscallBit, &labelNosys, bpf.JumpGreaterOrEqual)
	}
	if f.Files && len(stub.Code) > 0 {
		// From the stub's page: the trap call stops, every other call is
		// one of a fused plan's steps and runs (package stub).
		add(bpf.LoadAbsolute{Off: seccompIP + 4, Size: 4})
		add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(stub.Addr >> 32), SkipFalse: 4})
		add(bpf.LoadAbsolute{Off: seccompIP, Size: 4})
		add(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(stub.Addr&0xffffffff) + stub.PageSize, SkipTrue: 2})
		add(bpf.LoadAbsolute{Off: seccompNr, Size: 4})
		fixes = append(fixes, fix{len(prog), &labelTrace, true}, fix{len(prog), &labelAllow, false})
		add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: stub.TrapNr})
		add(bpf.LoadAbsolute{Off: seccompNr, Size: 4})
	}
	for _, nr := range plainTrace {
		jump(nr, &labelTrace, bpf.JumpEqual)
	}
	for _, nr := range plainNotify {
		jump(nr, &labelNotify, bpf.JumpEqual)
	}
	for i, nr := range condNrs {
		jump(nr, &labelCond[i], bpf.JumpEqual)
	}
	labelAllow = len(prog)
	add(bpf.RetConstant{Val: retAllow})
	for i, nr := range condNrs {
		c := conditional[nr]
		target := &labelTrace
		if c.notify {
			target = &labelNotify
		}
		labelCond[i] = len(prog)
		if c.notifyRule != nil {
			pass := new(int) // a local ALLOW: BPF jumps only forward
			if c.mask != 0 {
				add(bpf.LoadAbsolute{Off: uint32(seccompArg0 + 8*c.arg), Size: 4})
				// The call stops only with (unless: without) the bits.
				fixes = append(fixes, fix{len(prog), pass, c.unless})
				add(bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: c.mask})
			}
			// arg5 == EscalateMarker (both halves): a ptrace stop.
			add(bpf.LoadAbsolute{Off: seccompArg0 + 8*5, Size: 4})
			add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(shim.EscalateMarker & 0xffffffff), SkipFalse: 2})
			add(bpf.LoadAbsolute{Off: seccompArg0 + 8*5 + 4, Size: 4})
			jump(uint32(shim.EscalateMarker>>32), &labelTrace, bpf.JumpEqual)
			if r := c.notifyRule; r.Mask != 0 {
				add(bpf.LoadAbsolute{Off: uint32(seccompArg0 + 8*r.Arg), Size: 4})
				fixes = append(fixes, fix{len(prog), &labelNotify, true}, fix{len(prog), &labelTrace, false})
				add(bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: r.Mask})
			} else {
				add(bpf.RetConstant{Val: retNotify})
			}
			*pass = len(prog)
			add(bpf.RetConstant{Val: retAllow})
			continue
		}
		if c.chownIDs {
			// uid == -1 && gid == -1: ALLOW; anything else: stop.
			add(bpf.LoadAbsolute{Off: uint32(seccompArg0 + 8*c.arg), Size: 4})
			fixes = append(fixes, fix{len(prog), target, false})
			add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: ^uint32(0)})
			add(bpf.LoadAbsolute{Off: uint32(seccompArg0 + 8*(c.arg+1)), Size: 4})
			fixes = append(fixes, fix{len(prog), target, false})
			add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: ^uint32(0)})
			add(bpf.RetConstant{Val: retAllow})
			continue
		}
		pass := new(int) // the block's own ALLOW, below
		if c.marked {
			// arg[markArg] == InjectMarker (both halves): ALLOW.
			add(bpf.LoadAbsolute{Off: uint32(seccompArg0 + 8*c.markArg), Size: 4})
			add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(shim.InjectMarker & 0xffffffff), SkipFalse: 2})
			add(bpf.LoadAbsolute{Off: uint32(seccompArg0 + 8*c.markArg + 4), Size: 4})
			jump(uint32(shim.InjectMarker>>32), pass, bpf.JumpEqual)
		}
		add(bpf.LoadAbsolute{Off: uint32(seccompArg0 + 8*c.arg), Size: 4})
		for _, v := range c.vals {
			jump(v, target, bpf.JumpEqual)
		}
		switch {
		case c.mask != 0 && c.unless:
			jump(c.mask, target, bpf.JumpBitsNotSet)
		case c.mask != 0:
			jump(c.mask, target, bpf.JumpBitsSet)
		}
		*pass = len(prog)
		add(bpf.RetConstant{Val: retAllow})
	}
	labelTrace = len(prog)
	add(bpf.RetConstant{Val: retTrace})
	labelNotify = len(prog)
	add(bpf.RetConstant{Val: retNotify})
	labelNosys = len(prog)
	add(bpf.RetConstant{Val: retNosys})

	for _, fx := range fixes {
		j := prog[fx.at].(bpf.JumpIf)
		skip := *fx.target - fx.at - 1
		if skip < 0 || skip > 255 {
			return nil, fmt.Errorf("seccomp program: jump of %d instructions out of range", skip)
		}
		if fx.onTrue {
			j.SkipTrue = uint8(skip)
		} else {
			j.SkipFalse = uint8(skip)
		}
		prog[fx.at] = j
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp program: %w", err)
	}
	return raw, nil
}
