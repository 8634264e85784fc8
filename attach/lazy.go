package attach

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/inject"
	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route"
	"github.com/remainroot/remainroot/attach/route/notify"
	"github.com/remainroot/remainroot/attach/route/ptracestop"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// A lazy trace (Options.Lazy, mode creds) keeps a process attached only
// while remainroot needs it:
//
//   - every emulated call reaches the supervisor as a seccomp notification
//     (Filter.Lazy, or the runtime's filter: LazyRuntimeNotifiedCalls), so
//     a thread needs no tracer for its calls to be answered;
//   - a process is released (PTRACE_DETACH) at its first execve when its
//     emulated credentials equal its real ones, and again at any later
//     execve where they are equal once more;
//   - a released process's calls are answered from its real credentials,
//     read from /proc: getters run in the kernel, which knows the answer;
//     a setter whose emulated result equals the real credentials gets
//     its value; a setter that makes them differ (the divergence: setuid
//     to an id the namespace does not map, setgroups, capset, ...) gets
//     its whole process seized while the call waits, so that its forks,
//     clones and execs are followed from then on, and only then its value;
//   - a call that needs a ptrace stop (a chown whose rule depends on the
//     object's owner) is brought to one: the thread is seized and
//     interrupted while it waits, the call is answered -ERESTARTNOINTR,
//     and at the stop on its way out (PTRACE_EVENT_STOP) the tracer
//     emulates it there (emulateAtRestart). A single-threaded process is
//     detached again when the call returns; the thread of a multi-threaded
//     one stays attached with its whole process (a sibling's execve would
//     otherwise take over a traced leader's id unseen).
//
// Seizing needs ptrace requests from the tracer's thread, which sleeps in
// wait4: the notification goroutine hands it the work and rings the
// doorbell (doorbell.go), a tracee of its own whose stop wakes it.

// tracerWork is something only the tracer's thread can do, asked for by
// the notification goroutine. do runs with t.mu held.
type tracerWork struct {
	do   func() error
	done chan error
	// failResp, when set, answers the call if do fails; otherwise the
	// kernel's answer stands (CONTINUE).
	failResp *seccomp.NotifResp
}

// errNoDoorbell means the tracer's thread cannot be reached.
var errNoDoorbell = errors.New("the tracer's doorbell is gone")

// needsModelUnattached reports whether a notified call of a thread that is
// not attached must be decided by the model: getters (and prctl's getter
// options) are not, the kernel's answer is the emulated one.
func needsModelUnattached(s shim.Syscall, call shim.Call) bool {
	if s.Class == shim.Getter {
		return false
	}
	if s.Nr == unix.SYS_PRCTL {
		c, ok := shim.PrctlOptions[uint32(call.Args[0])]
		return ok && c == shim.Setter
	}
	return true
}

// kernelChowns reports whether the kernel's answer to a chown-family call
// of unattached thread tid is the emulated one (shim.KernelAnswersChown),
// with the thread's id maps: dpkg's chown of every file to root costs a
// notification, no /proc read of the thread's credentials.
func (t *Tracer) kernelChowns(tid int, s shim.Syscall, call shim.Call) bool {
	var m *procfs.IDMapper
	return shim.KernelAnswersChown(s, call, func(id uint32, group bool) bool {
		if m == nil {
			mp := t.mapper(tid)
			m = &mp
		}
		if group {
			return insideMapped(m.GIDMap, id)
		}
		return insideMapped(m.UIDMap, id)
	})
}

// answerUnattached computes the answer to notification n (call c) of a
// thread the tracer does not hold, and the work the tracer's thread must
// do before it is sent. Callers hold t.mu.
func (t *Tracer) answerUnattached(fd int, n *seccomp.Notif, c route.Call, ans *notify.Answer) *tracerWork {
	ans.Continue()
	tid, call := c.Tid, c.Call
	s, ok := shim.Lookup(call.Nr)
	if !ok || !needsModelUnattached(s, call) || (!t.opts.Files && t.kernelChowns(tid, s, call)) {
		return nil
	}
	if t.preExec {
		_, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", tid))
		if errors.Is(err, os.ErrPermission) {
			// Still the runtime, non-dumpable before the container's
			// exec (adoptUnattached): its calls are its own.
			return nil
		}
		if err == nil {
			t.preExec = false
		}
	}
	real, err := procfs.RealCredsMapped(tid, t.mapper(tid))
	if err != nil {
		t.log.Debug("unattached thread gone", "tid", tid, "err", err)
		return nil
	}
	if !seccomp.IDValid(fd, n.ID) {
		return nil
	}
	tmp := &thread{tid: tid, emulating: true, creds: real, real: real}
	creds, out := t.emulate(tmp, real, call, c.Memory, env{t: t, th: tmp})
	if !seccomp.IDValid(fd, n.ID) {
		return nil
	}
	t.result.Notifications++
	if t.debugEnabled() {
		defer func() { t.logNotified(tid, call, out.Kind == shim.Return && !real.Equal(creds), ans.Resp) }()
	}
	if route.Deliver(ans, out) == route.ErrNeedsStop {
		// Arguments to rewrite or steps to run: a ptrace stop.
		ans.Restart()
		return &tracerWork{do: func() error {
			if err := t.escalateUnattached(tid, real, call); err != nil {
				return fmt.Errorf("thread %d: %s needs a ptrace stop and cannot be attached: %w",
					tid, callName(call.Nr), attachHint(err))
			}
			return nil
		}}
	}
	if out.Kind != shim.Return || creds.Equal(real) {
		return nil
	}
	// The divergence: from now on the kernel's credentials are not the
	// emulated ones, and its children must inherit the emulated.
	return &tracerWork{do: func() error {
		if err := t.attachProcess(tid, creds, real); err != nil {
			return fmt.Errorf("process of thread %d changes its credentials (%s) and cannot be attached: %w",
				tid, callName(call.Nr), attachHint(err))
		}
		return nil
	}}
}

// attachHint explains the usual reason a seize is refused.
func attachHint(err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w (another tracer, such as strace or gdb, holds it; the kernel's answer stands)", err)
	}
	return err
}

// attachProcess seizes every thread of the process of tid, whose call has
// just made its emulated credentials creds (real: the kernel's). Runs on
// the tracer's thread.
func (t *Tracer) attachProcess(tid int, creds, real shim.Creds) error {
	tgid := tgidOf(tid)
	if tgid == 0 {
		return fmt.Errorf("thread %d: %w", tid, unix.ESRCH)
	}
	if err := t.seizeProcess(tgid, true); err != nil {
		return err
	}
	rg := t.looseRegion(tid, tgid)
	if tids, err := procfs.TaskIDs(tgid); err == nil {
		for _, id := range tids {
			if o := t.threads[id]; o != nil && o.region == nil {
				o.region = rg
			}
		}
	}
	th := t.threads[tid]
	if th == nil {
		return fmt.Errorf("thread %d was not seized with its process", tid)
	}
	th.creds, th.real = creds, real
	t.result.Attached++
	t.log.Debug("attached: credentials diverge", "tid", tid, "pid", tgid, "creds", slog.AnyValue(creds))
	return nil
}

// escalateUnattached brings the call of unattached thread tid, waiting in
// its notification, to a ptrace stop: see emulateAtRestart. Runs on the
// tracer's thread.
func (t *Tracer) escalateUnattached(tid int, real shim.Creds, call shim.Call) error {
	tgid := tgidOf(tid)
	if tgid == 0 {
		return fmt.Errorf("thread %d: %w", tid, unix.ESRCH)
	}
	var th *thread
	if n, err := procfs.StatusField(tgid, "Threads"); err == nil && n == "1" && tgid == tid {
		// Alone in its process and inside the call: no thread can be
		// created or exec meanwhile, so it can be let go afterwards.
		if err := ptrace.Seize(tid); err != nil {
			return err
		}
		th = &thread{tid: tid, emulating: true, creds: real, real: real, loose: true,
			region: t.looseRegion(tid, tgid)}
		t.threads[tid] = th
	} else {
		if err := t.attachProcess(tid, real, real); err != nil {
			return err
		}
		th = t.threads[tid]
		th.escalatedProcess = true
	}
	th.escalation.call, th.escalation.byInterrupt = &call, true
	t.result.Escalated++
	return ptrace.Interrupt(tid)
}

// looseRegion returns the slots region of process tgid for a thread taken
// in from outside a trace: a process keeps its region between short
// attachments, until its next execve (checked by reading it).
func (t *Tracer) looseRegion(tid, tgid int) *region {
	rg := t.loose[tgid]
	if rg == nil {
		if len(t.loose) >= 256 {
			for pid := range t.loose {
				if unix.Kill(pid, 0) == unix.ESRCH {
					delete(t.loose, pid)
				}
			}
		}
		rg = &region{lazy: true, layer: t.opts.InProcess && hasLayer(tid)}
		t.loose[tgid] = rg
		return rg
	}
	if rg.mapped && (ptrace.Memory{Tid: tid}).ReadAt(make([]byte, 1), stub.DataAddr) != nil {
		// A new program: the slots went with the old one.
		*rg = region{lazy: true}
	}
	rg.layer = t.opts.InProcess && hasLayer(tid)
	return rg
}

// emulateAtRestart emulates call (the notified call, with its arguments)
// of th, stopped on its way out of it after the answer -ERESTARTNOINTR
// (registers r: at PTRACE_EVENT_STOP, or at the escalation signal's
// delivery stop). The kernel would restart the call; instead its outcome
// is made here: a value, rewritten arguments (the call runs again as
// those), or a plan whose first step re-executes the system call
// instruction.
func (t *Tracer) emulateAtRestart(th *thread, r *ptrace.Regs, call shim.Call) error {
	if r.ReturnValue() != -ptrace.ERestartNoIntr {
		// Not on the way out of the answered call (it was restarted by
		// a signal handler first): it will be notified again.
		return t.callDone(th)
	}
	t.countStop("escalated " + callName(call.Nr))
	if s, ok := shim.Lookup(call.Nr); ok && s.NeedsStop() && th.region.slotsMissing() {
		t.mapSlotsAtRestart(th, r)
	}
	if rg := th.region; rg != nil && rg.mapped && !t.slotFree(rg, th.tid) {
		// Every slot is some thread's plan (hundreds of threads chowning
		// at once): the call restarts, is notified again, and comes back
		// when plans have ended. A scratch area on the stack could land
		// on a goroutine's small stack.
		t.countStop("escalated, no free slot")
		return t.callDone(th)
	}
	lease := &scratchLease{t: t, th: th, sp: r.SP()}
	c, answer := ptracestop.AtRestart(atRestart{t, th, lease}, th.tid, r, call)
	before := th.creds
	creds, out := t.emulate(th, th.creds, c.Call, c.Memory, env{t, th, r.SP(), lease})
	if out.Kind != shim.Steps {
		lease.release()
	}
	th.creds = creds
	if th.loose && !creds.Equal(th.real) {
		// Cannot happen for the calls that stop (none changes
		// credentials), but if one did the process must be followed.
		th.loose = false
		if err := t.seizeProcess(tgidOf(th.tid), true); err != nil {
			t.log.Error("a diverging call could not attach its process", "tid", th.tid, "err", err)
		}
	}
	if t.log.Enabled(nil, slog.LevelDebug) {
		t.log.Debug("syscall", "tid", th.tid, "call", callName(call.Nr), "args", call.Args[:3],
			"via", "ptrace", "answer", stopAnswer(out), "changed", !before.Equal(creds))
	}
	return route.Deliver(answer, out)
}

// mapSlotsAtRestart maps the slots of th's lazy region from a stop
// outside a system call (emulateAtRestart's), by an injected mmap. A
// mapping already there is the region of an earlier attachment.
func (t *Tracer) mapSlotsAtRestart(th *thread, r *ptrace.Regs) {
	rg := th.region
	res, err := inject.Syscall(th.tid, r, unix.SYS_MMAP, stub.MmapArgs(stub.DataAddr, stub.Slots*stub.SlotSize, unix.PROT_READ|unix.PROT_WRITE), nil, 0)
	if err == nil {
		err = stub.MmapError(stub.DataAddr, res)
	}
	switch {
	case err == nil, errors.Is(err, unix.EEXIST):
		rg.mapped = true
	default:
		rg.failed = true
		t.log.Warn("cannot map the region's slots; plans use the stack", "tid", th.tid, "err", err)
	}
}

// callDone lets th run on after an emulated call: a thread attached only
// for that call is detached.
func (t *Tracer) callDone(th *thread) error {
	if th.escalatedProcess && t.opts.InProcess {
		return t.releaseProcessAfterCall(th)
	}
	if !th.loose {
		return ptrace.Resume(th.tid, 0)
	}
	return t.release(th, "call done")
}

// release detaches th, stopped at a ptrace-stop, and forgets it.
func (t *Tracer) release(th *thread, why string) error {
	delete(t.threads, th.tid)
	t.result.Released++
	t.log.Debug("released", "tid", th.tid, "why", why)
	return ptrace.Retry("ptrace(PTRACE_DETACH)", func() error { return ptrace.Raw(unix.PTRACE_DETACH, th.tid, 0, 0) })
}

// releasable reports whether th, at an execve stop, can be let go: its
// emulated credentials are the kernel's and nothing is pending for it.
func (t *Tracer) releasable(th *thread) bool {
	return t.lazy && th.emulating && !th.diverged() && th.shadow == nil && th.plan == nil &&
		th.escalation.call == nil && !th.escalation.signalsOwed()
}
