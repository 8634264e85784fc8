package seccomp

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Layer is the in-process route's filter (docs/in-process-route.md),
// installed on top of a process's filter once its SIGSYS handler is in
// place: the Traps return SECCOMP_RET_TRAP with Data, which the kernel
// delivers as SIGSYS to the handler, unless they are made from the
// handler's code (CodeAddr, CodeSize bytes), where they run (the layer has
// no listener: the handler's asking call is the process's own filter's to
// notify). Every call no trap names is allowed having loaded only the
// architecture and the number, so the kernel's per-number allow cache
// keeps it out of the program.
type Layer struct {
	Traps    []Trap
	CodeAddr uint64 // a multiple of 4 GiB
	CodeSize uint32
	Data     uint16
	// Also are more code pages whose calls run (the stub's), each at a
	// multiple of 4 GiB.
	Also []CodeRange
	// Markers: a trapped call whose sixth argument holds one of these
	// runs (the tracer's own steps, shim.InjectMarker, and a call it
	// escalated, shim.EscalateMarker, which the filter below sends to a
	// ptrace stop). None of the trapped calls has a sixth argument.
	Markers []uint64
}

// CodeRange is Size bytes of code at Addr.
type CodeRange struct {
	Addr uint64
	Size uint32
}

// Trap is a call a Layer traps: always (IfArg -1), or only when its
// argument IfArg is not 0.
type Trap struct {
	Nr    uint32
	IfArg int
}

// Program returns the layer's BPF program.
func (l Layer) Program() ([]bpf.RawInstruction, error) {
	if l.CodeAddr&0xffffffff != 0 || l.CodeSize == 0 {
		return nil, fmt.Errorf("seccomp layer: code at %#x (%d bytes)", l.CodeAddr, l.CodeSize)
	}
	for _, r := range l.Also {
		if r.Addr&0xffffffff != 0 || r.Size == 0 || r.Addr>>32 == l.CodeAddr>>32 {
			return nil, fmt.Errorf("seccomp layer: more code at %#x (%d bytes)", r.Addr, r.Size)
		}
	}
	if len(l.Markers) > 4 {
		return nil, fmt.Errorf("seccomp layer: %d markers", len(l.Markers))
	}
	if len(l.Traps) == 0 || len(l.Traps) > 60 {
		return nil, fmt.Errorf("seccomp layer: %d calls to trap", len(l.Traps))
	}
	traps := slices.Clone(l.Traps)
	slices.SortFunc(traps, func(a, b Trap) int { return int(a.Nr) - int(b.Nr) })
	for i, t := range traps {
		if i > 0 && traps[i-1].Nr == t.Nr {
			return nil, fmt.Errorf("seccomp layer: call %d trapped twice", t.Nr)
		}
		if t.IfArg < -1 || t.IfArg > 5 {
			return nil, fmt.Errorf("seccomp layer: call %d: no argument %d", t.Nr, t.IfArg)
		}
	}
	const retAllow = unix.SECCOMP_RET_ALLOW
	retTrap := unix.SECCOMP_RET_TRAP | uint32(l.Data)
	// ld arch; jeq AuditArch else ALLOW; ld nr; jeq nr -> COND_i for
	// each; ALLOW: ret ALLOW; COND_i (a conditional trap): ld arg low;
	// jeq 0 else GATE; ld arg high; jeq 0 -> ALLOW2 else GATE; ...;
	// GATE: a marker -> ALLOW2; ld ip high; jeq code's (or another
	// page's) else TRAP; ld ip low; jge end -> TRAP; ALLOW2: ret ALLOW;
	// TRAP: ret TRAP|Data. Instructions are placed first, jumps filled
	// in from their targets' final positions.
	var prog []bpf.Instruction
	type fix struct {
		at     int
		target *int
		onTrue bool
	}
	var fixes []fix
	add := func(i ...bpf.Instruction) { prog = append(prog, i...) }
	jump := func(cond bpf.JumpTest, val uint32, onTrue, onFalse *int) {
		if onTrue != nil {
			fixes = append(fixes, fix{len(prog), onTrue, true})
		}
		if onFalse != nil {
			fixes = append(fixes, fix{len(prog), onFalse, false})
		}
		add(bpf.JumpIf{Cond: cond, Val: val})
	}
	var labelAllow, labelGate, labelAllow2, labelTrap int
	labelCond := make([]int, len(traps))

	add(bpf.LoadAbsolute{Off: seccompArch, Size: 4})
	jump(bpf.JumpEqual, AuditArch, nil, &labelAllow)
	add(bpf.LoadAbsolute{Off: seccompNr, Size: 4})
	for i, t := range traps {
		target := &labelGate
		if t.IfArg >= 0 {
			target = &labelCond[i]
		}
		jump(bpf.JumpEqual, t.Nr, target, nil)
	}
	labelAllow = len(prog)
	add(bpf.RetConstant{Val: retAllow})
	for i, t := range traps {
		if t.IfArg < 0 {
			continue
		}
		labelCond[i] = len(prog)
		off := uint32(seccompArg0 + 8*t.IfArg)
		add(bpf.LoadAbsolute{Off: off, Size: 4})
		jump(bpf.JumpEqual, 0, nil, &labelGate)
		add(bpf.LoadAbsolute{Off: off + 4, Size: 4})
		jump(bpf.JumpEqual, 0, &labelAllow2, &labelGate)
	}
	// GATE: a marked call runs; then by where it comes from.
	labelGate = len(prog)
	labelIP := new(int)
	for i, m := range l.Markers {
		next := new(int)
		if i == len(l.Markers)-1 {
			next = labelIP
		}
		add(bpf.LoadAbsolute{Off: seccompArg0 + 8*5, Size: 4})
		jump(bpf.JumpEqual, uint32(m), nil, next)
		add(bpf.LoadAbsolute{Off: seccompArg0 + 8*5 + 4, Size: 4})
		jump(bpf.JumpEqual, uint32(m>>32), &labelAllow2, next)
		*next = len(prog)
	}
	*labelIP = len(prog)
	add(bpf.LoadAbsolute{Off: seccompIP + 4, Size: 4})
	labelHandler := new(int)
	jump(bpf.JumpEqual, uint32(l.CodeAddr>>32), labelHandler, nil)
	for _, r := range l.Also {
		// ld ip high (in A); jeq its block else next; ld ip low; jge end
		// -> TRAP; ret ALLOW; next: ld ip high again.
		next := new(int)
		jump(bpf.JumpEqual, uint32(r.Addr>>32), nil, next)
		add(bpf.LoadAbsolute{Off: seccompIP, Size: 4})
		jump(bpf.JumpGreaterOrEqual, r.Size, &labelTrap, &labelAllow2)
		*next = len(prog)
		add(bpf.LoadAbsolute{Off: seccompIP + 4, Size: 4})
	}
	jump(bpf.JumpEqual, 0, &labelTrap, &labelTrap) // outside every page
	*labelHandler = len(prog)
	add(bpf.LoadAbsolute{Off: seccompIP, Size: 4})
	jump(bpf.JumpGreaterOrEqual, l.CodeSize, &labelTrap, nil)
	labelAllow2 = len(prog)
	add(bpf.RetConstant{Val: retAllow})
	labelTrap = len(prog)
	add(bpf.RetConstant{Val: retTrap})

	for _, f := range fixes {
		skip := *f.target - f.at - 1
		if skip < 0 || skip > 255 {
			return nil, fmt.Errorf("seccomp layer: jump of %d instructions out of range", skip)
		}
		j := prog[f.at].(bpf.JumpIf)
		if f.onTrue {
			j.SkipTrue = uint8(skip)
		} else {
			j.SkipFalse = uint8(skip)
		}
		prog[f.at] = j
	}
	return bpf.Assemble(prog)
}
