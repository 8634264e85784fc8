package attach

import (
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route/ptracestop"
	"github.com/remainroot/remainroot/shim"
)

// The tracer's side of the ptrace-stop route (package route/ptracestop):
// what follows the answer to a call, the thread's running on and a plan's
// further stops, belongs to the state machine.

var (
	_ ptracestop.Thread = atSeccomp{}
	_ ptracestop.Thread = atRestart{}
)

// atSeccomp is th at the seccomp stop of a call: ptracestop.Thread.
type atSeccomp struct {
	t     *Tracer
	th    *thread
	lease *scratchLease
}

func (s atSeccomp) RunPlan(r *ptrace.Regs, p shim.Plan, arg5 *uint64) error {
	return s.t.startPlan(s.th, r, p, arg5, s.lease)
}

func (s atSeccomp) RunOn(exitArg5 *uint64) error {
	if exitArg5 != nil {
		s.th.arg5AtExit = exitArg5
		return ptrace.ResumeToSyscall(s.th.tid)
	}
	return ptrace.Resume(s.th.tid, 0)
}

// atRestart is th stopped on its way out of a call answered
// -ERESTARTNOINTR (emulateAtRestart): ptracestop.Thread.
type atRestart struct {
	t     *Tracer
	th    *thread
	lease *scratchLease
}

func (s atRestart) RunPlan(r *ptrace.Regs, p shim.Plan, _ *uint64) error {
	return s.t.startPlanAtRestart(s.th, r, p, s.lease)
}

func (s atRestart) RunOn(*uint64) error { return s.t.callDone(s.th) }
