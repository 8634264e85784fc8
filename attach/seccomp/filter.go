package seccomp

import (
	"encoding/binary"
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// Offsets into struct seccomp_data.
const (
	seccompNr   = 0
	seccompArch = 4
	seccompIP   = 8  // instruction_pointer, low 32 bits
	seccompArg0 = 16 // low 32 bits on little-endian machines
)

// Filter names which classes of emulated system calls a seccomp program
// sends to the tracer.
type Filter struct {
	Setters bool
	Getters bool
	// Files: the stat, xattr and create calls of mode full.
	Files bool
	// Notify returns SECCOMP_RET_USER_NOTIF instead of SECCOMP_RET_TRACE
	// for the calls that a value answers (set*id, get*id, groups,
	// capabilities): a supervisor answers them without a ptrace stop.
	Notify bool
	// Lazy (with Notify, without Files) notifies the calls that need a
	// ptrace stop too (the chown family, setxattr): the threads of a lazy
	// trace are not attached, and the supervisor brings a call that needs
	// a stop to one itself (attach/lazy.go). A RET_TRACE would fail with ENOSYS
	// in a thread that has no tracer.
	Lazy bool
	// InProcess (with Lazy and Files) is the base filter of the
	// in-process route (docs/in-process-route.md): a released process's
	// stats are answered by its handler, behind the layer that traps them
	// first, so mode full's calls may be notified; execve and execveat are
	// notified too, so that the tracer puts the handler back in the new
	// program before it runs.
	InProcess bool
}

var (
	// SetterFilter is installed on every traced process: calls that change
	// credentials, chown, and the prctl options that set keepcaps/securebits.
	SetterFilter = Filter{Setters: true}
	// GetterFilter is added to a thread once its emulated credentials differ
	// from its real ones.
	GetterFilter = Filter{Getters: true}
	// FullFilter traces both at once, for processes that could not add the
	// getter filter later.
	FullFilter = Filter{Setters: true, Getters: true}
)

// WithFiles returns f that also traces the calls of mode full.
func (f Filter) WithFiles() Filter { f.Files = true; return f }

// WithInProcess returns f as the in-process route's base filter (see
// Filter.InProcess): lazy, notifying, with mode full's calls.
func (f Filter) WithInProcess() Filter {
	f.InProcess, f.Lazy, f.Files, f.Notify, f.Getters = true, true, true, true, true
	return f
}

// WithLazy returns f that notifies every emulated call (see Filter.Lazy).
func (f Filter) WithLazy() Filter { f.Lazy = true; return f }

// WithNotify returns f that sends value-answered calls to a listener. It
// includes the getters: they cost a notification, not a ptrace stop, and
// a getter filter cannot be added later from a notification.
func (f Filter) WithNotify() Filter { f.Notify, f.Getters = true, true; return f }

func (f Filter) wants(c shim.Class) bool {
	return (c == shim.Setter && f.Setters) || (c == shim.Getter && f.Getters) || (c == shim.File && f.Files)
}

// Program builds the classic BPF program for f. It checks the architecture
// first (other architectures' calls, e.g. int 0x80, are allowed and reach
// the real kernel), rejects x32 calls with ENOSYS where the architecture
// has that ABI (they would bypass the emulation), returns SECCOMP_RET_TRACE
// for the selected calls (for some only when an argument has given bits:
// prctl's option, open's O_CREAT) and SECCOMP_RET_ALLOW for everything else.
// Every call number it does not select is allowed from its number alone,
// so that the kernel's action cache skips the filter for it.
func (f Filter) Program() ([]bpf.RawInstruction, error) {
	if f.Lazy && f.Files && !f.InProcess {
		return nil, fmt.Errorf("seccomp program: a lazy filter cannot trace mode full's file calls")
	}
	if f.InProcess && !(f.Lazy && f.Files && f.Notify) {
		return nil, fmt.Errorf("seccomp program: the in-process route's filter is lazy, notifying, with mode full's calls")
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
			if f.Lazy {
				// No thread of a lazy trace is sure to have a tracer:
				// every such call is notified (the in-process route's).
				rule = shim.ArgBits{}
			}
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
	if f.InProcess {
		plainNotify = append(plainNotify, unix.SYS_EXECVE, unix.SYS_EXECVEAT)
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
	// Layout: ld arch; jeq auditArch else ALLOW; ld nr; [jge x32 else +1;
	// ret ENOSYS]; [the stub page's gate, below]; jeq nr -> TRACE for each
	// plain call; jeq nr -> COND_i for each conditional one; ALLOW: ret
	// ALLOW; COND_i: ld arg; tests -> TRACE; ret ALLOW; ...; TRACE: ret
	// TRACE; NOTIFY: ret USER_NOTIF. Instructions are placed first; jump
	// offsets (at most 255) are filled in from the final positions of
	// their targets.
	//
	// A call number the filter does not route reaches ret ALLOW having
	// loaded nothing but arch and nr: the kernel sees that when the filter
	// is loaded (kernel/seccomp.c, seccomp_is_const_allow) and never runs
	// the filter for that number again (TestFilterConstAllow).
	var prog []bpf.Instruction
	add := func(i ...bpf.Instruction) { prog = append(prog, i...) }
	type fix struct {
		at     int
		target *int
		onTrue bool
	}
	var fixes []fix
	var labelAllow, labelTrace, labelNotify int
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
		add(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: X32SyscallBit, SkipFalse: 1})
		add(bpf.RetConstant{Val: retNosys})
	}
	if f.Files && len(stub.Code) > 0 {
		// From the stub's page the trap call stops and every other call
		// is one of a fused plan's steps and runs (package stub). Only
		// the numbers the filter routes, and the trap's, look at the
		// instruction pointer: jeq nr -> GATE for each; ret ALLOW; GATE:
		// outside the page, on to the dispatch below.
		gate := new(int)
		for _, nr := range stubGated(plainTrace, plainNotify, condNrs) {
			jump(nr, gate, bpf.JumpEqual)
		}
		add(bpf.RetConstant{Val: retAllow})
		*gate = len(prog)
		outside := new(int)
		add(bpf.LoadAbsolute{Off: seccompIP + 4, Size: 4})
		fixes = append(fixes, fix{len(prog), outside, false})
		add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(stub.Addr >> 32)})
		// The page starts at a multiple of 4 GiB: only its end is tested.
		add(bpf.LoadAbsolute{Off: seccompIP, Size: 4})
		fixes = append(fixes, fix{len(prog), outside, true})
		add(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(stub.Addr&0xffffffff) + stub.PageSize})
		add(bpf.LoadAbsolute{Off: seccompNr, Size: 4})
		add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: stub.TrapNr, SkipFalse: 1})
		add(bpf.RetConstant{Val: retTrace})
		add(bpf.RetConstant{Val: retAllow})
		*outside = len(prog)
		if f.InProcess {
			// From the in-process handler's page (stub.HandlerAddr) its
			// own calls run; its asking call, at HandlerAskIP, is
			// dispatched below as the program's call would be.
			dispatch := new(int)
			add(bpf.LoadAbsolute{Off: seccompIP + 4, Size: 4})
			fixes = append(fixes, fix{len(prog), dispatch, false})
			add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(stub.HandlerAddr >> 32)})
			add(bpf.LoadAbsolute{Off: seccompIP, Size: 4})
			fixes = append(fixes, fix{len(prog), dispatch, true})
			add(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: stub.HandlerSize})
			fixes = append(fixes, fix{len(prog), dispatch, true})
			add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(stub.HandlerAskIP & 0xffffffff)})
			add(bpf.RetConstant{Val: retAllow})
			*dispatch = len(prog)
		}
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

// stubGated returns the sorted numbers a filter with the stub's gate
// sends to it: every routed call's and the stub's trap call's.
func stubGated(lists ...[]uint32) []uint32 {
	nrs := []uint32{stub.TrapNr}
	for _, l := range lists {
		nrs = append(nrs, l...)
	}
	slices.Sort(nrs)
	return slices.Compact(nrs)
}

// Encode lays out instructions as an array of struct sock_filter.
func Encode(raw []bpf.RawInstruction) []byte {
	b := make([]byte, 8*len(raw))
	for i, in := range raw {
		binary.LittleEndian.PutUint16(b[8*i:], in.Op)
		b[8*i+2] = in.Jt
		b[8*i+3] = in.Jf
		binary.LittleEndian.PutUint32(b[8*i+4:], in.K)
	}
	return b
}
