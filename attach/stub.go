package attach

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// The stub makes mode full's commonest plans cost one ptrace stop instead
// of two or more. A stat of a path must read the owner xattr and then stat;
// from a stop the thread can make one call and must stop again for the
// tracer to see its result, although the result nearly always only says
// "no owner recorded", after which the stat goes straight to the caller.
// The stub is a page of code (stub_<arch>.go) the tracer maps into a
// process at stubAddr, read and execute only. A fused plan
// (shim.FusablePlan) hands it its first two steps in a frame below the
// thread's scratch area; the tracer sends the thread there from the
// seccomp stop instead of running the call. The stub makes the first call;
// when the result is one the plan's rule lets through, it makes the second
// and returns to the caller with that result and every other register as
// the call would leave it. Otherwise it makes the trap call, a seccomp stop
// at which the tracer carries on with the plan as usual.
//
// The filter lets calls made from the stub's page through (the first and
// second call must not stop) and traces the trap call. The stub's stack
// pointer is the frame, below everything the plan wrote, so a signal
// handler running while the thread is in the stub gets its frame further
// down and cannot overwrite them; if the handler makes a stat of its own,
// that stat gets its own frame further down still.

// fusedRuns are the plans whose stub is running on a thread, by frame.
type fusedRuns map[uint64]*planRun

// tryFused runs the first steps of run (first, just returned by its Next)
// in the stub if the plan allows and the process has or can get the stub.
// r are the registers of the seccomp stop. It reports whether it did; when
// it did not, the thread is still at the seccomp stop, or (after a failed
// mapping) at a syscall-exit stop, which cur then holds.
func (t *Tracer) tryFused(th *thread, run *planRun, first *shim.Step) (done bool, cur *regs, reexec bool, err error) {
	cur = run.saved.clone()
	if len(stubCode) == 0 || th.stub.failed || run.arg5 != nil {
		return false, cur, false, nil
	}
	fp, ok := run.plan.(shim.FusablePlan)
	if !ok {
		return false, cur, false, nil
	}
	second, rule, ok := fp.Fuse()
	if !ok {
		return false, cur, false, nil
	}
	atExit := false
	if !th.stub.mapped || !stubPresent(th.tid) {
		exit, err := mapStub(th.tid, cur)
		if err != nil {
			th.stub.failed = true
			t.log.Warn("cannot map the stub; stats take their two stops", "tid", th.tid, "err", err)
			if exit == nil {
				return false, cur, false, nil
			}
			// The call was replaced by the mmap: carry on from its exit.
			return false, exit, true, nil
		}
		th.stub.mapped = true
		cur, atExit = exit, true
	}
	frame := scratchAddr(run.saved.sp()) - frameSize
	pieces, addrs := [][]byte{stubFrame(run.saved, first, second, rule)}, []uint64{frame}
	if len(first.In) > 0 {
		pieces, addrs = append(pieces, first.In), append(addrs, first.InAddr)
	}
	if err := (memory{th.tid}).WriteScattered(pieces, addrs); err != nil {
		// The stack cannot take the frame: the plan runs with stops.
		t.log.Debug("stub: cannot write the frame", "tid", th.tid, "err", err)
		return false, cur, atExit, nil
	}
	cur.setPC(stubAddr)
	cur.setSP(frame)
	cur.setSyscallNr(-1) // at the seccomp stop: the call itself is not made
	cur.setReturnValue(0)
	if err := setRegs(th.tid, cur); err != nil {
		return false, cur, false, err
	}
	for f := range th.fused {
		if f <= frame {
			delete(th.fused, f) // frames at or below this one are gone
		}
	}
	if th.fused == nil {
		th.fused = make(fusedRuns)
	}
	run.step = first
	th.fused[frame] = run
	th.plan = nil
	t.result.Fused++
	return true, cur, false, resume(th.tid, 0)
}

// onStubTrap carries on with the plan of a stub that trapped: the first
// step's result is in the frame, the thread at the trap call's seccomp
// stop, with the stub's stack.
func (t *Tracer) onStubTrap(th *thread, run *planRun, r *regs) error {
	b := make([]byte, frameSecondDone+8-frameRes1)
	if err := (memory{th.tid}).ReadAt(b, r.sp()+frameRes1); err != nil {
		return fmt.Errorf("stub: read result: %w", err)
	}
	word := func(off int) int64 { return int64(binary.LittleEndian.Uint64(b[off-frameRes1:])) }
	res := word(frameRes1)
	th.plan = run
	if word(frameSecondDone) == 1 {
		// Back after the second step: a special file's stat to patch.
		th.plan = nil
		return t.finishPlan(th, run, run.plan.(shim.FusablePlan).Fused(word(frameRes2)))
	}
	step := run.step.Else
	if step == nil || res != -int64(run.step.ElseOn) {
		var final int64
		if step, final = run.plan.Next(res); step == nil {
			th.plan = nil
			return t.finishPlan(th, run, final)
		}
	} else if run.step.ElseOn == unix.ENOSYS {
		t.missing[run.step.Nr] = true
	}
	// A direct step runs again from the caller's own registers (the trap
	// call is skipped); any other replaces the trap call.
	return t.runStep(th, run, r, step, step.Direct)
}

// stubPresent reports whether tid's process has the stub at stubAddr (a
// program may have unmapped it, or mapped something else there).
func stubPresent(tid int) bool {
	b := make([]byte, len(stubCode))
	if err := (memory{tid}).ReadAt(b, stubAddr); err != nil {
		return false
	}
	return string(b) == string(stubCode)
}

// mapStub turns the call tid is stopped at (a seccomp stop with registers
// cur) into an mmap of the stub's page, runs it and writes the stub there
// (through /proc/TID/mem: the page is not writable). It returns the
// registers of the mmap's exit stop, where the thread is left, or nil if
// the thread was not moved from the seccomp stop.
func mapStub(tid int, cur *regs) (*regs, error) {
	r := cur.clone()
	r.setSyscallNr(unix.SYS_MMAP)
	r.setArgs([6]uint64{stubAddr, stubPageSize, unix.PROT_READ | unix.PROT_EXEC,
		unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED_NOREPLACE, ^uint64(0), 0})
	if err := setRegs(tid, r); err != nil {
		return nil, err
	}
	if err := waitSyscallStop(tid); err != nil {
		return nil, err
	}
	exit, err := getRegs(tid)
	if err != nil {
		return nil, err
	}
	if res := exit.returnValue(); uint64(res) != stubAddr {
		if res < 0 {
			return exit, fmt.Errorf("mmap at %#x: %w", uint64(stubAddr), unix.Errno(-res))
		}
		// A kernel without MAP_FIXED_NOREPLACE put it elsewhere.
		return exit, fmt.Errorf("mmap at %#x gave %#x", uint64(stubAddr), uint64(res))
	}
	if err := (memory{tid}).WriteAt(stubCode, stubAddr); err != nil {
		return exit, fmt.Errorf("write the stub: %w", err)
	}
	return exit, nil
}
