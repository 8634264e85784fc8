package attach

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/ptrace"
)

// abandon detaches from every tracee, so that a failed attach leaves the
// target running as it was (PTRACE_O_EXITKILL would otherwise kill it when
// the tracer exits). A thread must be in a ptrace-stop to be detached: each
// is interrupted, and detached at its stop with any signal it was about to
// receive.
func (t *Tracer) abandon() {
	pending := make(map[int]bool)
	for tid, th := range t.threads {
		if th.orphanStop != nil {
			t.detach(tid, 0)
			continue
		}
		if err := ptrace.Interrupt(tid); err == nil {
			pending[tid] = true
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(pending) > 0 && time.Now().Before(deadline) {
		var ws unix.WaitStatus
		tid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOHANG|t.waitFlags(), nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			break
		}
		if tid == 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if !ws.Stopped() {
			delete(pending, tid)
			continue
		}
		sig := 0
		if ptrace.StopEvent(ws) == 0 && ws.StopSignal() != unix.SIGTRAP && ws.StopSignal() != ptrace.SyscallStop {
			sig = int(ws.StopSignal())
		}
		if pending[tid] || t.threads[tid] == nil {
			t.detach(tid, sig)
			delete(pending, tid)
		}
	}
	if len(pending) > 0 {
		t.log.Error("could not detach from every thread", "left", len(pending))
	}
	clear(t.threads)
	if t.adopted >= 0 {
		// A runtime's listener that was never answered: its process's
		// notified calls now fail with ENOSYS, as without a receiver.
		unix.Close(t.adopted)
		t.adopted = -1
	}
}

func (t *Tracer) detach(tid, sig int) {
	err := ptrace.Retry("ptrace(PTRACE_DETACH)", func() error { return ptrace.Raw(unix.PTRACE_DETACH, tid, 0, uintptr(sig)) })
	if err != nil {
		t.log.Debug("detach", "tid", tid, "err", err)
	}
}
