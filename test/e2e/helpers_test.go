// Package e2e holds remainroot's end-to-end tests: real containers started
// by rootless podman (crun and runc), bare rootless runc and crun, and runc
// and crun as root with a single-id user namespace, each with and without
// the remainroot OCI hook. Without the hook each test asserts the failure
// users see today; with it, success.
//
// Run as root: go test -count=1 -v ./test/e2e/
// The first test prepares the machine with test/setup-env.sh (set
// REMAINROOT_E2E_NO_SETUP=1 to skip that step). REMAINROOT_E2E_BIN=/abs/path
// tests that binary instead of building the tree; REMAINROOT_E2E_DEBUG=1
// adds io.remainroot.log-level=debug to every hooked container;
// REMAINROOT_E2E_TABLE=FILE also writes the table there. A missing prerequisite
// skips a test, or fails it when the CI environment variable is set. At the
// end a compatibility table (runtime x scenario -> result, time) is printed.
package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

const (
	debianImage  = "localhost/rr-debian:bookworm"
	busyboxImage = "localhost/rr-busybox:latest"
	cacheDir     = "/var/cache/remainroot-test"
	modeAnn      = "io.remainroot.mode=creds"
	debugAnn     = "io.remainroot.log-level=debug"
	userPath     = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	tracerRole   = "__trace"
)

// TestMain runs the tests and then prints the compatibility table.
func TestMain(m *testing.M) {
	start := time.Now()
	code := m.Run()
	if hooksPath != "" {
		os.RemoveAll(hooksPath)
	}
	for _, d := range extraHookDirs {
		os.RemoveAll(d)
	}
	printTable(time.Since(start))
	os.Exit(code)
}

var (
	setupOnce sync.Once
	setupErr  error
	setupOut  string
)

// setup checks root and the tools every test needs, runs test/setup-env.sh
// once per test process, and returns the remainroot binary (world-readable,
// in a world-readable directory).
func setup(t *testing.T, tools ...string) string {
	t.Helper()
	testenv.RequireRoot(t)
	for _, tool := range append([]string{"runuser", "env", "tar", "bash"}, tools...) {
		_, err := exec.LookPath(tool)
		testenv.Need(t, err == nil, "%s not found in PATH (run test/setup-env.sh)", tool)
	}
	setupOnce.Do(func() {
		if os.Getenv("REMAINROOT_E2E_NO_SETUP") == "1" {
			return
		}
		root := testenv.ModuleRoot(t)
		cmd := exec.Command("bash", filepath.Join(root, "test", "setup-env.sh"))
		cmd.Env = append(os.Environ(), "SKIP_VERIFY=1")
		cmd.Dir = root
		out, errOut, code := testenv.Run(t, cmd, 30*time.Minute)
		setupOut = out + errOut
		if code != 0 {
			setupErr = fmt.Errorf("test/setup-env.sh exited %d", code)
		}
	})
	if setupErr != nil {
		testenv.Need(t, false, "%v:\n%s", setupErr, setupOut)
	}
	testenv.UnprivUser(t)
	if b := os.Getenv("REMAINROOT_E2E_BIN"); b != "" {
		// A prebuilt binary (e.g. an installed one); it must be
		// executable by the test user.
		st, err := os.Stat(b)
		if err != nil || !filepath.IsAbs(b) || st.Mode().Perm()&0o005 != 0o005 {
			t.Fatalf("REMAINROOT_E2E_BIN=%s: want an absolute path to a world-readable, world-executable file (%v)", b, err)
		}
		return b
	}
	return testenv.Binary(t)
}

// testUser returns the unprivileged user's uid, gid and home directory.
func testUser(t testing.TB) (uid, gid int, home string) {
	t.Helper()
	uid, gid = testenv.UnprivUser(t)
	u, err := user.Lookup(testenv.TestUser)
	if err != nil {
		t.Fatal(err)
	}
	return uid, gid, u.HomeDir
}

// runtimeDir returns the test user's XDG_RUNTIME_DIR, which setup-env.sh
// creates.
func runtimeDir(t testing.TB) string {
	t.Helper()
	uid, _, _ := testUser(t)
	dir := "/run/user/" + strconv.Itoa(uid)
	st, err := os.Stat(dir)
	testenv.Need(t, err == nil && st.IsDir(), "%s is missing (run test/setup-env.sh)", dir)
	return dir
}

// asUser returns a command running name with args as the test user, with
// the clean environment rootless podman needs, from /.
func asUser(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	_, _, home := testUser(t)
	argv := []string{"-u", testenv.TestUser, "--", "env", "-i",
		"PATH=" + userPath, "HOME=" + home, "USER=" + testenv.TestUser,
		"LOGNAME=" + testenv.TestUser, "XDG_RUNTIME_DIR=" + runtimeDir(t), "LANG=C.UTF-8",
		name}
	cmd := exec.Command("runuser", append(argv, args...)...)
	cmd.Dir = "/"
	return cmd
}

// result is what one command printed and how it ended.
type result struct {
	args     []string
	stdout   string
	stderr   string
	code     int
	duration time.Duration
}

// String prints everything, for failure messages.
func (r result) String() string {
	return fmt.Sprintf("command: %s\nexit: %d (after %s)\nstdout:\n%s\nstderr:\n%s",
		shellQuote(r.args), r.code, r.duration.Round(time.Millisecond), r.stdout, r.stderr)
}

// output is stdout and stderr together.
func (r result) output() string { return r.stdout + r.stderr }

func run(t testing.TB, cmd *exec.Cmd, timeout time.Duration) result {
	t.Helper()
	start := time.Now()
	out, errOut, code := testenv.Run(t, cmd, timeout)
	return result{args: cmd.Args, stdout: out, stderr: errOut, code: code, duration: time.Since(start)}
}

// podman runs podman as the test user.
func podman(t testing.TB, timeout time.Duration, args ...string) result {
	t.Helper()
	return run(t, asUser(t, "podman", args...), timeout)
}

// shellQuote renders argv for humans to paste into a shell.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@+%", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// randomID returns n random bytes in hex.
func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// userTempDir makes a temporary directory owned by the test user (mode
// 0755), removed when the test ends.
func userTempDir(t testing.TB) string {
	t.Helper()
	uid, gid, _ := testUser(t)
	return testenv.WorkDir(t, uid, gid)
}

// writeUserFile writes a world-readable file.
func writeUserFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	hooksOnce sync.Once
	hooksPath string
	hooksErr  error
)

// hooksDir returns a world-readable hooks.d directory holding the
// remainroot.json that `remainroot hooks-json` prints for the test binary,
// exactly as generated.
func hooksDir(t testing.TB, bin string) string {
	t.Helper()
	hooksOnce.Do(func() {
		out, err := exec.Command(bin, "hooks-json", "--path", bin).Output()
		if err != nil {
			hooksErr = fmt.Errorf("%s hooks-json --path %s: %v", bin, bin, err)
			return
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			hooksErr = fmt.Errorf("hooks-json printed invalid JSON: %v\n%s", err, out)
			return
		}
		dir, err := os.MkdirTemp("", "remainroot-e2e-hooks-")
		if err != nil {
			hooksErr = err
			return
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			hooksErr = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "remainroot.json"), out, 0o644); err != nil {
			hooksErr = err
			return
		}
		hooksPath = dir
	})
	if hooksErr != nil {
		t.Fatal(hooksErr)
	}
	return hooksPath
}

// tracerProc is a running remainroot tracer.
type tracerProc struct {
	pid     int
	cmdline string
	id      string // its --id argument: the container id
}

// roleProc is a running process of one of remainroot's hidden roles.
type roleProc struct {
	pid  int
	argv []string
}

// flag returns the value of argv's --name flag, or "".
func (p roleProc) flag(name string) string {
	for i := 2; i+1 < len(p.argv); i++ {
		if p.argv[i] == "--"+name {
			return p.argv[i+1]
		}
	}
	return ""
}

// procsWithRole lists the running processes whose argv[1] is role. The
// test's own processes never have it.
func procsWithRole(role string) []roleProc {
	var list []roleProc
	for _, p := range hostProcs() {
		if len(p.argv) >= 2 && p.argv[1] == role {
			list = append(list, p)
		}
	}
	return list
}

// hostProcs lists the host's running processes with their argv (kernel
// threads and zombies have none and are left out).
func hostProcs() []roleProc {
	var list []roleProc
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(data) == 0 {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		list = append(list, roleProc{pid: pid, argv: argv})
	}
	return list
}

// parentPid returns the parent of process pid (0 when it is gone).
func parentPid(pid int) int {
	f := procStat(pid)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// procStat returns the fields of /proc/PID/stat after the command name
// (f[0] is the state, field 3 of proc(5)), nil when pid is gone.
func procStat(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The command name ends at the last ')'.
	return strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
}

// tracers lists the running remainroot tracer processes: those whose
// argv[1] is the hidden tracer role, and the supervisors.
func tracers() []tracerProc {
	var list []tracerProc
	for _, p := range procsWithRole(tracerRole) {
		list = append(list, tracerProc{pid: p.pid, cmdline: strings.Join(p.argv, " "), id: p.flag("id")})
	}
	// The supervisors of containers whose config the precreate hook
	// rewrote trace those containers' processes.
	return append(list, supervisors()...)
}

// tracersFor lists the tracers whose container id is in ids.
func tracersFor(ids ...string) []tracerProc {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []tracerProc
	for _, p := range tracers() {
		if want[p.id] {
			out = append(out, p)
		}
	}
	return out
}

// waitNoTracers waits up to timeout until no tracer for ids runs, and
// returns how long that took and the tracers still running.
func waitNoTracers(timeout time.Duration, ids ...string) (time.Duration, []tracerProc) {
	start := time.Now()
	for {
		left := tracersFor(ids...)
		if len(left) == 0 || time.Since(start) > timeout {
			return time.Since(start), left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tracerLog finds the tracer's log for container id in the places the hook
// writes it ($REMAINROOT_LOG_DIR; /run/remainroot for euid 0; else
// $XDG_RUNTIME_DIR/remainroot; else /tmp/remainroot-<euid>)
// and returns its path and contents ("" when there is none).
func tracerLog(id string) (string, string) {
	if id == "" {
		return "", ""
	}
	dirs := []string{"/run/remainroot"}
	if d := os.Getenv("REMAINROOT_LOG_DIR"); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	// The fallback $TMPDIR/remainroot-<euid>: the hook runs with an
	// empty environment (so /tmp) as uid 0 (root, or rootless podman's
	// namespace) or as the test user (bare rootless runtimes).
	dirs = append(dirs, "/tmp/remainroot-0")
	if u, err := user.Lookup(testenv.TestUser); err == nil {
		// $XDG_RUNTIME_DIR/remainroot: runc passes its environment on
		// to hooks, so a rootless runc's hook has the test user's.
		dirs = append(dirs, "/run/user/"+u.Uid+"/remainroot", "/tmp/remainroot-"+u.Uid)
	}
	if d := os.Getenv("TMPDIR"); d != "" && d != "/tmp" {
		dirs = append(dirs, filepath.Join(d, "remainroot-0"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, filepath.Base(id)+".log")
		if data, err := os.ReadFile(p); err == nil {
			return p, string(data)
		}
	}
	return "", ""
}

// logReport renders the tracer log of id for a failure message.
func logReport(id string) string {
	p, data := tracerLog(id)
	if p == "" {
		return fmt.Sprintf("(no tracer log found for container %s)", id)
	}
	const max = 20000
	if len(data) > max {
		data = "...\n" + data[len(data)-max:]
	}
	return fmt.Sprintf("tracer log %s:\n%s", p, data)
}

// The compatibility table.

type tableRow struct {
	runtime  string
	scenario string
	hook     string // "hook" or "no hook"
	pass     bool
	duration time.Duration
}

var (
	tableMu sync.Mutex
	table   []tableRow
)

// record adds a row to the table once the (sub)test ends: pass is
// !t.Failed() then, so call it at the start of the test.
func record(t *testing.T, runtime, scenario string, withHook bool) {
	start := time.Now()
	t.Cleanup(func() {
		if t.Skipped() {
			return
		}
		addRow(runtime, scenario, withHook, !t.Failed(), time.Since(start))
	})
}

// addRow adds a row to the table.
func addRow(runtime, scenario string, withHook, pass bool, d time.Duration) {
	hook := "no hook"
	if withHook {
		hook = "hook"
	}
	tableMu.Lock()
	defer tableMu.Unlock()
	table = append(table, tableRow{runtime, scenario, hook, pass, d})
}

func printTable(total time.Duration) {
	tableMu.Lock()
	defer tableMu.Unlock()
	if len(table) == 0 {
		return
	}
	rows := append([]tableRow(nil), table...)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].runtime != rows[j].runtime {
			return rows[i].runtime < rows[j].runtime
		}
		return rows[i].scenario < rows[j].scenario
	})
	var b strings.Builder
	fmt.Fprintf(&b, "\nremainroot e2e compatibility (expected: \"no hook\" rows reproduce today's failure, \"hook\" rows succeed)\n")
	fmt.Fprintf(&b, "(time: the check's wall time; for the Debian apt, useradd+su and nginx rows, that step's time inside the shared container)\n")
	fmt.Fprintf(&b, "| runtime | scenario | hook | result | time |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		res := "pass"
		if !r.pass {
			res = "FAIL"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.1f s |\n", r.runtime, r.scenario, r.hook, res, r.duration.Seconds())
	}
	fmt.Fprintf(&b, "total e2e time: %.0f s\n", total.Seconds())
	if n := podmanLostOutput.Load(); n > 0 {
		fmt.Fprintf(&b, "podman lost the output of %d container run(s) (rerun each once)\n", n)
	}
	fmt.Print(b.String())
	if p := os.Getenv("REMAINROOT_E2E_TABLE"); p != "" {
		os.WriteFile(p, []byte(b.String()), 0o644)
	}
}
