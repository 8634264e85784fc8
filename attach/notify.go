package attach

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/fallback"
	"github.com/remainroot/remainroot/attach/route"
	"github.com/remainroot/remainroot/attach/route/notify"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/shim"
)

// The fast path: calls answered by a value alone (set*id, get*id, groups,
// capabilities, the credential prctl options) reach the tracer as seccomp
// user notifications (SECCOMP_RET_USER_NOTIF), not ptrace stops. The thread
// waits in the kernel while a goroutine of the tracer reads the
// notification, asks package shim, and sends the result back: no registers
// are read or written and the wakeup is direct, several times cheaper than
// a ptrace stop. Calls that rewrite arguments or run steps (chown, the file
// calls of mode full) stay on ptrace. A process whose filters already have a
// listener (another supervisor) cannot get a second one: it is traced with
// ptrace alone.

// listenerFlags are added to the seccomp(2) flags of a notifying filter.
// TSYNC_ESRCH is what lets TSYNC and NEW_LISTENER go together;
// WAIT_KILLABLE_RECV keeps a received call from being restarted by a
// signal, so an answer, once computed, is the one the thread gets.
const listenerFlags = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH |
	unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

// takeListener duplicates the listener descriptor fd of process pid into
// the tracer (pidfd_getfd) and starts answering it.
func (t *Tracer) takeListener(pid, fd int) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer unix.Close(pidfd)
	own, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return fmt.Errorf("pidfd_getfd(%d, %d): %w", pid, fd, err)
	}
	t.notifying = true // callers hold t.mu
	t.listeners++
	go t.serveNotifications(own, fallback.Slot{})
	return nil
}

// serveNotifications answers one listener until every thread using its
// filter has gone.
// Callers count it in t.listeners, which it takes back when it returns.
// slot is the listener's slot with the fallback answerer when the caller
// handed it over already; otherwise a lazy trace hands it over here.
func (t *Tracer) serveNotifications(fd int, slot fallback.Slot) {
	defer unix.Close(fd)
	defer t.listenerDone()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := shortSlice(); err != nil {
		t.log.Debug("no short time slice for the answering thread", "err", err)
	}
	// Wake the answered thread on this CPU (Linux 6.6): the thread and its
	// supervisor take turns, so a direct switch saves a cross-CPU wakeup.
	unix.Syscall(unix.SYS_IOCTL, uintptr(fd), seccomp.IoctlNotifSetFlags, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	if !slot.OK() && t.lazy {
		// Processes left unattached must outlive the tracer (package
		// fallback).
		slot = fallback.Hand(fd, t.log)
	}
	defer slot.Done()
	var n seccomp.Notif
	for {
		if !recvEndsWithUsers && !waitNotification(fd) {
			return // no thread uses the filter any more
		}
		if err := seccomp.Recv(fd, &n); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.ENOENT) && !orphaned(fd) {
				continue // the thread was killed while we looked
			}
			if !errors.Is(err, unix.ENOENT) {
				t.log.Error("receive seccomp notification", "err", err)
			}
			return
		}
		slot.Record(n.ID)
		resp, work := t.answer(fd, &n)
		if work != nil {
			if err := t.onTracerThread(work); err != nil {
				// The kernel's answer stands: the call runs natively
				// (unless the work says otherwise).
				t.log.Error(err.Error())
				resp = seccomp.NotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
				if work.failResp != nil {
					resp = *work.failResp
				}
			}
		}
		if err := seccomp.Send(fd, &resp); err != nil && !errors.Is(err, unix.ENOENT) {
			t.log.Error("answer seccomp notification", "tid", n.Pid, "err", err)
		}
	}
}

// listenerDone takes a finished listener out of t.listeners; a lazy
// trace's wait loop is woken to see whether anything is left.
func (t *Tracer) listenerDone() {
	t.mu.Lock()
	t.listeners--
	t.listenerGone.Broadcast()
	lazy := t.lazy
	t.mu.Unlock()
	if lazy {
		t.onTracerThread(&tracerWork{do: func() error { return nil }})
	}
}

// shortSlice asks the scheduler for a short time slice for the calling
// thread (sched_setattr's sched_runtime for SCHED_OTHER, Linux 6.12): a
// thread with a shorter slice gets an earlier deadline and preempts the
// running task when it wakes. A notified thread waits for the answering
// thread; on a machine whose CPUs are all busy (make -j), without this the
// answer waits for the running task's slice, a few milliseconds. Older
// kernels ignore the value or refuse it; nothing else depends on it.
func shortSlice() error {
	attr := unix.SchedAttr{Policy: unix.SCHED_NORMAL, Runtime: 100_000}
	return unix.SchedSetAttr(0, &attr, 0)
}

// recvEndsWithUsers: the kernel ends a waiting SECCOMP_IOCTL_NOTIF_RECV
// when the last thread using the filter is gone (Linux 6.11: "seccomp:
// interrupt SECCOMP_IOCTL_NOTIF_RECV when all users have exited"). Before
// that only poll(2) learns it (POLLHUP), and a RECV waits for ever.
var recvEndsWithUsers = kernelAtLeast(6, 11)

// waitNotification waits until a notification is pending on fd (true) or
// no thread uses its filter any more (false).
func waitNotification(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && pfd[0].Revents&unix.POLLIN != 0
	}
}

// orphaned reports whether no thread uses the listener's filter any more
// (the kernel then reports POLLHUP, and RECV fails at once).
func orphaned(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n == 1 && pfd[0].Revents&unix.POLLHUP != 0
}

// touchesMemory lists the notified calls that read or write the thread's
// memory: for them the notification is checked to be still valid (the
// thread alive, its pid not reused) before the answer is used.
var touchesMemory = map[int32]bool{
	unix.SYS_SETGROUPS: true, unix.SYS_GETGROUPS: true, unix.SYS_GETRESUID: true,
	unix.SYS_GETRESGID: true, unix.SYS_CAPGET: true, unix.SYS_CAPSET: true,
}

// answer computes the reply to one notification, and what the tracer's
// thread must do before it is sent (a lazy trace: lazy.go).
func (t *Tracer) answer(fd int, n *seccomp.Notif) (seccomp.NotifResp, *tracerWork) {
	c, ans := notify.Arrive(n)
	t.mu.Lock()
	defer t.mu.Unlock()
	th := t.threads[c.Tid]
	if n.Arch != seccomp.AuditArch {
		// Another ABI's numbers (int 0x80), notified by a runtime's filter:
		// not emulated, as the tracer's own filter leaves them.
		ans.Continue()
		return ans.Resp, nil
	}
	if t.opts.InProcess && th != nil && th.plan != nil {
		// A step of the plan the tracer runs in this thread (which runs
		// no code of its own until the plan ends): the call itself. The
		// in-process route's filter notifies what a tracing one stops.
		ans.Continue()
		return ans.Resp, nil
	}
	if t.opts.InProcess && isExec(c.Call.Nr) {
		if th == nil {
			// A released process's exec: the tracer must be there.
			return ans.Resp, t.answerExec(c.Tid, ans)
		}
		// An attached thread's exec comes to the tracer as its event.
		ans.Continue()
		return ans.Resp, nil
	}
	if th == nil && t.lazy {
		work := t.answerUnattached(fd, n, c, ans)
		return ans.Resp, work
	}
	if th != nil && !th.emulating && t.opts.RefusedIDsBeforeExec && t.answerBeforeExec(th, c, ans) {
		return ans.Resp, nil
	}
	if th == nil || !th.emulating {
		// Not emulated yet (the runtime before the container's exec): the
		// kernel runs the call.
		ans.Continue()
		return ans.Resp, nil
	}
	s, _ := shim.Lookup(c.Call.Nr)
	touches := touchesMemory[n.Nr] || s.Class == shim.File
	if touches && !seccomp.IDValid(fd, n.ID) {
		// The thread is gone (its memory could now be another
		// process's): the reply is discarded.
		return ans.Resp, nil
	}
	before := th.creds
	creds, out := t.emulate(th, th.creds, c.Call, c.Memory, env{t: t, th: th})
	if touches && !seccomp.IDValid(fd, n.ID) {
		return ans.Resp, nil
	}
	t.result.Notifications++
	if t.debugEnabled() {
		defer func() { t.logNotified(c.Tid, c.Call, out.Kind == shim.Return && !before.Equal(creds), ans.Resp) }()
	}
	if out.Kind == shim.Return {
		th.creds = creds
	}
	if route.Deliver(ans, out) == route.ErrNeedsStop {
		// Arguments to rewrite or steps to run: only a ptrace stop can.
		if err := t.escalate(th, c.Call, ans); err != nil {
			// The thread is gone, or its /proc unreadable: the kernel
			// runs the call.
			t.log.Error("cannot send a notified call to a ptrace stop; running it natively",
				"tid", c.Tid, "call", callName(c.Call.Nr), "err", err)
			ans.Continue()
		}
	}
	return ans.Resp, nil
}
