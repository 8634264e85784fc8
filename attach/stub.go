package attach

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// The stub makes mode full's commonest plans cost one ptrace stop instead
// of two or more. A stat of a path must read the owner xattr and then stat;
// from a stop the thread can make one call and must stop again for the
// tracer to see its result, although the result nearly always only says
// "no owner recorded", after which the stat goes straight to the caller.
// The stub is a page of code (package stub) at the start of the region
// (region.go, stub/region.go). A fused plan (shim.FusablePlan) hands it its first two
// steps in a frame in the plan's slot; the tracer sends the thread there
// from the seccomp stop instead of running the call. The stub makes the
// first call; when the result is one the plan's rule lets through, it makes
// the second and returns to the caller with that result and every other
// register as the call would leave it. Otherwise it makes the trap call, a
// seccomp stop at which the tracer carries on with the plan as usual.
//
// The filter lets calls made from the stub's page through (the first and
// second call must not stop) and traces the trap call.

// tryFused runs the first steps of run (first, just returned by its Next)
// in the stub if the plan allows and its scratch area is a slot of the
// region. The thread is at the seccomp stop with registers run.saved. It
// reports whether it did.
func (t *Tracer) tryFused(th *thread, run *planRun, first *shim.Step) (bool, error) {
	if run.lease == nil || !run.lease.inSlot || run.arg5 != nil {
		return false, nil
	}
	fp, ok := run.plan.(shim.FusablePlan)
	if !ok {
		return false, nil
	}
	second, rule, ok := fp.Fuse()
	if !ok {
		return false, nil
	}
	frame := stub.SlotFrame(run.lease.slot)
	pieces, addrs := [][]byte{stub.Frame(run.saved, first, second, rule, t.filterOfImage())}, []uint64{frame}
	if len(first.In) > 0 {
		pieces, addrs = append(pieces, first.In), append(addrs, first.InAddr)
	}
	if err := (ptrace.Memory{Tid: th.tid}).WriteScattered(pieces, addrs); err != nil {
		t.log.Debug("stub: cannot write the frame", "tid", th.tid, "err", err)
		return false, nil
	}
	cur := run.saved.Clone()
	stub.Enter(cur, frame)
	cur.SetSyscallNr(-1) // at the seccomp stop: the call itself is not made
	cur.SetReturnValue(0)
	if err := ptrace.SetRegs(th.tid, cur); err != nil {
		return false, err
	}
	s := &run.lease.rg.slots[run.lease.slot]
	s.state, s.run = slotFused, run
	run.step = first
	th.plan = nil
	t.result.Fused++
	return true, ptrace.Resume(th.tid, 0)
}

// onStubTrap carries on with the plan of a stub that trapped: the results
// are in the frame, the thread at the trap call's seccomp stop. It reports
// false if the trap is no fused plan's of this thread.
func (t *Tracer) onStubTrap(th *thread, r *ptrace.Regs) (bool, error) {
	frame := stub.FrameOf(r)
	i, ok := stub.SlotOf(frame)
	if !ok || th.region == nil {
		return false, nil
	}
	s := &th.region.slots[i]
	if s.state != slotFused || s.owner != th.tid || s.run == nil {
		return false, nil
	}
	run := s.run
	s.state, s.run = slotPlan, nil
	b := make([]byte, stub.FrameSecondDone+8-stub.FrameRes1)
	if err := (ptrace.Memory{Tid: th.tid}).ReadAt(b, frame+stub.FrameRes1); err != nil {
		return true, fmt.Errorf("stub: read result: %w", err)
	}
	word := func(off int) int64 { return int64(binary.LittleEndian.Uint64(b[off-stub.FrameRes1:])) }
	res := word(stub.FrameRes1)
	th.plan = run
	if word(stub.FrameSecondDone) == 1 {
		// Back after the second step: a special file's stat to patch.
		th.plan = nil
		return true, t.finishPlan(th, run, run.plan.(shim.FusablePlan).Fused(word(stub.FrameRes2)))
	}
	step := run.step.Else
	if step == nil || res != -int64(run.step.ElseOn) {
		var final int64
		if step, final = run.plan.Next(res); step == nil {
			th.plan = nil
			return true, t.finishPlan(th, run, final)
		}
	} else if run.step.ElseOn == unix.ENOSYS {
		t.missing[run.step.Nr] = true
	}
	// A direct step runs again from the caller's own registers (the trap
	// call is skipped); any other replaces the trap call.
	return true, t.runStep(th, run, r, step, step.Direct)
}
