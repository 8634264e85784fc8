package stress

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// SIGTERM sent to `remainroot run` once its command has exited while the
// command's background grandchild lives on: remainroot ends at once with
// the signal; the grandchild, never attached, then gets the kernel's
// answers through the fallback answerer (`id -u` prints 0, not the bogus
// id of an ENOSYS) and ends.
func TestSignalAfterCommand(t *testing.T) {
	h := newHarness(t)
	var slowest time.Duration
	h.repeat(runs(t), func(i int) {
		trigger := filepath.Join(h.template.Dir, fmt.Sprintf("go.%d", i))
		answer := filepath.Join(h.template.Dir, fmt.Sprintf("id.%d", i))
		pidFile := filepath.Join(h.template.Dir, fmt.Sprintf("cmd.%d", i))
		script := fmt.Sprintf(`(while [ ! -e %s ] && [ -d %s ]; do sleep 0.01; done; id -u > %s.tmp; mv %s.tmp %s) </dev/null >/dev/null 2>&1 & echo $$ > %s.tmp; mv %s.tmp %s; exit 3`,
			trigger, h.template.Dir, answer, answer, answer, pidFile, pidFile, pidFile)
		r := h.start(h.remainroot("creds", "sh", "-c", script+" # "+h.dir))
		if !h.commandGone(r, pidFile) {
			r.wait()
			h.checkLeftovers(r.describe())
			return
		}
		sent := time.Now()
		unix.Kill(r.pid(), unix.SIGTERM)
		if got := r.wait(); got >= 0 && got != 128+int(unix.SIGTERM) {
			h.fail("status", "%s: exit status %d after SIGTERM, want 143", r.describe(), got)
		}
		slowest = max(slowest, time.Since(sent))
		if err := os.WriteFile(trigger, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok := h.grandchildAnswer(r, answer); ok && got != "0" {
			h.fail("other", "%s: the grandchild's id -u printed %q, want 0", r.describe(), got)
		}
		h.checkLeftovers(r.describe())
	})
	t.Logf("remainroot ended %v at most after SIGTERM", slowest.Round(time.Millisecond))
}

// grandchildAnswer waits for the line the grandchild of run r writes to
// answer, and returns it; false, with a hang counted, when none comes
// within exitDeadline.
func (h *harness) grandchildAnswer(r *run, answer string) (string, bool) {
	deadline := time.Now().Add(exitDeadline)
	for {
		data, err := os.ReadFile(answer)
		if err == nil && strings.HasSuffix(string(data), "\n") {
			return strings.TrimSpace(string(data)), true
		}
		if time.Now().After(deadline) {
			h.fail("hang", "%s: the grandchild wrote no answer in %v:\n%s", r.describe(), exitDeadline,
				dumpTree(os.Getpid()))
			return "", false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// commandGone waits until the command, which wrote its pid to pidFile,
// has exited (no longer remainroot's live child); false, with a failure
// counted, when that does not happen within exitDeadline.
func (h *harness) commandGone(r *run, pidFile string) bool {
	deadline := r.start.Add(exitDeadline)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(pidFile); err == nil {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			if st := state(pid); st == 0 || st == 'Z' || !slices.Contains(children(r.pid()), pid) {
				return true
			}
		}
		time.Sleep(time.Millisecond)
	}
	h.fail("hang", "%s: its command did not exit within %v:\n%s", r.describe(), exitDeadline, dumpTree(r.pid()))
	return false
}

// The in-process route after its tracer is gone: as above, the grandchild
// outlives `remainroot run --in-process`; its stats are still answered in
// it (its handler stays), and an exec, which no tracer can follow any
// more, is refused (EPERM: status 126) by the fallback answerer instead of
// leaving a program that the filter layer would kill at its first stat
// (status 159, SIGSYS).
func TestInProcessAfterTracerGone(t *testing.T) {
	h := newHarness(t)
	h.repeat(runs(t), func(i int) {
		trigger := filepath.Join(h.template.Dir, fmt.Sprintf("ip-go.%d", i))
		answer := filepath.Join(h.template.Dir, fmt.Sprintf("ip-answer.%d", i))
		pidFile := filepath.Join(h.template.Dir, fmt.Sprintf("ip-cmd.%d", i))
		// The shell's own test stats (the handler); sleep, true and mv
		// are execs (refused once the tracer is gone: the loop spins).
		script := fmt.Sprintf(`(while [ ! -e %s ] && [ -d %s ]; do sleep 0.01; done; [ -d / ] && u=0 || u=1; /bin/true 2>/dev/null; echo "$u $?" > %s) </dev/null >/dev/null 2>&1 & echo $$ > %s.tmp; mv %s.tmp %s; exit 3`,
			trigger, h.template.Dir, answer, pidFile, pidFile, pidFile)
		r := h.start(h.command(h.rr, "run", "--mode", "full", "--in-process", "--", "sh", "-c", script+" # "+h.dir))
		if !h.commandGone(r, pidFile) {
			r.wait()
			h.checkLeftovers(r.describe())
			return
		}
		unix.Kill(r.pid(), unix.SIGTERM)
		r.wait()
		if err := os.WriteFile(trigger, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok := h.grandchildAnswer(r, answer); ok && got != "0 126" {
			h.fail("other", "%s: the grandchild printed %q, want \"0 126\" (its stat answered, its exec refused)", r.describe(), got)
		}
		h.checkLeftovers(r.describe())
	})
}
