package stress

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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

// A random process of remainroot's own among `remainroot run`'s
// descendants (one whose command line is still remainroot's: the fallback
// answerer, the doorbell, mode full's launcher, a child forked by run and
// not yet exec'd: the command's, the doorbell's, the fallback answerer's)
// SIGKILLed at a random moment while the command's threads make notified
// calls, nothing else killing them (a call left unanswered is a hang):
//
//   - pthread_exit: the threads end on their own; remainroot ends within
//     the deadline with the command's status, 0, or 137 when the process
//     killed was the one to become the command (the launcher, or the
//     command's child before its exec);
//   - forever: every thread of the command goes on being answered (each
//     makes more context switches, one per notified call) until the
//     command is SIGKILLed: 137.
//
// Nothing is left. The log counts the kinds of processes killed.
func TestOwnProcessKilled(t *testing.T) {
	for _, mode := range modes {
		for _, how := range []string{"pthread_exit", "forever"} {
			t.Run(mode+"-"+how, func(t *testing.T) {
				h := newHarness(t, "exiting_threads")
				killed := map[string]int{}
				h.repeat(runs(t), func(int) {
					r := h.start(h.remainroot(mode, h.program("exiting_threads"), how))
					// The pthread_exit program lasts some 10 to 100 ms.
					within := 30 * time.Millisecond
					if how == "forever" {
						within = 100 * time.Millisecond
					}
					kind, pid := h.killOwnProcess(r, rand.N(within), "exiting_threads")
					killed[kind]++
					want := 0
					if how == "forever" {
						want = 128 + int(unix.SIGKILL)
						h.answeredThenKilled(r, "exiting_threads", kind, pid)
					}
					got := r.wait()
					switch {
					case got < 0:
						t.Logf("the hang above followed the SIGKILL of %s %d", kind, pid)
					case got == 128+int(unix.SIGKILL) && how == "pthread_exit" && (kind == "pre-exec child" || kind == LaunchRole):
						killed[kind+", the command's"]++
					case got != want:
						h.fail("status", "%s: exit status %d, want %d (%s %d killed)", r.describe(), got, want, kind, pid)
					}
					h.checkLeftovers(r.describe())
				})
				t.Logf("killed: %v", killed)
			})
		}
	}
}

// answeredThenKilled waits until every live thread of remainroot's child
// named comm has made 50 more voluntary context switches (each notified
// call is one: its calls are answered), then SIGKILLs the child; a thread
// that does not within the deadline is a hang, described with the tree
// before everything is killed. Nothing is done when remainroot ends first
// (its command killed before its exec).
func (h *harness) answeredThenKilled(r *run, comm, kind string, killedPid int) {
	deadline := r.start.Add(exitDeadline)
	pid := 0
	for pid == 0 {
		for _, c := range children(r.pid()) {
			if name, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c)); strings.TrimSpace(string(name)) == comm {
				pid = c
			}
		}
		select {
		case <-r.done:
			return
		default:
		}
		if pid == 0 && time.Now().After(deadline) {
			return // r.wait() reports the hang
		}
		time.Sleep(200 * time.Microsecond)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	start := switches(pid)
	for {
		now := switches(pid)
		behind := 0
		for tid, n := range now {
			if n < start[tid]+50 && tid != pid {
				behind++
			}
		}
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			h.fail("hang", "%s: %d threads of %d unanswered after the SIGKILL of %s %d:\n%s",
				r.describe(), behind, pid, kind, killedPid, dumpTree(r.pid()))
			break
		}
		time.Sleep(time.Millisecond)
	}
	unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
}

// switches returns the voluntary context switches of each live thread
// of pid.
func switches(pid int) map[int]int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	n := map[int]int{}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(filepath.Base(task))
		status, err := os.ReadFile(task + "/status")
		if err != nil || strings.Contains(string(status), "State:\tZ") {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				n[tid], _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	return n
}

// LaunchRole is the launcher's command line role (attach.LaunchRole).
const LaunchRole = "__launch"

// ownKind names a process of remainroot's own by its command line: its
// role for a re-exec of remainroot (__fallback, __doorbell, __launch),
// "pre-exec child" for a child of `run` that has not exec'd (run's own
// command line: the command's child in mode creds, the launcher's, the
// doorbell's, the fallback answerer's, or the Go runtime's probe of
// clone(CLONE_PIDFD), which exits at once), "" for another program.
func (h *harness) ownKind(pid int) string {
	args := strings.Fields(cmdline(pid))
	switch {
	case len(args) >= 2 && args[0] == "remainroot":
		return args[1]
	case len(args) >= 2 && args[0] == h.rr && args[1] == "run":
		return "pre-exec child"
	}
	return ""
}

// killOwnProcess SIGKILLs a random descendant of remainroot's own of run
// r (ownKind), the first found after delay, and returns its kind and
// pid; "none" when remainroot ends first, or its child comm runs and it
// has none of its own (mode full once the launcher has exec'd).
func (h *harness) killOwnProcess(r *run, delay time.Duration, comm string) (string, int) {
	time.Sleep(time.Until(r.start.Add(delay)))
	deadline := r.start.Add(exitDeadline)
	for time.Now().Before(deadline) {
		var own []int
		command := false
		for _, p := range descendants(r.pid()) {
			if h.ownKind(p) != "" {
				own = append(own, p)
			} else if name, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); strings.TrimSpace(string(name)) == comm {
				command = true
			}
		}
		if len(own) > 0 {
			pid := own[rand.N(len(own))]
			// Named again once held: a child may have exec'd meanwhile
			// (it could still do so before the signal).
			if fd, err := unix.PidfdOpen(pid, 0); err == nil {
				kind := h.ownKind(pid)
				if kind != "" && unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) == nil {
					unix.Close(fd)
					return kind, pid
				}
				unix.Close(fd)
			}
		} else if command {
			return "none", 0
		}
		select {
		case <-r.done:
			return "none", 0
		default:
		}
		time.Sleep(100 * time.Microsecond)
	}
	return "none", 0
}
