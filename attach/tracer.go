package attach

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/auxv"
	"github.com/remainroot/remainroot/attach/inject"
	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route"
	"github.com/remainroot/remainroot/attach/route/ptracestop"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/attach/stub"
	"github.com/remainroot/remainroot/shim"
)

// Options configure a trace.
type Options struct {
	Log *slog.Logger
	// EmulateFromExec starts emulation at each traced thread's first
	// execve (run, hook): what the launcher or the container runtime does
	// before that passes through untouched. Otherwise emulation starts at
	// attach.
	EmulateFromExec bool
	// Files turns on mode full: file ownership recorded in the
	// user.rootlesscontainers xattr and reported by the stat family.
	Files bool
	// ImageOwners, in mode full, gives the owners of files that have no
	// owner record: those their image gave them (package imagestore). It
	// is called once, when the trace first needs them (the stub's image
	// filter at the first region mapped, a stat, a chown), and may block
	// until they are read (the hook reads them while the container
	// starts); nil, or a nil result: none known.
	ImageOwners func() shim.OwnerSource
	// OnMainStop is called on the tracer goroutine when the main process
	// enters a group-stop, with the stopping signal.
	OnMainStop func(sig unix.Signal)
	// OwnThreadOnly makes the wait loop wait for this tracer's tracees
	// alone (__WNOTHREAD), so that several traces can run in one process,
	// each on its own thread (the container supervisor: one per process a
	// runtime hands over).
	OwnThreadOnly bool
	// Admit, when set, is asked before AdoptListener seizes a process: an
	// error refuses it (a process outside the container).
	Admit func(pid int) error
	// Identity, when set, is what the main process's threads become at
	// their first execve, as the kernel would have made them had the
	// runtime been able to switch to it (identity.go).
	Identity *Identity
	// RefusedIDsBeforeExec: before a thread's first execve, the set*id and
	// setgroups calls that the kernel refuses only because the namespace
	// does not map their ids are answered as the kernel with those ids
	// mapped would answer them, and the resulting ids and groups are the
	// thread's from its execve on (a runtime switching to a user).
	RefusedIDsBeforeExec bool
	// Lazy keeps a process attached only while remainroot needs it (mode
	// creds; lazy.go): released at its first execve when its emulated
	// credentials are its real ones, seized again when a call makes them
	// differ, attached for a moment for a call that needs a ptrace stop.
	// It needs the seccomp listener: without one the trace follows every
	// process, as without Lazy.
	Lazy bool
	// InProcess (mode full, with Lazy: the filter is
	// seccomp.Filter.WithInProcess) puts the in-process route into every
	// program at its exec (inprocess.go): its stats are answered in the
	// process, and a process whose credentials are its real ones is
	// released as in a lazy trace.
	InProcess bool
}

// Result is what a finished trace reports.
type Result struct {
	// MainStatus is the wait status of the main process; MainExited says
	// whether it was seen to exit.
	MainStatus unix.WaitStatus
	MainExited bool
	// Stops counts the ptrace stops the tracer handled; Notifications the
	// calls answered through seccomp user notification.
	Stops         uint64
	Notifications uint64
	// StopsBy splits Stops by kind: "seccomp <call>" for a traced call,
	// "plan <call>" for the further stops of its multi-step emulation, and
	// clone, exec, group-stop, event-stop, syscall, signal, exit.
	StopsBy map[string]uint64
	// Fused counts the plans whose first steps the stub made.
	Fused uint64
	// Lazy traces: Attached counts the processes seized because a call
	// made their credentials diverge, Escalated the calls of unattached
	// threads brought to a ptrace stop, Released the detachments (at an
	// execve, or after such a call).
	Attached, Escalated, Released uint64
	// InProcess counts the programs the in-process route went into.
	InProcess uint64
}

// Tracer owns every tracee. Its methods run on the locked goroutine, except
// the answering of seccomp notifications; mu guards the thread table and
// the credentials both share.
type Tracer struct {
	mu      sync.Mutex
	opts    Options
	log     *slog.Logger
	threads map[int]*thread
	main    int
	result  Result
	progs   map[seccomp.Filter][]byte
	special ownerTable
	// imageFilter is the stub's image filter (image_filter.go), built
	// at the first region that maps one.
	imageFilter     stub.Filter
	imageFilterDone bool
	// images is Options.ImageOwners' result, got once (imagesOnce) by
	// imageOwners: from the tracer goroutine and the notification
	// answerer alike.
	images     shim.OwnerSource
	imagesOnce sync.Once
	mappers    map[string]procfs.IDMapper
	// missing are calls found to fail with ENOSYS (a seccomp profile).
	missing map[uintptr]bool
	// attachFilter and onReady belong to an InstallFilter in progress.
	attachFilter seccomp.Filter
	onReady      func(error)
	fatal        error
	// notifying: value-answered calls come as notifications, so getters
	// are never left to the kernel and no getter filter is injected.
	notifying bool
	// adopted is a runtime's listener (AdoptListener) waiting for the
	// tracer's filter to be in place before it is answered; -1 for none.
	adopted int
	// lazy: Options.Lazy in force (lazy.go); bell wakes the tracer's
	// thread for the notification goroutine (doorbell.go); loose holds the
	// regions of processes attached only for a moment, by process id;
	// listeners counts the listeners being answered (a lazy trace lasts
	// while one has processes, attached or not).
	lazy      bool
	mainChild bool // the main process is the tracer's child (run)
	// preExec: an adopted process could not be attached before its exec
	// (adoptUnattached); until a notifying thread is dumpable, calls run
	// natively.
	preExec   bool
	bell      *doorbell
	bellReady chan struct{} // closed once the doorbell is started, or not
	loose     map[int]*region
	listeners int
	// listenerGone is signalled (with mu) when listeners drops.
	listenerGone *sync.Cond
}

// Trace runs a trace on a new goroutine locked to its OS thread. setup runs
// there first: it starts or seizes the tracees through the Session. Trace
// returns when every tracee has gone.
func Trace(opts Options, setup func(*Session) error) (Result, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if last, err := procfs.CapLastCap(); err == nil {
		shim.SetValidCaps(last)
	}
	if err := quietStopNotifications(); err != nil {
		opts.Log.Debug("SA_NOCLDSTOP", "err", err)
	}
	t := &Tracer{opts: opts, log: opts.Log, threads: make(map[int]*thread), progs: make(map[seccomp.Filter][]byte),
		special: make(ownerTable), mappers: make(map[string]procfs.IDMapper),
		missing: make(map[uintptr]bool), adopted: -1, loose: make(map[int]*region), bellReady: make(chan struct{})}
	t.listenerGone = sync.NewCond(&t.mu)
	for _, f := range []seccomp.Filter{seccomp.SetterFilter, seccomp.GetterFilter, seccomp.FullFilter} {
		if _, err := t.program(f); err != nil {
			return Result{}, err
		}
	}
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		// Never unlocked: if this goroutine ended while tracees lived, its
		// thread would exit and PTRACE_O_EXITKILL would kill them.
		runtime.LockOSThread()
		if err := shortSlice(); err != nil {
			t.log.Debug("no short time slice for the tracer's thread", "err", err)
		}
		t.mu.Lock()
		// The doorbell is started after setup (off the command's start-up
		// path): nothing needs it before the command runs.
		t.lazy = opts.Lazy
		err := setup(&Session{t})
		if err == nil && t.lazy {
			if derr := t.startDoorbell(); derr != nil {
				t.log.Error("no doorbell: calls of unattached processes that need the tracer run natively", "err", derr)
			}
		}
		close(t.bellReady)
		t.mu.Unlock()
		if err != nil {
			t.mu.Lock()
			t.abandon()
			t.stopDoorbell()
			res := t.result
			t.mu.Unlock()
			done <- outcome{res, err}
			return
		}
		err = t.loop()
		t.mu.Lock()
		t.stopDoorbell()
		res := t.result
		t.mu.Unlock()
		done <- outcome{res, err}
	}()
	o := <-done
	return o.res, o.err
}

// Session is what setup may do on the tracer's thread.
type Session struct{ t *Tracer }

// SetMain names the process whose exit status the trace reports.
func (s *Session) SetMain(pid int) { s.t.main = pid }

// SeizeProcess seizes every thread of pid, including threads created while
// it works. With emulate, emulation starts now from the threads' real
// credentials.
func (s *Session) SeizeProcess(pid int, emulate bool) error { return s.t.seizeProcess(pid, emulate) }

// InstallFilter injects filter f into process pid (all its threads, with
// SECCOMP_FILTER_FLAG_TSYNC) at the leader's next stop, and calls ready with
// the outcome. A failure ends the trace: every tracee is detached.
func (s *Session) InstallFilter(pid int, f seccomp.Filter, ready func(error)) error {
	t := s.t
	th := t.threads[pid]
	if th == nil {
		return fmt.Errorf("install filter: process %d is not seized", pid)
	}
	t.attachFilter, t.onReady = f, ready
	th.injectPending = injectAttach
	return ptrace.Interrupt(pid)
}

func (t *Tracer) seizeProcess(pid int, emulate bool) error {
	// /proc shows a tracee's tracer as the tracing thread: this one.
	self := fmt.Sprint(unix.Gettid())
	seized := 0
	for {
		tids, err := procfs.TaskIDs(pid)
		if err != nil {
			if seized == 0 {
				return fmt.Errorf("list threads of %d: %w", pid, unix.ESRCH)
			}
			return nil
		}
		found := false
		for _, tid := range tids {
			if _, known := t.threads[tid]; known {
				continue
			}
			if err := ptrace.Seize(tid); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue
				}
				if tp, _ := procfs.StatusField(tid, "TracerPid"); tp == self {
					// Created by a thread already seized: auto-attached.
					continue
				}
				if exited(tid) {
					// A leader that called pthread_exit while its
					// threads run on: a zombie, which the kernel
					// refuses to seize (EPERM) and which makes no
					// call any more.
					continue
				}
				return fmt.Errorf("seize thread %d of %d: %w", tid, pid, err)
			}
			th := &thread{tid: tid}
			if emulate {
				if err := t.startEmulating(th); err != nil {
					return err
				}
			}
			t.threads[tid] = th
			seized++
			found = true
		}
		if !found {
			return nil
		}
	}
}

// exited reports whether thread tid has exited and waits to be reaped
// (state Z or X).
func exited(tid int) bool {
	state, err := procfs.StatusField(tid, "State")
	return err == nil && (strings.HasPrefix(state, "Z") || strings.HasPrefix(state, "X"))
}

func (t *Tracer) startEmulating(th *thread) error {
	c, err := procfs.RealCreds(th.tid)
	if err != nil {
		return fmt.Errorf("thread %d: %w", th.tid, err)
	}
	th.creds, th.real, th.emulating = c, c, true
	t.log.Debug("emulation starts", "tid", th.tid, "creds", slog.AnyValue(c))
	return nil
}

// loop is the wait loop: one wait4 for any tracee, one case per kind of stop.
func (t *Tracer) loop() error {
	for t.live() {
		t.mu.Lock()
		if fatal := t.fatal; fatal != nil {
			t.abandon()
			t.mu.Unlock()
			return fatal
		}
		t.mu.Unlock()
		tid, ws, err := ptrace.Wait4Flags(-1, t.waitFlags())
		if err != nil {
			if errors.Is(err, unix.ECHILD) {
				t.waitListenersGone()
				return nil
			}
			return err
		}
		t.mu.Lock()
		t.result.Stops++
		t.handle(tid, ws)
		t.mu.Unlock()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fatal
}

// waitListenersGone returns once no listener of a lazy trace has
// processes left. The wait loop calls it when it has no tracee to wait
// for: in a lazy trace whose doorbell is gone (killed, or never started)
// every process is unattached and none can be seized any more, but the
// notification goroutines still answer their calls (those that need the
// tracer's thread run natively): the trace lasts as long as they do.
func (t *Tracer) waitListenersGone() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.lazy && t.listeners > 0 {
		t.listenerGone.Wait()
	}
}

// waitFlags are the tracer's extra wait4 flags: __WNOTHREAD when several
// traces share the process (Options.OwnThreadOnly).
func (t *Tracer) waitFlags() int {
	flags := 0
	if t.opts.OwnThreadOnly {
		flags |= unix.WNOTHREAD
	}
	if t.lazy {
		// A released child of the tracer (run's command) stopping: job
		// control must see it.
		flags |= unix.WUNTRACED
	}
	return flags
}

// live reports whether any tracee is left, the main process, the
// tracer's child, is still to be reaped (in a lazy trace it may be
// released; a launcher may die before it is seized; a listener reports
// its last process gone when it exits, before it is reaped), or, in a
// lazy trace, a listener still has processes (attached or not).
func (t *Tracer) live() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.threads) > 0 || (t.mainChild && !t.result.MainExited) || (t.lazy && t.listeners > 0)
}

// countStop adds one stop of kind to the result.
func (t *Tracer) countStop(kind string) {
	if t.result.StopsBy == nil {
		t.result.StopsBy = make(map[string]uint64)
	}
	t.result.StopsBy[kind]++
}

// callName names system call nr for logs and counts.
func callName(nr uintptr) string {
	if s, ok := shim.Lookup(nr); ok {
		return s.Name
	}
	return fmt.Sprint(nr)
}

func (t *Tracer) handle(tid int, ws unix.WaitStatus) {
	if t.bell != nil && tid == t.bell.pid {
		t.countStop("doorbell")
		t.onDoorbell(ws)
		return
	}
	if ws.Exited() || ws.Signaled() {
		t.countStop("exit")
		// A thread or process is gone (a killed tracee ends here too).
		delete(t.threads, tid)
		if tid == t.main {
			t.result.MainStatus, t.result.MainExited = ws, true
		}
		return
	}
	if !ws.Stopped() {
		return
	}
	th := t.threads[tid]
	if th == nil && t.lazy && ptrace.StopEvent(ws) == 0 {
		// Not a tracee: a released child (run's command) in a group-stop.
		t.countStop("untraced-stop")
		if tid == t.main && t.opts.OnMainStop != nil {
			t.opts.OnMainStop(ws.StopSignal())
		}
		return
	}
	if th == nil {
		// The first stop of a new thread can arrive before its creator's
		// clone/fork event: keep it stopped until the event says whose
		// credentials it inherits.
		t.threads[tid] = &thread{tid: tid, orphanStop: &ws}
		return
	}
	t.handleStop(th, ws)
}

func (t *Tracer) handleStop(th *thread, ws unix.WaitStatus) {
	sig, ev := ws.StopSignal(), ptrace.StopEvent(ws)
	var err error
	switch {
	case th.plan != nil && (sig == ptrace.SyscallStop || (sig == unix.SIGTRAP && ev == unix.PTRACE_EVENT_SECCOMP)):
		// A step of a multi-step emulation.
		t.countStop("plan " + callName(uintptr(th.plan.saved.SyscallNr())))
		err = t.onPlanStop(th, ev == unix.PTRACE_EVENT_SECCOMP)
	case sig == unix.SIGTRAP && ev == unix.PTRACE_EVENT_SECCOMP:
		// A traced system call, stopped before it runs.
		err = t.onSeccomp(th)
	case sig == unix.SIGTRAP && (ev == unix.PTRACE_EVENT_FORK || ev == unix.PTRACE_EVENT_VFORK ||
		ev == unix.PTRACE_EVENT_CLONE):
		// A new process or thread; it is already attached.
		t.countStop("clone")
		err = t.onClone(th, ev)
	case sig == unix.SIGTRAP && ev == unix.PTRACE_EVENT_EXEC:
		// A successful execve, maybe from a thread that was not the leader.
		t.countStop("exec")
		err = t.onExec(th)
	case ev == unix.PTRACE_EVENT_STOP && ptrace.IsStopSignal(sig):
		// Group-stop (ctrl-z, SIGSTOP): LISTEN keeps it stopped until
		// SIGCONT without the tracer having to watch it.
		t.countStop("group-stop")
		err = t.injectIfPending(th)
		if th.tid == t.main && t.opts.OnMainStop != nil {
			t.opts.OnMainStop(sig)
		}
		if err == nil {
			err = ptrace.Listen(th.tid)
		}
	case ev == unix.PTRACE_EVENT_STOP && th.escalation.byInterrupt:
		// The stop of a lazy trace's interrupted call (lazy.go).
		call := th.escalation.call
		th.escalation.call, th.escalation.byInterrupt = nil, false
		var r *ptrace.Regs
		if r, err = ptrace.GetRegs(th.tid); err == nil {
			err = t.emulateAtRestart(th, r, *call)
		}
	case ev == unix.PTRACE_EVENT_STOP && th.releaseAtStop:
		// A sibling's call is done: its process goes (inprocess.go).
		t.countStop("event-stop")
		th.releaseAtStop = false
		if t.releasable(th) {
			err = t.release(th, "process released")
		} else {
			err = ptrace.Resume(th.tid, 0)
		}
	case ev == unix.PTRACE_EVENT_STOP && (th.inProcessPending || th.execSeized):
		// After an exec of an in-process trace: the route goes in, and
		// the process is let go if it can be; or after a failed exec of
		// a thread seized for it.
		t.countStop("event-stop")
		failedExec := th.execSeized && !th.inProcessPending
		th.execSeized = false
		if err = t.injectIfPending(th); err != nil {
			break
		}
		switch {
		case failedExec && th.loose:
			err = t.release(th, "exec failed")
		case !failedExec && t.releasable(th):
			err = t.release(th, "exec with real credentials")
		default:
			err = ptrace.Resume(th.tid, 0)
		}
	case ev == unix.PTRACE_EVENT_STOP:
		// PTRACE_INTERRUPT, a new tracee's first stop, or the end of a
		// group-stop: run on.
		t.countStop("event-stop")
		err = t.injectIfPending(th)
		if err == nil && th.plan != nil {
			// A plan in progress still needs its syscall stops.
			err = ptrace.ResumeToSyscall(th.tid)
		} else if err == nil {
			err = ptrace.Resume(th.tid, 0)
		}
	case sig == ptrace.SyscallStop && th.arg5AtExit != nil:
		// The exit of an escalated call that ran as it was: the thread's
		// own sixth argument register back.
		t.countStop("syscall")
		err = t.restoreArg5(th)
	case sig == ptrace.SyscallStop:
		// Only injection asks for syscall stops, and it consumes them.
		t.countStop("syscall")
		err = ptrace.Resume(th.tid, 0)
	default:
		// Signal-delivery-stop: deliver the signal, never swallow it,
		// unless it is the tracer's own escalation signal.
		var mine bool
		if mine, err = t.onEscalationSignal(th, sig); mine {
			t.countStop("escalation")
			break
		}
		t.countStop("signal")
		if err == nil {
			err = ptrace.Resume(th.tid, int(sig))
		}
	}
	if err != nil {
		t.tolerate(th.tid, err)
	}
}

// tolerate logs an error about one tracee. ESRCH means it was killed
// meanwhile; its exit is reported by wait4.
func (t *Tracer) tolerate(tid int, err error) {
	if errors.Is(err, unix.ESRCH) || errors.Is(err, inject.ErrTraceeGone) {
		t.log.Debug("tracee gone", "tid", tid, "err", err)
		return
	}
	t.log.Error("tracee", "tid", tid, "err", err)
}

func (t *Tracer) onClone(parent *thread, ev int) error {
	msg, err := ptrace.EventMsg(parent.tid)
	if err != nil {
		return err
	}
	tid := int(msg)
	if c, ok := t.threads[tid]; ok && c.orphanStop != nil {
		first := *c.orphanStop
		n := parent.child(tid, sharesVM(parent, tid, ev))
		t.threads[tid] = n
		t.handleStop(n, first)
	} else if !ok {
		t.threads[tid] = parent.child(tid, sharesVM(parent, tid, ev))
	}
	return ptrace.Resume(parent.tid, 0)
}

func (t *Tracer) onExec(th *thread) error {
	msg, err := ptrace.EventMsg(th.tid)
	if err != nil {
		return err
	}
	if former := int(msg); former != th.tid {
		// execve from a non-leader thread: it took over the leader's id.
		if moved, ok := t.threads[former]; ok {
			delete(t.threads, former)
			moved.tid = th.tid
			t.threads[th.tid] = moved
			th = moved
		}
	}
	switch {
	case !th.emulating && t.opts.EmulateFromExec:
		if err := t.startEmulatingAs(th, t.identityAtExec(th)); err != nil {
			t.log.Error("cannot start emulation", "tid", th.tid, "err", err)
		}
		if err := t.newRegion(th, true); err != nil {
			return err
		}
		if t.opts.InProcess {
			// Released, if it can be, once the route is in (event-stop).
			if err := t.afterExecInProcess(th); err != nil {
				return err
			}
			break
		}
		if t.releasable(th) {
			return t.release(th, "exec with real credentials")
		}
	case th.emulating:
		th.ids = nil
		if err := t.newRegion(th, true); err != nil {
			return err
		}
		before := th.creds
		f, err := t.execFile(th.tid)
		if err != nil {
			t.log.Warn("exec: cannot inspect the new program; credentials kept", "tid", th.tid, "err", err)
		} else {
			th.creds = th.creds.Exec(f)
		}
		switch {
		case err == nil && !f.SetUID && !f.SetGID:
			// Without set-id bits the kernel transforms the real
			// credentials by the same rules the model applies (the
			// differential probe checks that), so /proc is not read on
			// this common path.
			th.real = th.real.Exec(f)
		default:
			if real, err := procfs.RealCreds(th.tid); err == nil {
				th.real = real
			}
		}
		// The kernel filled the auxiliary vector from the real credentials;
		// unless those are the emulated ones, correct it.
		if secure := shim.SecureExec(before, th.creds); secure || th.diverged() {
			if r, err := ptrace.GetRegs(th.tid); err != nil {
				t.log.Warn("exec: cannot read registers for the auxv", "tid", th.tid, "err", err)
			} else if err := auxv.Fix(th.tid, r.SP(), th.creds, secure); err != nil {
				t.log.Warn("exec: cannot rewrite the auxv", "tid", th.tid, "err", err)
			}
		}
		if th.diverged() && !th.getterFilter && !t.notifying {
			th.injectPending = injectGetters
			if err := ptrace.Interrupt(th.tid); err != nil {
				return err
			}
		}
		t.log.Debug("exec", "tid", th.tid, "creds", slog.AnyValue(th.creds))
		if t.opts.InProcess {
			// Seized for this exec or not, a thread of the new program
			// like any: released after the route goes in if it can be.
			th.execSeized, th.loose = false, false
			if err := t.afterExecInProcess(th); err != nil {
				return err
			}
			break
		}
		if t.releasable(th) {
			return t.release(th, "exec with real credentials")
		}
	}
	return ptrace.Resume(th.tid, 0)
}

func (t *Tracer) onSeccomp(th *thread) error {
	r, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return err
	}
	if stub.TrapNr != 0 && r.SyscallNr() == stub.TrapNr && r.PC()-stub.Addr < stub.PageSize {
		t.countStop("stub-trap")
		if mine, err := t.onStubTrap(th, r); mine {
			return err
		}
	} else {
		t.countStop("seccomp " + callName(uintptr(r.SyscallNr())))
	}
	if !th.emulating {
		return ptrace.Resume(th.tid, 0)
	}
	if th.passSeccomp != 0 {
		nr := th.passSeccomp
		th.passSeccomp = 0
		if uintptr(r.SyscallNr()) == nr {
			return ptrace.Resume(th.tid, 0)
		}
	}
	nr := uintptr(r.SyscallNr())
	if s, ok := shim.Lookup(nr); ok && s.NeedsStop() && th.region.slotsMissing() {
		// Plan data goes to the region's slots, never below the stack
		// pointer (a goroutine's stack has no room there).
		return t.mapSlotsAtSeccomp(th, r)
	}
	// An escalated call (escalate.go) carries the marker in its sixth
	// argument register until it returns: re-executed steps must stop
	// too. The thread's own value goes back when the call returns.
	var arg5 *uint64
	if r.Args()[5] == shim.EscalateMarker && th.escalation.owns(r) {
		v := th.escalation.arg5
		arg5, th.escalation.arg5Valid = &v, false
	}
	before := th.creds
	lease := &scratchLease{t: t, th: th, sp: r.SP()}
	c, answer := ptracestop.AtSeccomp(atSeccomp{t, th, lease}, th.tid, r, arg5)
	creds, out := t.emulate(th, th.creds, c.Call, c.Memory, env{t, th, r.SP(), lease})
	if out.Kind != shim.Steps {
		lease.release()
	}
	th.creds = creds
	if t.log.Enabled(nil, slog.LevelDebug) {
		t.log.Debug("syscall", "tid", th.tid, "call", callName(c.Call.Nr), "args", c.Call.Args[:3],
			"via", "ptrace", "answer", stopAnswer(out), "changed", !before.Equal(creds))
	}
	if out.Kind == shim.Return && th.diverged() && !th.getterFilter && !t.notifying {
		// First divergence: from now on the kernel's answers to get*id
		// would be wrong, so this thread gets the getter filter, in the
		// same stop as the call that diverged.
		res, err := inject.ReplaceWithFilter(th.tid, r, t.mustProgram(seccomp.GetterFilter), out.Value)
		if err != nil {
			return err
		}
		if res != 0 {
			t.log.Error("cannot add the getter filter; get*id calls will show real ids",
				"tid", th.tid, "errno", unix.Errno(-res))
		} else {
			th.getterFilter = true
		}
		return ptrace.Resume(th.tid, 0)
	}
	return route.Deliver(answer, out)
}

func (t *Tracer) injectIfPending(th *thread) error {
	if th.regionPending {
		th.regionPending = false
		t.mapRegionOf(th)
	}
	if th.inProcessPending {
		th.inProcessPending = false
		t.installInProcess(th)
	}
	pending := th.injectPending
	th.injectPending = injectNone
	switch pending {
	case injectGetters:
		res, err := inject.Filter(th.tid, t.mustProgram(seccomp.GetterFilter), 0)
		if err != nil {
			return err
		}
		if res != 0 {
			t.log.Error("cannot add the getter filter", "tid", th.tid, "errno", unix.Errno(-res))
			return nil
		}
		th.getterFilter = true
	case injectAttach:
		err := t.attachFilterTo(th)
		if err == nil && t.attachFilter.Getters {
			for _, o := range t.threads {
				if tgidOf(o.tid) == th.tid {
					o.getterFilter = true
				}
			}
		}
		if err == nil && th.emulating {
			// Mode full: the process's region, for all its threads.
			t.newRegion(th, false)
			for _, o := range t.threads {
				if o != th && tgidOf(o.tid) == th.tid {
					o.region = th.region
				}
			}
		}
		if t.onReady != nil {
			t.onReady(err)
			t.onReady = nil
		}
		if err != nil {
			t.fatal = err
		}
	}
	return nil
}

func filterError(tid int, res int64) error {
	if res > 0 {
		return fmt.Errorf("install seccomp filter in %d: thread %d cannot be synchronized (it has other filters)", tid, res)
	}
	errno := unix.Errno(-res)
	if errno == unix.EACCES {
		return fmt.Errorf("install seccomp filter in %d: %w (the process has neither CAP_SYS_ADMIN in its user namespace nor no_new_privs)", tid, errno)
	}
	return fmt.Errorf("install seccomp filter in %d: %w", tid, errno)
}

// tgidOf returns the process id of thread tid.
func tgidOf(tid int) int {
	v, err := procfs.StatusField(tid, "Tgid")
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscan(strings.TrimSpace(v), &n)
	return n
}

// program returns the encoded seccomp program for f, built once.
func (t *Tracer) program(f seccomp.Filter) ([]byte, error) {
	if p, ok := t.progs[f]; ok {
		return p, nil
	}
	raw, err := f.Program()
	if err != nil {
		return nil, err
	}
	t.progs[f] = seccomp.Encode(raw)
	return t.progs[f], nil
}

// mustProgram is program for filters whose programs are known to build
// (every combination is covered by the filter tests).
func (t *Tracer) mustProgram(f seccomp.Filter) []byte {
	p, err := t.program(f)
	if err != nil {
		panic(err)
	}
	return p
}

// attachFilterTo installs the attach filter into th's process, with a
// listener for the notified calls when the process can have one.
func (t *Tracer) attachFilterTo(th *thread) error {
	const tsync = unix.SECCOMP_FILTER_FLAG_TSYNC
	if t.adopted >= 0 {
		return t.addFilterToAdopted(th)
	}
	res, err := inject.Filter(th.tid, t.mustProgram(t.attachFilter.WithNotify()), tsync|listenerFlags)
	if err != nil {
		return err
	}
	if res >= 0 {
		fd := int(res)
		if err := t.takeListener(th.tid, fd); err != nil {
			// The filter is in place but nobody can answer it: the
			// process cannot run on. This is fatal for the trace.
			return fmt.Errorf("take the seccomp listener: %w", err)
		}
		if r, err := inject.Close(th.tid, fd); err != nil || r != 0 {
			t.log.Warn("could not close the listener descriptor in the tracee", "tid", th.tid, "fd", fd, "res", r, "err", err)
		}
		return nil
	}
	// EBUSY: the process already has a listener (another supervisor);
	// EINVAL: a kernel without these flags. Trace with ptrace alone.
	t.log.Info("no seccomp listener; every emulated call stops the tracee", "tid", th.tid, "errno", unix.Errno(-res))
	res, err = inject.Filter(th.tid, t.mustProgram(t.attachFilter), tsync)
	if err == nil && res != 0 {
		err = filterError(th.tid, res)
	}
	return err
}
