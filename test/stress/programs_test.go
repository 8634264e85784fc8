package stress

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var modes = []string{"creds", "full"}

// A program that makes one getter and one setter and exits (and one that
// diverges, so that a lazy trace attaches it during the call): status 0,
// remainroot gone with it.
func TestGetterSetter(t *testing.T) {
	for _, mode := range modes {
		for _, args := range [][]string{nil, {"diverge"}} {
			t.Run(strings.Join(append([]string{mode}, args...), "-"), func(t *testing.T) {
				h := newHarness(t, "getter_setter")
				argv := append([]string{h.program("getter_setter")}, args...)
				h.repeat(runs(t), func(int) { h.expect(h.remainroot(mode, argv...), 0) })
			})
		}
	}
}

// Threads in notified calls while the process ends under them: the main
// thread's exit_group (status 7), or the main thread's pthread_exit and
// each thread's own (status 0).
func TestThreadsExiting(t *testing.T) {
	for _, mode := range modes {
		for _, how := range []struct {
			arg    string
			status int
		}{{"exit_group", 7}, {"pthread_exit", 0}} {
			t.Run(mode+"-"+how.arg, func(t *testing.T) {
				h := newHarness(t, "exiting_threads")
				h.repeat(runs(t), func(int) {
					h.expect(h.remainroot(mode, h.program("exiting_threads"), how.arg), how.status)
				})
			})
		}
	}
}

// The command killed by SIGKILL at a random moment (0 to 20 ms after it
// appears as remainroot's child) while its threads make notified calls:
// remainroot exits 137.
func TestKilled(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, "exiting_threads")
			h.repeat(runs(t), func(int) {
				r := h.start(h.remainroot(mode, h.program("exiting_threads"), "forever"))
				pidfd, pid, ok := h.command0(r, "exiting_threads")
				if ok {
					time.Sleep(rand.N(20 * time.Millisecond))
					if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil {
						h.fail("other", "%s: SIGKILL to %d: %v", r.describe(), pid, err)
					}
					unix.Close(pidfd)
				}
				if got := r.wait(); got >= 0 && got != 128+int(unix.SIGKILL) {
					h.fail("status", "%s: exit status %d, want 137 (SIGKILL sent to %d)", r.describe(), got, pid)
				}
				h.checkLeftovers(r.describe())
			})
		})
	}
}

// command0 waits for the command remainroot runs, its child named comm
// (remainroot's other children are its own re-execs: the fallback
// answerer, the doorbell), and returns a pidfd of it and its pid; ok is
// false, with a failure counted, when none appears before remainroot
// exits or the deadline passes.
func (h *harness) command0(r *run, comm string) (pidfd, pid int, ok bool) {
	deadline := r.start.Add(exitDeadline)
	for time.Now().Before(deadline) {
		for _, c := range children(r.pid()) {
			if name, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c)); strings.TrimSpace(string(name)) != comm {
				continue
			}
			fd, err := unix.PidfdOpen(c, 0)
			if err != nil {
				continue
			}
			return fd, c, true
		}
		select {
		case <-r.done:
			h.fail("other", "%s: exited before its command was seen", r.describe())
			return -1, 0, false
		default:
		}
		time.Sleep(200 * time.Microsecond)
	}
	h.fail("other", "%s: no command after %v:\n%s", r.describe(), exitDeadline, dumpTree(r.pid()))
	return -1, 0, false
}

// One of remainroot's own helpers (the doorbell that wakes the tracer's
// thread, the fallback answerer) SIGKILLed from outside at a random moment,
// then the command: remainroot still answers, ends with 137, leaves
// nothing.
func TestHelperKilled(t *testing.T) {
	for _, role := range []string{"__doorbell", "__fallback"} {
		t.Run(role, func(t *testing.T) {
			h := newHarness(t, "exiting_threads")
			h.repeat(runs(t), func(int) {
				r := h.start(h.remainroot("creds", h.program("exiting_threads"), "forever"))
				if helper := h.helper(r, role); helper > 0 {
					time.Sleep(rand.N(20 * time.Millisecond))
					unix.Kill(helper, unix.SIGKILL)
				}
				pidfd, pid, ok := h.command0(r, "exiting_threads")
				if ok {
					time.Sleep(rand.N(20 * time.Millisecond))
					unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
					unix.Close(pidfd)
				}
				if got := r.wait(); got >= 0 && got != 128+int(unix.SIGKILL) {
					h.fail("status", "%s: exit status %d, want 137 (SIGKILL sent to %d)", r.describe(), got, pid)
				}
				h.checkLeftovers(r.describe())
			})
		})
	}
}

// helper waits for remainroot's child whose command line has role (once
// it has exec'd), and returns its pid; 0, with a failure counted, when
// none appears in time.
func (h *harness) helper(r *run, role string) int {
	deadline := r.start.Add(exitDeadline)
	for time.Now().Before(deadline) {
		for _, c := range children(r.pid()) {
			if strings.Contains(cmdline(c), role) {
				return c
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	h.fail("other", "%s: no %s child after %v", r.describe(), role, exitDeadline)
	return 0
}
