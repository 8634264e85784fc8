package attach

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/fallback"
	"github.com/remainroot/remainroot/attach/inject"
	"github.com/remainroot/remainroot/attach/seccomp"
)

// A container runtime that supports runtime-spec's listenerPath installs
// the seccomp filter of the container's config in every process it starts
// (the container's init and each `exec`) and sends that filter's listener
// to a socket. remainroot's receiver hands each such process to a tracer
// by its listener: the process already has a notifying filter, so a second
// listener is impossible (EBUSY); the tracer seizes the process, adds its
// own filter without a listener (the calls that need ptrace stops), and
// answers the runtime's notifications.

// FirstNotificationTimeout bounds how long AdoptListener waits to learn
// the process from its first notification when the runtime did not say
// which process the listener belongs to (crun 1.8 sends pid 0 for exec).
const FirstNotificationTimeout = 30 * time.Second

// AdoptListener takes over process pid, whose seccomp filter (installed by
// a container runtime) has the listener fd, now owned by the tracer. With
// pid 0 the process is the one that makes the first notified call. f is
// the filter the tracer adds to the process (as at InstallFilter; its
// value-answered calls are the runtime filter's notifications), and ready
// is called with the outcome. The process's own calls run untouched until
// its first execve (Options.EmulateFromExec).
func (s *Session) AdoptListener(pid, fd int, f seccomp.Filter, ready func(error)) error {
	t := s.t
	if pid == 0 {
		tid, err := firstNotifier(fd, FirstNotificationTimeout)
		if err != nil {
			return err
		}
		if pid = tgidOf(tid); pid == 0 {
			return fmt.Errorf("the process of thread %d (first notification) is gone: %w", tid, unix.ESRCH)
		}
		t.log.Debug("adopt: process learnt from its first notification", "tid", tid, "pid", pid)
	}
	if t.opts.Admit != nil {
		if err := t.opts.Admit(pid); err != nil {
			return err
		}
	}
	if err := t.seizeProcess(pid, false); err != nil {
		if t.lazy && errors.Is(err, unix.EPERM) && len(t.threads) == 0 {
			return t.adoptUnattached(pid, fd, err, ready)
		}
		return err
	}
	if t.main == 0 {
		t.main = pid
	}
	t.adopted = fd
	return s.InstallFilter(pid, f, ready)
}

// adoptUnattached answers the listener of process pid without attaching
// it (a lazy trace), because the kernel refuses to let it be seized
// (seizeErr): bare rootless crun makes its init non-dumpable, with memory
// owned by a namespace the tracer has no CAP_SYS_PTRACE in, until the
// container's program execs. Its calls run natively until then, as the
// runtime's do (answerUnattached: preExec), and are emulated after it, when
// the process is dumpable again and can be seized if its credentials
// diverge. A process that must exec as a user of its own (Identity) can
// only get it from its exec stop: refused.
func (t *Tracer) adoptUnattached(pid, fd int, seizeErr error, ready func(error)) error {
	if t.opts.Identity != nil {
		return fmt.Errorf("seize process %d: %w; without that, its exec as %d:%d cannot be emulated",
			pid, seizeErr, t.opts.Identity.UID, t.opts.Identity.GID)
	}
	t.log.Info("the process cannot be attached before its exec; its calls run natively until then",
		"pid", pid, "err", seizeErr)
	if t.main == 0 {
		t.main = pid
	}
	t.preExec = true
	t.notifying = true
	t.listeners++
	go t.serveNotifications(fd, fallback.Slot{})
	if ready != nil {
		ready(nil)
	}
	return nil
}

// firstNotifier waits for the first notification on listener fd and
// returns the thread that made it. The notification is left unanswered:
// the thread's wait is interrupted when the tracer stops it, and the
// kernel restarts the call, which then notifies again.
func firstNotifier(fd int, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	var n seccomp.Notif
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, fmt.Errorf("no notified call within %s on the runtime's listener", timeout)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		got, err := unix.Poll(pfd, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("poll the runtime's listener: %w", err)
		}
		if got == 0 {
			continue
		}
		if pfd[0].Revents&unix.POLLHUP != 0 {
			return 0, fmt.Errorf("the runtime's listener has no process any more: %w", unix.ESRCH)
		}
		if err := seccomp.Recv(fd, &n); err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOENT) {
				continue
			}
			return 0, fmt.Errorf("receive from the runtime's listener: %w", err)
		}
		return int(n.Pid), nil
	}
}

// addFilterToAdopted adds the tracer's filter, without a listener, to the
// adopted process th leads (all threads: TSYNC), then answers the
// runtime's listener.
//
// A lazy trace adds no filter: the runtime's filter notifies every
// emulated call (LazyRuntimeNotifiedCalls), and a ptrace-only rule would
// fail with ENOSYS once the process is released.
func (t *Tracer) addFilterToAdopted(th *thread) error {
	if !t.lazy {
		res, err := inject.Filter(th.tid, t.mustProgram(t.attachFilter), unix.SECCOMP_FILTER_FLAG_TSYNC)
		if err == nil && res != 0 {
			err = filterError(th.tid, res)
		}
		if err != nil {
			return err
		}
	}
	fd := t.adopted
	t.adopted = -1
	t.notifying = true
	t.listeners++
	go t.serveNotifications(fd, fallback.Slot{})
	return nil
}
