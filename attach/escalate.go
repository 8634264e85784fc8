package attach

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/procfs"
	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/route/notify"
	"github.com/remainroot/remainroot/shim"
)

// Escalation turns a seccomp notification the supervisor cannot answer
// (mode full: a stat of a path that came with AT_EMPTY_PATH, a creation by
// fs ids other than 0:0) into the ptrace stop its emulation needs. Only the
// tracer's thread may use ptrace and it sleeps in wait4, so the supervisor
// goes through the thread itself:
//
//  1. it queues a signal the thread does not block, with tkill (a real-time
//     signal, or SIGSTOP when all of those are blocked);
//  2. it answers the call with -ERESTARTNOINTR: the thread leaves the call
//     with a signal pending, so before it runs any code of its own the
//     signal brings it to a signal-delivery-stop;
//  3. at that stop the tracer puts shim.EscalateMarker in the call's sixth
//     argument register (none of the notified calls has a sixth argument)
//     and discards the signal; no handler runs, so the kernel restarts the
//     call (ERESTARTNOINTR always restarts), and the filter sends the
//     marked call to the tracer as a seccomp stop.
//
// If another signal's handler runs first, the kernel restarts the call
// after it, unmarked: it comes back as a notification and is escalated
// again. The escalation signal is discarded at its stop whatever happened
// in between, so the program never sees it.

// siTkill is the si_code of a signal sent by tkill or tgkill.
const siTkill = -6

// escalation is what a thread owes the tracer: escalation signals sent and
// not yet seen at a signal-delivery-stop, by signal.
type escalation struct {
	pending map[unix.Signal]int
	// arg5 is the thread's sixth argument register, replaced by the
	// marker (arg5Valid until the marked call's seccomp stop takes it).
	arg5      uint64
	arg5Valid bool
	// pc and sp identify the call: a signal handler that runs first
	// starts with the interrupted registers, marker included, and its
	// own calls must not take the thread's value.
	pc, sp uint64
	// call, in a lazy trace, is the notified call answered -ERESTARTNOINTR
	// and emulated at the stop on its way out (emulateAtRestart), with
	// the arguments the notification carried; byInterrupt says that stop
	// is the PTRACE_EVENT_STOP of a PTRACE_INTERRUPT rather than an
	// escalation signal's.
	call        *shim.Call
	byInterrupt bool
}

// signalsOwed reports whether escalation signals are on their way.
func (e *escalation) signalsOwed() bool {
	for _, n := range e.pending {
		if n > 0 {
			return true
		}
	}
	return false
}

// owns reports whether the marked call at a seccomp stop with registers r
// is the one escalated.
func (e *escalation) owns(r *ptrace.Regs) bool {
	return e.arg5Valid && r.PC() == e.pc && r.SP() == e.sp
}

// escalate prepares the answer to notification n of th, whose emulation
// needs a ptrace stop. Callers hold t.mu.
func (t *Tracer) escalate(th *thread, call shim.Call, ans *notify.Answer) error {
	sig, err := escalationSignal(th.tid)
	if err != nil {
		return err
	}
	if th.escalation.pending[sig] == 0 {
		// A pending, unblocked escalation signal of this kind already
		// makes the thread stop on its way out of the call: send one only
		// if there is none.
		err := tkill(th.tid, sig)
		if errors.Is(err, unix.EAGAIN) && sig != unix.SIGSTOP {
			// The real-time signal queue is full (RLIMIT_SIGPENDING).
			sig = unix.SIGSTOP
			if th.escalation.pending[sig] == 0 {
				err = tkill(th.tid, sig)
			} else {
				err = nil
			}
		}
		if err != nil {
			return err
		}
		if th.escalation.pending == nil {
			th.escalation.pending = make(map[unix.Signal]int)
		}
		th.escalation.pending[sig]++
	}
	ans.Restart()
	if t.lazy {
		// No marker: the filter that notified the call may be the
		// runtime's, which knows none; the call is emulated at the
		// signal's stop (emulateAtRestart).
		th.escalation.call = &call
	}
	t.countStop("escalated")
	return nil
}

// onEscalationSignal handles a signal-delivery-stop of sig if it is an
// escalation signal (see escalate), and reports whether it was.
func (t *Tracer) onEscalationSignal(th *thread, sig unix.Signal) (bool, error) {
	if th.escalation.pending[sig] == 0 {
		return false, nil
	}
	si, err := ptrace.GetSiginfo(th.tid)
	if err != nil {
		return true, err
	}
	// The tracer in another pid namespace than the tracee is seen as pid 0.
	if si.Code != siTkill || (ptrace.SiginfoPid(si) != 0 && int(ptrace.SiginfoPid(si)) != os.Getpid()) {
		return false, nil
	}
	th.escalation.pending[sig]--
	r, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return true, err
	}
	if call := th.escalation.call; call != nil && !th.escalation.byInterrupt {
		th.escalation.call = nil
		return true, t.emulateAtRestart(th, r, *call)
	}
	if r.ReturnValue() == -ptrace.ERestartNoIntr {
		if _, ok := shim.Lookup(uintptr(r.SyscallNr())); ok {
			th.escalation.arg5, th.escalation.arg5Valid = r.Args()[5], true
			th.escalation.pc, th.escalation.sp = r.PC(), r.SP()
			r.SetArg5(shim.EscalateMarker)
			if err := ptrace.SetRegs(th.tid, r); err != nil {
				return true, err
			}
		}
	}
	return true, ptrace.Resume(th.tid, 0)
}

// restoreArg5 puts back the sixth argument register of a thread at the
// exit stop of an escalated call, and lets it run on.
func (t *Tracer) restoreArg5(th *thread) error {
	v := *th.arg5AtExit
	th.arg5AtExit = nil
	r, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return err
	}
	r.SetArg5(v)
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	return ptrace.Resume(th.tid, 0)
}

// escalationSignal picks the signal that makes tid stop: the highest
// real-time signal it does not block, or SIGSTOP, which cannot be blocked.
// The real-time signals that glibc keeps for itself (32, 33) are left
// alone.
func escalationSignal(tid int) (unix.Signal, error) {
	blk, err := procfs.StatusField(tid, "SigBlk")
	if err != nil {
		return 0, err
	}
	mask, err := strconv.ParseUint(blk, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("thread %d: SigBlk %q: %w", tid, blk, err)
	}
	for sig := 64; sig >= 34; sig-- {
		if mask&(1<<(sig-1)) == 0 {
			return unix.Signal(sig), nil
		}
	}
	return unix.SIGSTOP, nil
}

// tkill sends sig to thread tid.
func tkill(tid int, sig unix.Signal) error {
	_, _, e := unix.Syscall(unix.SYS_TKILL, uintptr(tid), uintptr(sig), 0)
	if e != 0 {
		return os.NewSyscallError("tkill", e)
	}
	return nil
}
