package attach

import (
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/ptrace"
	"github.com/remainroot/remainroot/attach/seccomp"
	"github.com/remainroot/remainroot/shim"
)

// logNotified logs, at debug level, one emulated call answered by seccomp
// notification and the answer the thread gets: the counterpart of the
// "syscall" line of a ptrace stop (onSeccomp). Callers check that debug is
// enabled first, so that the fast path costs nothing otherwise.
func (t *Tracer) logNotified(tid int, call shim.Call, changed bool, resp seccomp.NotifResp) {
	t.log.Debug("syscall", "tid", tid, "call", callName(call.Nr), "args", call.Args[:3],
		"via", "notification", "answer", notifAnswer(resp), "changed", changed)
}

// notifAnswer says what resp makes of the call, for logs: "0", "-EPERM",
// "kernel" when the kernel runs it, "ptrace" when it goes on at a ptrace
// stop (see escalate).
func notifAnswer(resp seccomp.NotifResp) string {
	switch {
	case resp.Flags&unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE != 0:
		return "kernel"
	case resp.Error == -ptrace.ERestartNoIntr:
		return "ptrace"
	case resp.Error != 0:
		e := unix.Errno(-resp.Error)
		if name := unix.ErrnoName(e); name != "" {
			return "-" + name
		}
		return fmt.Sprint(resp.Error)
	}
	return fmt.Sprint(resp.Val)
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
