package attach

import (
	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/shim"
)

// thread is the tracer's state for one traced thread.
type thread struct {
	tid int
	// emulating is false until emulation begins for this thread: at the
	// exec of the traced command (run, hook) or at attach. Until then its
	// traced calls run untouched.
	emulating bool
	// creds are the emulated credentials; real are the credentials the
	// kernel holds, as read when emulation began.
	creds, real shim.Creds
	// getterFilter is set once the getter filter is installed in this
	// thread (children inherit it, like the filter itself).
	getterFilter bool
	// injectPending asks for the getter filter (or, at attach, the whole
	// filter) at the thread's next PTRACE_EVENT_STOP.
	injectPending injection
	// passSeccomp lets the next seccomp stop for this call number run
	// untouched: the last, direct step of a plan.
	passSeccomp uintptr
	// ids translates ids from the tracer's user namespace into the
	// thread's; looked up once per exec (a thread changes namespaces only
	// by unshare, which its owner lookups then miss until its next exec).
	ids *procfs.IDMapper
	// plan is the multi-step emulation the thread is in the middle of.
	plan *planRun
	// orphanStop holds the first stop of a thread whose creator's clone
	// event has not been seen yet: it stays stopped until then.
	orphanStop *unix.WaitStatus
	// region is the region (stub and slots in mode full, slots alone in
	// mode creds) of the thread's
	// address space, shared with the threads that share it.
	region *region
	// regionPending asks for the region to be mapped at the thread's next
	// PTRACE_EVENT_STOP (after an exec).
	regionPending bool
	// escalation counts the escalation signals on their way to this
	// thread (see escalate).
	escalation escalation
	// shadow holds, before the thread's first execve, the credentials
	// its runtime's refused set*id calls would have given it (identity.go).
	shadow *shim.Creds
	// loose: attached only for the call it is in (a lazy trace's
	// escalation, lazy.go), detached when that call returns.
	loose bool
	// arg5AtExit is the sixth argument register to give back at the exit
	// stop of an escalated call that runs as it is.
	arg5AtExit *uint64
	// inProcessPending asks for the in-process route at the thread's
	// next PTRACE_EVENT_STOP, after its exec (inprocess.go).
	inProcessPending bool
	// execSeized: attached (loose) while its execve waited, to be there
	// at the exec; released at the stop after it, or after its failure.
	execSeized bool
	// escalatedProcess: its whole process was attached for one call of
	// this thread (a multi-threaded one); the in-process route, which
	// sees its execs without the tracer, lets it go when the call is done
	// and its credentials are still the real ones (inprocess.go).
	escalatedProcess bool
	// releaseAtStop: let go at the next stop (a sibling's
	// releaseProcessAfterCall).
	releaseAtStop bool
	// layered: the thread has the in-process route's filter layer, which
	// clone, fork and exec keep (like every filter): a new program gets
	// the handler again, not a second layer.
	layered bool
}

// injection is a filter waiting to be installed into a thread.
type injection int

const (
	injectNone injection = iota
	injectGetters
	injectAttach // the initial filter, on all threads (TSYNC)
)

// child returns the state of a thread or process tid created by t: clone
// and fork copy the creator's credentials and its seccomp filters.
func (t *thread) child(tid int, sharedVM bool) *thread {
	rg := t.region
	if !sharedVM {
		rg = rg.forked()
	}
	return &thread{tid: tid, emulating: t.emulating, creds: t.creds, real: t.real,
		getterFilter: t.getterFilter, region: rg, shadow: t.shadow, layered: t.layered}
}

// diverged reports whether the emulated credentials differ from the
// kernel's, so the kernel can no longer answer get*id calls.
func (t *thread) diverged() bool { return t.emulating && !t.creds.Equal(t.real) }

// idMapper returns the thread's id translation, cached.
func (t *thread) idMapper(tr *Tracer) procfs.IDMapper {
	if t.ids == nil {
		m := tr.mapper(t.tid)
		if !m.Written() {
			return m
		}
		t.ids = &m
	}
	return *t.ids
}
