package attach

import (
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/shim"
)

// No stub on arm64 yet: stats of paths there keep their two stops, and
// plans keep their scratch area on the stack.

const (
	stubAddr        = 0
	stubPageSize    = 0
	stubTrapNr      = 0
	frameSize       = 0
	frameRes1       = 0
	frameRes2       = 0
	frameSecondDone = 0
	frameBusy       = 0
)

var stubCode []byte

func stubFrame(saved *ptrace.Regs, first, second *shim.Step, rule shim.FuseRule) []byte { return nil }

func enterStub(r *ptrace.Regs, frame uint64) {}

func stubFrameOf(r *ptrace.Regs) uint64 { return 0 }
