package attach

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route/inprocess"
	"github.com/remainroot/remainroot/attach/route/notify"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// The in-process route in a trace (Options.InProcess, mode full; see
// docs/in-process-route.md and package inprocess): at every exec the
// tracer puts the SIGSYS handler and its filter layer into the new
// program, at the stop after the exec, before its first instruction, and
// then releases the process as a lazy trace does when its credentials are
// its real ones. A released process's stats are then answered in the
// process; what the handler does not decide it asks as a notification,
// which the tracer answers as any (an escalation when it needs a stop).
// A released process's execve is notified: the tracer seizes it while
// the call waits, lets it run, and is there at the exec.

// isExec reports whether nr is execve or execveat.
func isExec(nr uintptr) bool { return nr == unix.SYS_EXECVE || nr == unix.SYS_EXECVEAT }

// inProcessData is the data page the handler of a new program gets, and
// the image filter Install must map (none when the region holds it):
// with image owners, the filter, or every stat asked when there is none;
// special files always asked (a special owner recorded after the exec
// would otherwise be missed).
func (t *Tracer) inProcessData(th *thread) (inprocess.Data, []byte) {
	d := inprocess.Data{Special: true}
	if t.imageOwners() == nil {
		return d, nil
	}
	f := t.filterOfImage()
	switch {
	case len(f.Bits) == 0:
		d.FilterAll = true
		return d, nil
	case th.region != nil && th.region.mapped:
		d.FilterAddr, d.FilterShift = stub.FilterAddr, f.Shift
		return d, nil
	}
	d.FilterAddr, d.FilterShift = stub.FilterAddr, f.Shift
	return d, f.Bits
}

// installInProcess puts the route into th's process, stopped at its
// PTRACE_EVENT_STOP after an exec (the region already mapped). A failure
// leaves the process on the tracer's routes, and says why.
func (t *Tracer) installInProcess(th *thread) {
	r, err := ptrace.GetRegs(th.tid)
	if err == nil {
		d, filter := t.inProcessData(th)
		err = inprocess.Install(th.tid, r, d, th.layered, filter)
	}
	if err == nil {
		th.layered = true
	}
	if err != nil {
		t.log.Warn("in-process route not installed: this program's stats stop for the tracer",
			"tid", th.tid, "err", err)
		return
	}
	if th.region == nil {
		th.region = &region{}
	}
	th.region.layer = true
	t.result.InProcess++
	t.log.Debug("in-process route installed", "tid", th.tid)
}

// afterExecInProcess asks for the route at th's next stop: the stop of
// the interrupt newRegion sent, or one sent here.
func (t *Tracer) afterExecInProcess(th *thread) error {
	th.inProcessPending = true
	interrupted := th.regionPending
	if interrupted && t.releasable(th) {
		// To be released once the route is in: no stub region (an
		// escalated call maps the slots it needs, lazy.go), which saves
		// its mappings at every exec.
		th.regionPending = false
		th.region = &region{lazy: true}
	}
	if interrupted {
		return nil
	}
	return ptrace.Interrupt(th.tid)
}

// answerExec answers the execve (execveat) of thread tid that the tracer
// does not hold: the thread is seized while the call waits (its whole
// process when it has other threads, which the exec ends), and
// interrupted, so that the tracer sees the exec, or the stop after a
// failed one; then the call runs. A thread that cannot be seized is
// refused the exec with EPERM: the new program would die at its first
// stat, the layer trapping it with no handler. Callers hold t.mu.
func (t *Tracer) answerExec(tid int, ans *notify.Answer) *tracerWork {
	ans.Continue()
	refuse := seccomp.NotifResp{ID: ans.Resp.ID, Error: -int32(unix.EPERM)}
	t.log.Debug("exec of a released process: seized for it", "tid", tid)
	return &tracerWork{failResp: &refuse, do: func() error {
		if err := t.seizeForExec(tid); err != nil {
			return fmt.Errorf("thread %d: its exec is refused (EPERM): it cannot be attached to put the in-process route into the new program: %w",
				tid, attachHint(err))
		}
		return nil
	}}
}

// seizeForExec seizes the thread tid, waiting in its execve, for the
// exec (see answerExec). Runs on the tracer's thread.
func (t *Tracer) seizeForExec(tid int) error {
	tgid := tgidOf(tid)
	if tgid == 0 {
		return fmt.Errorf("thread %d: %w", tid, unix.ESRCH)
	}
	real, err := procfs.RealCredsMapped(tid, t.mapper(tid))
	if err != nil {
		return err
	}
	var th *thread
	if n, err := procfs.StatusField(tgid, "Threads"); err == nil && n == "1" && tgid == tid {
		if err := ptrace.Seize(tid); err != nil {
			return err
		}
		th = &thread{tid: tid, emulating: true, creds: real, real: real, loose: true}
		t.threads[tid] = th
	} else {
		if err := t.attachProcess(tid, real, real); err != nil {
			return err
		}
		th = t.threads[tid]
		th.loose = true
	}
	th.execSeized = true
	// The old program's data page says whether its threads have the
	// layer, which the new one keeps.
	th.layered = inprocess.Layered(ptrace.Memory{Tid: tid}.ReadAt)
	return ptrace.Interrupt(tid)
}

// markStep puts the tracer's marker into a plan step that the layer of
// th's process would otherwise trap (its sixth argument: none of those
// calls has one).
func markStep(th *thread, step *shim.Step) *shim.Step {
	if th.region == nil || !th.region.layer || !inprocess.Trapped(step.Nr) {
		return step
	}
	marked := *step
	marked.Args[5] = shim.InjectMarker
	return &marked
}

// hasLayer reports whether the process of tid, attached, has the route.
func hasLayer(tid int) bool {
	return inprocess.Installed(ptrace.Memory{Tid: tid}.ReadAt)
}

// releaseProcessAfterCall lets the process of th go after the call it was
// attached for (th stopped on its way out): th now, its other threads at
// their next stop, when no thread of it has credentials of its own. A
// lazy trace without the route keeps such a process attached: a
// sibling's execve would otherwise take over the leader's id unseen; here
// execs are notified.
func (t *Tracer) releaseProcessAfterCall(th *thread) error {
	th.escalatedProcess = false
	tgid := tgidOf(th.tid)
	var siblings []*thread
	for _, o := range t.threads {
		if o == th || tgidOf(o.tid) != tgid {
			continue
		}
		if o.diverged() || o.plan != nil || o.escalation.call != nil || o.escalation.signalsOwed() {
			return ptrace.Resume(th.tid, 0)
		}
		siblings = append(siblings, o)
	}
	if th.diverged() || !t.releasable(th) {
		return ptrace.Resume(th.tid, 0)
	}
	for _, o := range siblings {
		o.releaseAtStop = true
		if err := ptrace.Interrupt(o.tid); err != nil {
			t.tolerate(o.tid, err)
		}
	}
	return t.release(th, "call done")
}
