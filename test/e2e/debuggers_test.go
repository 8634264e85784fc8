package e2e

// Issue 9: a user's own debuggers and sanitizers inside an annotated
// rootless podman container (mode creds, the installed hooks layout), under
// crun and runc. strace, gdb and a leaking program built with
// -fsanitize=address (LeakSanitizer stops the world with ptrace) must
// behave as in the same container without the annotation, for processes
// whose credentials never diverged; a debugger started by a process that
// did diverge (su nobody) must fail at once with a clear error, not hang.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// debugImage is the Debian image plus strace and gdb (test/setup-env.sh).
const debugImage = "localhost/rr-debian-debug:bookworm"

// dbgTimeout bounds each container run (podman itself takes 1-2 s here).
const dbgTimeout = 60 * time.Second

// dbgSuProbe is the start of every scenario's script: a sibling of the
// debugger su's to nobody, which works only with remainroot ("su-ok";
// bare: "su-failed"). It shows that remainroot is active in the annotated
// container, and that a diverged sibling leaves the shell and its later
// children untouched. The scenario's command then runs as a child of the
// shell (not exec'd, and not the container's first process), as in a CI
// script, and the shell exits with its status.
const dbgSuProbe = `if su -s /bin/sh nobody -c true 2>/dev/null; then echo su-ok; else echo su-failed; fi; "$@"; exit $?`

// dbgCompileASan compiles test/programs/asan_leak.c with AddressSanitizer
// linked statically (-static-libasan: the image has no libasan; its libc
// is the host's, Debian 12's) into a world-readable file, bind-mounted
// read-only into the containers as /asan_leak.
func dbgCompileASan(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testenv.ModuleRoot(t), "test", "programs", "asan_leak.c")
	dir := testenv.PublicDir(t, "remainroot-e2e-asan-")
	out := filepath.Join(dir, "asan_leak")
	args := []string{"-fsanitize=address", "-static-libasan", "-g", "-O0", "-o", out, src}
	if output, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		testenv.Need(t, false, "gcc %s (libasan8 comes with Debian's gcc-12): %v\n%s", strings.Join(args, " "), err, output)
	}
	if err := os.Chmod(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// dbgRun runs the scenario's command after dbgSuProbe in a container of
// debugImage under runtime rt, annotated (mode creds) when hook, and
// returns the result with the probe's line removed from stdout, and that
// line.
func dbgRun(t *testing.T, bin, rt string, hook bool, leak string, timeout time.Duration, cmd ...string) (r result, probe string) {
	t.Helper()
	r, id := podmanRun(t, bin, container{runtime: rt, hook: hook, image: debugImage, timeout: timeout,
		extra: []string{"-v", leak + ":/asan_leak:ro"},
		cmd:   append([]string{"sh", "-c", dbgSuProbe, "sh"}, cmd...)})
	epRemoveLogAfter(t, id)
	probe, rest, _ := strings.Cut(r.stdout, "\n")
	r.stdout = rest
	return r, probe
}

// dbgPair runs the scenario bare and annotated; it fails t unless the
// probe shows remainroot in the annotated container only.
func dbgPair(t *testing.T, bin, rt, leak string, cmd ...string) (bare, hooked result) {
	t.Helper()
	bare, probe := dbgRun(t, bin, rt, false, leak, dbgTimeout, cmd...)
	if probe != "su-failed" {
		t.Errorf("without the annotation: want su to fail (\"su-failed\" first), got %q\n%s", probe, bare)
	}
	hooked, probe = dbgRun(t, bin, rt, true, leak, dbgTimeout, cmd...)
	if probe != "su-ok" {
		t.Errorf("with the annotation: want su to work (\"su-ok\" first), got %q: is remainroot there?\n%s", probe, hooked)
	}
	return bare, hooked
}

// Messages of LeakSanitizer: its report, and its failure to stop the
// world under another tracer.
const (
	dbgLsanReport = "ERROR: LeakSanitizer: detected memory leaks"
	dbgLsanLeak   = "SUMMARY: AddressSanitizer: 4242 byte(s) leaked in 1 allocation(s)."
	dbgLsanFatal  = "LeakSanitizer has encountered a fatal error"
)

// TestDebuggers: strace, gdb and the ASan leak program in a container with
// and without the annotation, compared; then strace after su nobody in the
// annotated container. Today every annotated run fails: remainroot holds
// each process's one tracer slot (strace: "PTRACE_TRACEME: Operation not
// permitted"; gdb: "ptrace: Operation not permitted"; LeakSanitizer: "has
// encountered a fatal error").
func TestDebuggers(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc", "gcc")
	r := podman(t, time.Minute, "image", "exists", debugImage)
	testenv.Need(t, r.code == 0, "image %s (run test/setup-env.sh)\n%s", debugImage, r)
	leak := dbgCompileASan(t)
	for _, rt := range podmanRuntimes {
		t.Run(rt, func(t *testing.T) {
			t.Run("strace", func(t *testing.T) {
				record(t, "podman+"+rt, "strace -f -o /dev/null id", true)
				bare, hooked := dbgPair(t, bin, rt, leak, "strace", "-f", "-o", "/dev/null", "id")
				if bare.code != 0 || !strings.HasPrefix(bare.stdout, "uid=0(root) gid=0(root)") {
					t.Fatalf("without the annotation: want exit 0 and root's ids\n%s", bare)
				}
				if hooked.code != bare.code || hooked.stdout != bare.stdout {
					t.Errorf("with the annotation: want exit %d and stdout %q as without\n%s", bare.code, bare.stdout, hooked)
				}
			})
			t.Run("gdb", func(t *testing.T) {
				record(t, "podman+"+rt, "gdb -batch -ex run --args /bin/true", true)
				const normal = "exited normally]"
				bare, hooked := dbgPair(t, bin, rt, leak, "gdb", "-nx", "-batch", "-ex", "run", "--args", "/bin/true")
				if bare.code != 0 || !strings.Contains(bare.stdout, normal) {
					t.Fatalf("without the annotation: want exit 0 and %q\n%s", normal, bare)
				}
				if hooked.code != bare.code || !strings.Contains(hooked.stdout, normal) {
					t.Errorf("with the annotation: want exit %d and %q as without\n%s", bare.code, normal, hooked)
				}
			})
			t.Run("asan", func(t *testing.T) {
				record(t, "podman+"+rt, "ASan leak report (LeakSanitizer)", true)
				bare, hooked := dbgPair(t, bin, rt, leak, "/asan_leak")
				if bare.code == 0 || !strings.Contains(bare.stderr, dbgLsanReport) || !strings.Contains(bare.stderr, dbgLsanLeak) ||
					strings.Contains(bare.stderr, dbgLsanFatal) {
					t.Fatalf("without the annotation: want a non-zero exit and LeakSanitizer's report %q, %q\n%s", dbgLsanReport, dbgLsanLeak, bare)
				}
				switch {
				case strings.Contains(hooked.stderr, dbgLsanFatal):
					t.Errorf("with the annotation: LeakSanitizer failed (%q): the process is traced\n%s", dbgLsanFatal, hooked)
				case hooked.code != bare.code || !strings.Contains(hooked.stderr, dbgLsanReport) || !strings.Contains(hooked.stderr, dbgLsanLeak):
					t.Errorf("with the annotation: want exit %d and LeakSanitizer's report %q, %q as without\n%s",
						bare.code, dbgLsanReport, dbgLsanLeak, hooked)
				}
			})
			// A diverged process (su nobody: an id the single mapping
			// does not have) and all its descendants stay traced by
			// remainroot, so strace cannot trace them: the documented
			// behaviour (README, Limits) is that strace fails at once with
			// "Operation not permitted" (PTRACE_TRACEME) and a non-zero
			// status. It must not hang. Without the annotation su itself
			// fails, so there is nothing to compare.
			t.Run("diverged", func(t *testing.T) {
				record(t, "podman+"+rt, "su nobody, then strace: clear error", true)
				// A deadline, not the expected time: a container's start
				// alone takes more than 30 s on a saturated machine.
				const limit = 2 * time.Minute
				r, probe := dbgRun(t, bin, rt, true, leak, limit, "su", "nobody", "-s", "/bin/sh", "-c", "id -u; strace -f -o /dev/null id")
				if probe != "su-ok" || !strings.HasPrefix(r.stdout, "65534\n") {
					t.Errorf("want su to work and the shell to be nobody (\"su-ok\", then \"65534\")\n%s", r)
				}
				if r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
					t.Errorf("strace of a diverged process: want a non-zero exit and \"Operation not permitted\"\n%s", r)
				}
			})
		})
	}
}
