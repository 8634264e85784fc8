package attach

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/shim"
)

// Running a shim.Plan: the thread stopped at a seccomp stop makes the
// plan's system calls one after the other, and the emulated call returns
// the plan's final value. The first step replaces the call at the seccomp
// stop; each further step re-executes the system call instruction with new
// registers from the previous step's exit stop. Signals stay blocked
// between steps (no user code, and so no signal frame over the scratch
// area, runs in between), except during a step that may block; a plan that
// never re-executes a step with scratch inputs (a stat: getxattr, then the
// stat itself) leaves the mask alone.

// scratchSize is the room a plan may use below the thread's stack pointer.
const scratchSize = shim.ScratchSize

// allSignals blocks every signal the kernel lets a thread block.
const allSignals = ^uint64(0)

// planRun is a plan in progress on one thread.
type planRun struct {
	plan  shim.Plan
	saved *ptrace.Regs // the registers at the seccomp stop
	mask  uint64       // the thread's own signal mask,
	// masked says whether the tracer has changed it.
	masked bool
	// reentering: the next syscall stop is the entry of a re-executed
	// step, not the exit of the current one.
	reentering bool
	// step is the step in progress.
	step *shim.Step
	// arg5, for an escalated call, is the thread's own sixth argument
	// register: the marker stays in every step (re-executed steps must
	// stop, not be notified), so no step returns to the thread by itself
	// and the end of the plan puts it back.
	arg5 *uint64
	// lease is the plan's scratch area, given back at its end.
	lease *scratchLease
	// directLast: the step in progress is the plan's last, the call
	// itself, marked for the in-process route's layer: its result is
	// the plan's.
	directLast bool
}

// scratchAddr is where a plan may put its data for a thread stopped with
// stack pointer sp.
func scratchAddr(sp uint64) uint64 { return (sp - ptrace.RedZone - scratchSize) &^ 63 }

// startPlan begins p on th, stopped at the seccomp stop with registers r.
func (t *Tracer) startPlan(th *thread, r *ptrace.Regs, p shim.Plan, arg5 *uint64, lease *scratchLease) error {
	run := &planRun{plan: p, saved: r.Clone(), arg5: arg5, lease: lease}
	step, final := p.Next(0)
	if step == nil {
		th.plan = nil
		return t.finishPlan(th, run, final)
	}
	th.plan = run
	if done, err := t.tryFused(th, run, step); done || err != nil {
		return err
	}
	return t.runStep(th, run, r.Clone(), step, false)
}

// startPlanAtRestart begins p on th, stopped outside a system call on its
// way out of the call (registers r: emulateAtRestart): every step, the
// first too, re-executes the system call instruction.
func (t *Tracer) startPlanAtRestart(th *thread, r *ptrace.Regs, p shim.Plan, lease *scratchLease) error {
	run := &planRun{plan: p, saved: r.Clone(), lease: lease}
	step, final := p.Next(0)
	if step == nil {
		return t.finishPlan(th, run, final)
	}
	th.plan = run
	return t.runStep(th, run, r.Clone(), step, true)
}

// runStep sets up step in registers cur and resumes th to its syscall
// stops. reexec says whether cur belongs to an exit stop, from which the
// system call instruction must run again.
func (t *Tracer) runStep(th *thread, run *planRun, cur *ptrace.Regs, step *shim.Step, reexec bool) error {
	// With the in-process route's layer a trapped call carries the
	// marker, which must not return to the thread; and its filter
	// notifies what a tracing one stops, so a direct step returning by
	// itself would come back as a notification. So there a direct step
	// runs as any, and its result ends the plan, which gives the thread
	// its registers back.
	run.directLast = step.Direct && t.opts.InProcess
	step = markStep(th, step)
	if step.Direct && reexec && run.arg5 == nil && !run.directLast {
		// The original call again, returning to the thread by itself: it
		// will pass the seccomp stop it meets once more untouched.
		r := run.saved.Clone()
		r.RerunSyscall(int64(step.Nr))
		r.SetArgs(step.Args)
		if err := ptrace.SetRegs(th.tid, r); err != nil {
			return err
		}
		if err := run.restoreMask(th.tid); err != nil {
			return err
		}
		th.plan = nil
		run.lease.release()
		if !step.Untraced {
			th.passSeccomp = step.Nr
		}
		return t.callDone(th)
	}
	if len(step.In) > 0 {
		if err := (ptrace.Memory{Tid: th.tid}).WriteAt(step.In, step.InAddr); err != nil {
			return fmt.Errorf("plan: write scratch: %w", err)
		}
	}
	var err error
	if reexec && !step.MayBlock {
		err = run.blockSignals(th.tid)
	} else {
		err = run.restoreMask(th.tid)
	}
	if err != nil {
		return err
	}
	if reexec {
		cur.RerunSyscall(int64(step.Nr))
	} else {
		cur.SetSyscallNr(int64(step.Nr))
	}
	cur.SetArgs(step.Args)
	if err := ptrace.SetRegs(th.tid, cur); err != nil {
		return err
	}
	run.reentering = reexec
	run.step = step
	return ptrace.ResumeToSyscall(th.tid)
}

// onPlanStop handles a syscall or seccomp stop of a thread running a plan.
func (t *Tracer) onPlanStop(th *thread, seccomp bool) error {
	run := th.plan
	if seccomp || run.reentering {
		// The entry (and, for a traced number, the seccomp stop) of a
		// re-executed step: let it run to its exit.
		if !seccomp {
			run.reentering = false
		}
		return ptrace.ResumeToSyscall(th.tid)
	}
	cur, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return err
	}
	if run.directLast {
		th.plan = nil
		return t.finishPlan(th, run, cur.ReturnValue())
	}
	if alt := run.step.Else; alt != nil && cur.ReturnValue() == -int64(run.step.ElseOn) {
		if run.step.ElseOn == unix.ENOSYS {
			t.missing[run.step.Nr] = true
		}
		return t.runStep(th, run, cur, alt, true)
	}
	step, final := run.plan.Next(cur.ReturnValue())
	if step == nil {
		th.plan = nil
		return t.finishPlan(th, run, final)
	}
	return t.runStep(th, run, cur, step, true)
}

// finishPlan makes the emulated call return final with the thread's
// registers as they were, restores its signal mask and lets it run on.
func (t *Tracer) finishPlan(th *thread, run *planRun, final int64) error {
	run.lease.release()
	r := run.saved.Clone()
	r.SetReturnValue(final)
	// From a seccomp stop (a stub's trap) the pending call must not run;
	// from an exit stop this only keeps the restart logic out.
	r.SetSyscallNr(-1)
	if run.arg5 != nil {
		r.SetArg5(*run.arg5)
	}
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	if err := run.restoreMask(th.tid); err != nil {
		return err
	}
	return t.callDone(th)
}

// blockSignals blocks every signal of the thread, remembering its mask.
func (run *planRun) blockSignals(tid int) error {
	if run.masked {
		return ptrace.SetSigmask(tid, allSignals)
	}
	mask, err := ptrace.GetSigmask(tid)
	if err != nil {
		return err
	}
	run.mask, run.masked = mask, true
	return ptrace.SetSigmask(tid, allSignals)
}

// restoreMask gives the thread its own mask back, if it was changed.
func (run *planRun) restoreMask(tid int) error {
	if !run.masked {
		return nil
	}
	run.masked = false
	return ptrace.SetSigmask(tid, run.mask)
}
