package stub

import (
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/shim"
)

// No stub on arm64 yet: stats of paths there keep their two stops, and
// plans keep their scratch area on the stack.

const (
	Addr            = 0
	PageSize        = 0
	TrapNr          = 0
	FrameSize       = 0
	FrameRes1       = 0
	FrameRes2       = 0
	FrameSecondDone = 0
	FrameBusy       = 0
)

// Code is empty: there is no stub on arm64, and what uses one checks.
var Code []byte

// Frame, Enter and FrameOf do nothing without a stub.
func Frame(saved *ptrace.Regs, first, second *shim.Step, rule shim.FuseRule, filter Filter) []byte {
	return nil
}

func Enter(r *ptrace.Regs, frame uint64) {}

func FrameOf(r *ptrace.Regs) uint64 { return 0 }
