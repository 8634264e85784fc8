package seccomp

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Layer is the in-process route's filter (docs/in-process-route.md),
// installed on top of a process's filter once its SIGSYS handler is in
// place: the Trapped calls return SECCOMP_RET_TRAP with Data, which the
// kernel delivers as SIGSYS to the handler, unless they are made from the
// handler's code (CodeAddr, CodeSize bytes), where they run; there the one
// at AskIP (the address after the handler's asking syscall instruction)
// goes to the listener. Every other call is allowed having loaded only
// the architecture and the number, so the kernel's per-number allow cache
// keeps it out of the program.
type Layer struct {
	Trapped  []uint32
	CodeAddr uint64 // a multiple of 4 GiB
	CodeSize uint32
	AskIP    uint64
	Data     uint16
}

// Program returns the layer's BPF program.
func (l Layer) Program() ([]bpf.RawInstruction, error) {
	if l.CodeAddr&0xffffffff != 0 || l.CodeSize == 0 || l.AskIP < l.CodeAddr || l.AskIP >= l.CodeAddr+uint64(l.CodeSize) {
		return nil, fmt.Errorf("seccomp layer: code at %#x (%d bytes) with its asking call at %#x", l.CodeAddr, l.CodeSize, l.AskIP)
	}
	if len(l.Trapped) == 0 || len(l.Trapped) > 200 {
		return nil, fmt.Errorf("seccomp layer: %d calls to trap", len(l.Trapped))
	}
	trapped := slices.Clone(l.Trapped)
	slices.Sort(trapped)
	trapped = slices.Compact(trapped)
	const (
		retAllow  = unix.SECCOMP_RET_ALLOW
		retNotify = unix.SECCOMP_RET_USER_NOTIF
	)
	retTrap := unix.SECCOMP_RET_TRAP | uint32(l.Data)
	// ld arch; jeq AuditArch else ALLOW; ld nr; jeq nr -> GATE for each;
	// ALLOW: ret ALLOW; GATE: ld ip high; jeq code's else TRAP; ld ip
	// low; jge end -> TRAP; jeq ask's -> NOTIFY; ret ALLOW; TRAP: ret
	// TRAP|Data; NOTIFY: ret USER_NOTIF.
	n := len(trapped)
	var prog []bpf.Instruction
	add := func(i ...bpf.Instruction) { prog = append(prog, i...) }
	allow := 3 + n    // index of ALLOW
	gate := allow + 1 // GATE
	trap := gate + 6  // TRAP
	notify := trap + 1
	add(bpf.LoadAbsolute{Off: seccompArch, Size: 4})
	add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: AuditArch, SkipFalse: uint8(allow - 2)})
	add(bpf.LoadAbsolute{Off: seccompNr, Size: 4})
	for i, nr := range trapped {
		at := 3 + i
		if gate-at-1 > 255 {
			return nil, fmt.Errorf("seccomp layer: jump out of range")
		}
		add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipTrue: uint8(gate - at - 1)})
	}
	add(bpf.RetConstant{Val: retAllow})
	add(bpf.LoadAbsolute{Off: seccompIP + 4, Size: 4})                                                     // gate
	add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(l.CodeAddr >> 32), SkipFalse: uint8(trap - gate - 2)}) // gate+1
	add(bpf.LoadAbsolute{Off: seccompIP, Size: 4})                                                         // gate+2
	add(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: l.CodeSize, SkipTrue: uint8(trap - gate - 4)})       // gate+3
	add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(l.AskIP), SkipTrue: uint8(notify - gate - 5)})         // gate+4
	add(bpf.RetConstant{Val: retAllow})                                                                    // gate+5
	add(bpf.RetConstant{Val: retTrap})                                                                     // trap
	add(bpf.RetConstant{Val: retNotify})                                                                   // notify
	return bpf.Assemble(prog)
}
