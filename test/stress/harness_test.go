package stress

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// exitDeadline is how long a run may take before it counts as a hang.
const exitDeadline = 20 * time.Second

// leftoverWait is how long processes a run leaves (a fallback answerer
// dropping its listener) may take to end after it.
const leftoverWait = 10 * time.Second

// harness runs commands as the unprivileged user in single-id namespaces,
// on saturated CPUs, and counts what goes wrong.
type harness struct {
	t *testing.T
	// rr is the remainroot binary.
	rr string
	// dir holds the programs: its name is the marker of this test's
	// processes.
	dir string
	// template is a single-id command (testenv.SingleIDCommand) whose
	// namespace tool arguments, working directory and environment every
	// run copies.
	template *exec.Cmd
	// busy are the busy loops' pids.
	busy map[int]bool
	// failures counts failed runs by kind; reports keeps the first few.
	failures map[string]int
	reports  int
}

// maxReports is how many failures are described in full.
const maxReports = 5

// newHarness checks the prerequisites, compiles the named programs of
// test/programs into a directory of the test's own and saturates the CPUs.
func newHarness(t *testing.T, programs ...string) *harness {
	t.Helper()
	testenv.RequireRoot(t)
	for _, tool := range []string{"setpriv", "unshare", "sh", "gcc"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, err == nil, "%s not found in PATH", tool)
	}
	h := &harness{t: t, rr: testenv.Binary(t), failures: map[string]int{}}
	h.dir = testenv.PublicDir(t, "remainroot-stress-")
	for _, p := range programs {
		bin := testenv.CompileC(t, source(t, p+".c"))
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.dir, p), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h.template = testenv.SingleIDCommand(t, "true")
	if rest := leftovers(nil, 0); rest != "" {
		t.Fatalf("children before the test:\n%s", rest)
	}
	h.busy = saturateCPUs(t)
	return h
}

// source returns the absolute path of test/programs/name.
func source(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "programs", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// program returns the path of a compiled program.
func (h *harness) program(name string) string { return filepath.Join(h.dir, name) }

// command returns argv run as the unprivileged user in a fresh single-id
// namespace: the template's namespace tools (which exec, so the started
// process is argv's) before argv.
func (h *harness) command(argv ...string) *exec.Cmd {
	tools := h.template.Args[:len(h.template.Args)-1]
	cmd := exec.Command(h.template.Path, append(append([]string(nil), tools[1:]...), argv...)...)
	cmd.Dir = h.template.Dir
	cmd.Env = h.template.Env
	return cmd
}

// remainroot returns `remainroot run --mode mode -- argv...` as command does.
func (h *harness) remainroot(mode string, argv ...string) *exec.Cmd {
	return h.command(append([]string{h.rr, "run", "--mode", mode, "--"}, argv...)...)
}

// run is one started command.
type run struct {
	h              *harness
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	start          time.Time
	done           chan struct{}
}

// start starts cmd in its own process group.
func (h *harness) start(cmd *exec.Cmd) *run {
	r := &run{h: h, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &r.stdout, &r.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A process left holding the output pipes does not hold up Wait
	// (it is found as a leftover).
	cmd.WaitDelay = time.Second
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("start %s: %v", strings.Join(cmd.Args, " "), err)
	}
	go func() {
		cmd.Wait()
		close(r.done)
	}()
	return r
}

// pid is the started process's: remainroot's, as the namespace tools exec.
func (r *run) pid() int { return r.cmd.Process.Pid }

// wait waits for the run to end within exitDeadline and returns its status
// (128+N for signal N), or -1 for a hang: the process tree is then
// described in a failure and killed.
func (r *run) wait() int {
	select {
	case <-r.done:
	case <-time.After(exitDeadline - time.Since(r.start)):
		dump := dumpTree(r.pid())
		killTree(r.pid())
		<-r.done
		r.h.fail("hang", "%s still running after %v:\n%s", r.describe(), exitDeadline, dump)
		return -1
	}
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// describe names the run and its output for failure messages.
func (r *run) describe() string {
	return fmt.Sprintf("%s\nstdout: %q\nstderr: %q", strings.Join(r.cmd.Args, " "), r.stdout.String(), r.stderr.String())
}

// expect runs cmd and checks its status and that nothing is left.
func (h *harness) expect(cmd *exec.Cmd, status int) {
	r := h.start(cmd)
	if got := r.wait(); got >= 0 && got != status {
		h.fail("status", "%s: exit status %d, want %d", r.describe(), got, status)
	}
	h.checkLeftovers(r.describe())
}

// checkLeftovers fails when anything of the test's is still running.
func (h *harness) checkLeftovers(what string) {
	if rest := leftovers(h.busy, leftoverWait); rest != "" {
		h.fail("leftover", "after %s, still there after %v:\n%s", what, leftoverWait, rest)
	}
	if pids := marked(h.dir); len(pids) > 0 {
		var b strings.Builder
		for _, p := range pids {
			b.WriteString(dumpTree(p))
			killTree(p)
		}
		h.fail("leftover", "after %s, processes of %s left elsewhere:\n%s", what, h.dir, b.String())
	}
}

// fail counts a failure of kind and describes the first few.
func (h *harness) fail(kind, format string, args ...any) {
	h.t.Helper()
	h.failures[kind]++
	if h.reports < maxReports {
		h.reports++
		h.t.Errorf("%s: "+format, append([]any{kind}, args...)...)
	}
}

// repeat runs one scenario n times, then logs the counts.
func (h *harness) repeat(n int, once func(i int)) {
	h.t.Helper()
	h.failures, h.reports = map[string]int{}, 0
	start := time.Now()
	for i := 0; i < n; i++ {
		once(i)
	}
	h.t.Logf("%d runs in %v: hangs %d, wrong statuses %d, leftovers %d, other failures %d",
		n, time.Since(start).Round(time.Millisecond), h.failures["hang"], h.failures["status"],
		h.failures["leftover"], h.failures["other"])
}
