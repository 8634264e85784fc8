package attach

import (
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/shim"
)

// logNotified logs, at debug level, one emulated call answered by seccomp
// notification and the answer the thread gets: the counterpart of the
// "syscall" line of a ptrace stop (onSeccomp). Callers check that debug is
// enabled first, so that the fast path costs nothing otherwise.
func (t *Tracer) logNotified(tid int, call shim.Call, changed bool, resp seccompNotifResp) {
	t.log.Debug("syscall", "tid", tid, "call", callName(call.Nr), "args", call.Args[:3],
		"via", "notification", "answer", notifAnswer(resp), "changed", changed)
}

// notifAnswer says what resp makes of the call, for logs: "0", "-EPERM",
// "kernel" when the kernel runs it, "ptrace" when it goes on at a ptrace
// stop (see escalate).
func notifAnswer(resp seccompNotifResp) string {
	switch {
	case resp.flags&unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE != 0:
		return "kernel"
	case resp.error == -ptrace.ERestartNoIntr:
		return "ptrace"
	case resp.error != 0:
		e := unix.Errno(-resp.error)
		if name := unix.ErrnoName(e); name != "" {
			return "-" + name
		}
		return fmt.Sprint(resp.error)
	}
	return fmt.Sprint(resp.val)
}

// stopAnswer says what an outcome at a ptrace stop makes of the call, for
// logs, in notifAnswer's terms: the value, "-ERRNO", "kernel" when the
// kernel runs the call (its arguments maybe rewritten), "steps" for a plan.
func stopAnswer(out shim.Outcome) string {
	switch out.Kind {
	case shim.Return:
		if out.Value < 0 {
			if name := unix.ErrnoName(unix.Errno(-out.Value)); name != "" {
				return "-" + name
			}
		}
		return fmt.Sprint(out.Value)
	case shim.Steps:
		return "steps"
	}
	return "kernel"
}

// debugEnabled reports whether the tracer logs at debug level.
func (t *Tracer) debugEnabled() bool {
	return t.log.Enabled(context.Background(), slog.LevelDebug)
}
