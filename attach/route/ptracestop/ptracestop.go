// Package ptracestop is the route of a call whose thread is at a ptrace
// stop: its seccomp stop (SECCOMP_RET_TRACE), before the call runs, or the
// stop on its way out of a notified call answered -ERESTARTNOINTR (an
// escalation). The answer is the thread's registers: a return value, the
// call run with its arguments maybe rewritten, or a plan of steps. It can
// deliver every outcome. What follows the answer (letting the thread run
// on, a plan's further stops) is the tracer's, behind Thread.
package ptracestop

import (
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route"
	"github.com/remainroot/remainroot/shim"
)

// Thread is the stopped thread as the tracer holds it.
type Thread interface {
	// RunPlan has the thread make plan's system calls from registers r;
	// the tracer runs the plan's further stops. arg5, when not nil, is the
	// thread's own sixth argument register, given back at the plan's end
	// (an escalated call carries shim.EscalateMarker there:
	// attach/escalate.go).
	RunPlan(r *ptrace.Regs, plan shim.Plan, arg5 *uint64) error
	// RunOn lets the thread run on, its call answered. exitArg5, when not
	// nil, is the sixth argument register to give back at the exit stop
	// of the call, which runs with the marker.
	RunOn(exitArg5 *uint64) error
}

// Both stops answer by the route's shape.
var (
	_ route.Answer = (*SeccompStop)(nil)
	_ route.Answer = (*RestartStop)(nil)
)

// memory is the memory of thread tid.
func memory(tid int) shim.Memory { return ptrace.Memory{Tid: tid} }

// SeccompStop answers a call at its seccomp stop, before it runs.
type SeccompStop struct {
	thread Thread
	tid    int
	r      *ptrace.Regs
	args   [6]uint64 // the call's own
	arg5   *uint64
}

// AtSeccomp returns the call of thread th (tid), at its seccomp stop with
// registers r, and its answer. arg5, for an escalated call, is the
// thread's own sixth argument register, which the marker replaces.
func AtSeccomp(th Thread, tid int, r *ptrace.Regs, arg5 *uint64) (route.Call, *SeccompStop) {
	c := route.Call{Tid: tid, Call: shim.Call{Nr: uintptr(r.SyscallNr()), Args: r.Args()}, Memory: memory(tid)}
	return c, &SeccompStop{thread: th, tid: tid, r: r, args: c.Call.Args, arg5: arg5}
}

// Return skips the call: it returns value.
func (s *SeccompStop) Return(value int64) error {
	s.r.SetSyscallNr(-1)
	s.r.SetReturnValue(value)
	if s.arg5 != nil {
		s.r.SetArg5(*s.arg5)
	}
	if err := ptrace.SetRegs(s.tid, s.r); err != nil {
		return err
	}
	return s.thread.RunOn(nil)
}

// Run lets the kernel run the call with args.
func (s *SeccompStop) Run(args [6]uint64) error {
	if args != s.args {
		s.r.SetArgs(args)
		if err := ptrace.SetRegs(s.tid, s.r); err != nil {
			return err
		}
	}
	// The marker stays for the call (the filter's recheck after this stop
	// would notify it again); its exit stop removes it.
	return s.thread.RunOn(s.arg5)
}

// Steps runs plan in place of the call.
func (s *SeccompStop) Steps(plan shim.Plan) error { return s.thread.RunPlan(s.r, plan, s.arg5) }

// RestartStop answers a notified call at the stop on its way out of it,
// after the answer -ERESTARTNOINTR: the kernel would restart the call.
type RestartStop struct {
	thread Thread
	tid    int
	r      *ptrace.Regs
	nr     uintptr
}

// AtRestart returns call, made by thread th (tid) and answered
// -ERESTARTNOINTR, at th's stop with registers r on its way out, and its
// answer.
func AtRestart(th Thread, tid int, r *ptrace.Regs, call shim.Call) (route.Call, *RestartStop) {
	return route.Call{Tid: tid, Call: call, Memory: memory(tid)}, &RestartStop{thread: th, tid: tid, r: r, nr: call.Nr}
}

// Return makes the call return value instead of restarting.
func (s *RestartStop) Return(value int64) error {
	s.r.SetReturnValue(value)
	s.r.SetSyscallNr(-1)
	if err := ptrace.SetRegs(s.tid, s.r); err != nil {
		return err
	}
	return s.thread.RunOn(nil)
}

// Run restarts the call with args.
func (s *RestartStop) Run(args [6]uint64) error {
	s.r.RerunSyscall(int64(s.nr))
	s.r.SetArgs(args)
	if err := ptrace.SetRegs(s.tid, s.r); err != nil {
		return err
	}
	return s.thread.RunOn(nil)
}

// Steps runs plan, its first step re-executing the system call
// instruction.
func (s *RestartStop) Steps(plan shim.Plan) error { return s.thread.RunPlan(s.r, plan, nil) }
