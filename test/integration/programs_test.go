package integration

// Programs run under `remainroot run` in a single-id user namespace, compared
// with the same programs run bare in that namespace (where credential
// changes fail) and, where it makes sense, with the real kernel's behaviour
// for real root in a fully mapped namespace (testenv.FullMapCommand).
//
// Helpers shared by programs_test.go, signals_test.go and attach_test.go are
// prefixed with "prog".

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// progSetup checks the prerequisites every test here shares (root, to
// create the namespaces, and the tools the namespaces are made with) and
// returns the remainroot binary.
func progSetup(t *testing.T, tools ...string) string {
	t.Helper()
	testenv.RequireRoot(t)
	for _, tool := range append([]string{"setpriv", "unshare", "sh"}, tools...) {
		_, err := exec.LookPath(tool)
		testenv.Need(t, err == nil, "%s not found in PATH", tool)
	}
	testenv.UnprivUser(t)
	return testenv.Binary(t)
}

// progSource returns the absolute path of a file under test/programs.
func progSource(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "programs", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// progCompileC compiles test/programs/name (a C file) statically.
func progCompileC(t *testing.T, name string) string {
	t.Helper()
	_, err := exec.LookPath("gcc")
	testenv.Need(t, err == nil, "gcc not found in PATH")
	return testenv.CompileC(t, progSource(t, name))
}

// progBuildGo builds the Go program in test/programs/dir without cgo (so
// that set*id go through the runtime's AllThreadsSyscall) into a
// world-readable directory and returns the executable's path.
func progBuildGo(t *testing.T, dir string) string {
	t.Helper()
	src := progSource(t, dir)
	out, err := os.MkdirTemp("", "remainroot-goprog-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(out) })
	if err := os.Chmod(out, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(out, filepath.Base(dir))
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, output)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// progRR returns a command running `remainroot run -- argv...` as the
// unprivileged user in a fresh single-id user namespace. setpriv and
// unshare exec, so the started process is remainroot itself.
func progRR(t *testing.T, rr string, argv ...string) *exec.Cmd {
	t.Helper()
	return testenv.SingleIDCommand(t, rr, append([]string{"run", "--"}, argv...)...)
}

// progCmdline formats a command for failure messages.
func progCmdline(cmd *exec.Cmd) string {
	return strings.Join(cmd.Args, " ")
}

// progOutput is a thread-safe output buffer that remembers when it was
// last written to.
type progOutput struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	last time.Time
}

func (o *progOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.last = time.Now()
	return o.buf.Write(p)
}

func (o *progOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func (o *progOutput) lastWrite() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// progProc is a started command whose output is collected as it comes.
type progProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout progOutput
	stderr progOutput
	start  time.Time
	end    time.Time
	done   chan struct{}
	err    error
}

// progStart starts cmd with its stdout and stderr collected (unless the
// caller set them) in a new process group (unless the caller set
// SysProcAttr). Every process of its tree still alive when the test ends
// is killed.
func progStart(t *testing.T, cmd *exec.Cmd) *progProc {
	t.Helper()
	p := &progProc{t: t, cmd: cmd, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = &p.stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &p.stderr
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 3 * time.Second
	}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", progCmdline(cmd), err)
	}
	pid := cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		p.end = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() {
		progKillTree(pid)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: still not reaped 10 s after SIGKILL", progCmdline(cmd))
		}
	})
	return p
}

// pid returns the pid of the started process.
func (p *progProc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has been reaped.
func (p *progProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// transcript describes the process and its output for failure messages.
func (p *progProc) transcript() string {
	state := "running"
	if p.exited() {
		state = progStatus(p.cmd.ProcessState)
	}
	return fmt.Sprintf("command: %s\nstate: %s\nstdout:\n%s\nstderr:\n%s",
		progCmdline(p.cmd), state, p.stdout.String(), p.stderr.String())
}

// waitOutput waits until stdout contains s; it fails the test on timeout
// or when the process exits first.
func (p *progProc) waitOutput(s string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.stdout.String(), s) {
		if p.exited() {
			p.t.Fatalf("process exited before printing %q\n%s", s, p.transcript())
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q on stdout after %v\n%s", s, timeout, p.transcript())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its state; it fails the
// test on timeout.
func (p *progProc) wait(timeout time.Duration) *os.ProcessState {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("still running after %v\n%s", timeout, p.transcript())
	}
	if p.cmd.ProcessState == nil {
		p.t.Fatalf("wait: %v\n%s", p.err, p.transcript())
	}
	return p.cmd.ProcessState
}

// elapsed is the time from start to exit.
func (p *progProc) elapsed() time.Duration { return p.end.Sub(p.start) }

// progStatus formats a wait status: "exit N" or "signal NAME".
func progStatus(ps *os.ProcessState) string {
	if ps == nil {
		return "not exited"
	}
	ws := ps.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "exit " + strconv.Itoa(ws.ExitStatus())
}

// progRun runs cmd to completion within timeout and returns its stdout,
// stderr and process state.
func progRun(t *testing.T, cmd *exec.Cmd, timeout time.Duration) (p *progProc, ps *os.ProcessState) {
	t.Helper()
	p = progStart(t, cmd)
	ps = p.wait(timeout)
	return p, ps
}

// progChildren maps each pid to its children's pids, from /proc.
func progChildren() map[int][]int {
	kids := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := progStat(pid)
		if err != nil {
			continue
		}
		kids[st.ppid] = append(kids[st.ppid], pid)
	}
	return kids
}

// progDescendants returns root and every process below it.
func progDescendants(root int) []int {
	kids := progChildren()
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, kids[out[i]]...)
	}
	return out
}

// progKillTree sends SIGKILL to root, its descendants and the process
// groups they lead.
func progKillTree(root int) {
	for _, pid := range progDescendants(root) {
		if st, err := progStat(pid); err == nil && st.pgrp == pid {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// progProcStat holds the fields of /proc/PID/stat the tests use.
type progProcStat struct {
	comm  string
	state byte
	ppid  int
	pgrp  int
}

func progStat(pid int) (progProcStat, error) {
	var st progProcStat
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return st, err
	}
	s := string(data)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return st, fmt.Errorf("bad /proc/%d/stat: %q", pid, s)
	}
	st.comm = s[open+1 : closing]
	f := strings.Fields(s[closing+1:])
	if len(f) < 3 {
		return st, fmt.Errorf("bad /proc/%d/stat: %q", pid, s)
	}
	st.state = f[0][0]
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	return st, nil
}

// progFindDescendant waits until a live descendant of root named comm
// appears and returns its pid.
func progFindDescendant(t *testing.T, root int, comm string, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, pid := range progDescendants(root)[1:] {
			if st, err := progStat(pid); err == nil && st.comm == comm && st.state != 'Z' {
				return pid
			}
		}
		if time.Now().After(deadline) {
			return 0
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// progIsStopped reports whether the state letter is a stop: 'T' (stopped
// by a signal) or 't' (a ptrace stop: a traced process in group-stop shows
// 't' while its tracer listens).
func progIsStopped(state byte) bool { return state == 'T' || state == 't' }

// progCompareCreds runs bin bare, under remainroot, and as real root in a
// fully mapped namespace, and checks that the bare run fails as the single
// mapping makes it fail and that the other two print want.
func progCompareCreds(t *testing.T, rr, bin string, want string, nativeFailures []string) {
	t.Helper()
	const timeout = 30 * time.Second

	native, ps := progRun(t, testenv.SingleIDCommand(t, bin), timeout)
	t.Logf("bare in single-id namespace: %s\n%s", progStatus(ps), native.stdout.String())
	if ps.ExitCode() != 1 {
		t.Errorf("bare run: want exit 1 (calls fail), got %s\n%s", progStatus(ps), native.transcript())
	}
	for _, s := range nativeFailures {
		if !strings.Contains(native.stdout.String(), s) {
			t.Errorf("bare run: want %q in the output\n%s", s, native.transcript())
		}
	}

	full, ps := progRun(t, testenv.FullMapCommand(t, bin), timeout)
	if ps.ExitCode() != 0 || full.stdout.String() != want {
		t.Errorf("real root (full mapping): got %s, want exit 0 and stdout\n%s\n%s",
			progStatus(ps), want, full.transcript())
	}

	emu, ps := progRun(t, progRR(t, rr, bin), timeout)
	if ps.ExitCode() != 0 {
		t.Errorf("under remainroot: want exit 0, got %s\n%s", progStatus(ps), emu.transcript())
	}
	if got := emu.stdout.String(); got != full.stdout.String() {
		t.Errorf("under remainroot: stdout differs from the real kernel's\nremainroot:\n%s\nreal root:\n%s\n%s",
			got, full.stdout.String(), emu.transcript())
	}
}

// TestThreadedGlibcSetuid: glibc broadcasts setgroups/setresgid/setresuid
// to every thread of a process (threads blocked in a barrier's futex wait
// receive SIGSETXID and make the call themselves); under remainroot each
// thread's own raw getresuid/getresgid/getgroups must show the new ids,
// exactly as with the real kernel.
func TestThreadedGlibcSetuid(t *testing.T) {
	rr := progSetup(t)
	bin := progCompileC(t, "threaded_setuid.c")
	ids := "uid=1000,1000,1000 gid=1000,1000,1000 groups=1000\n"
	want := "setgroups: ok\nsetresgid: ok\nsetresuid: ok\n" +
		"main: " + ids + "thread0: " + ids + "thread1: " + ids + "thread2: " + ids + "thread3: " + ids
	progCompareCreds(t, rr, bin, want, []string{
		"setgroups: Operation not permitted\n",
		"setresgid: Invalid argument\n",
		"setresuid: Invalid argument\n",
		"thread3: uid=0,0,0 gid=0,0,0",
	})
}

// TestGoSetresuid: a static Go program (no cgo) calls syscall.Setgroups,
// Setresgid and Setresuid, which the Go runtime performs on every OS thread
// (AllThreadsSyscall, which panics if the threads disagree), while four
// goroutines spin on locked OS threads; each locked thread then reports its
// raw ids. Same comparisons as TestThreadedGlibcSetuid.
func TestGoSetresuid(t *testing.T) {
	rr := progSetup(t, "go")
	bin := progBuildGo(t, "gosetid")
	ids := "uid=1000,1000,1000 gid=1000,1000,1000 groups=1000\n"
	want := "setgroups: ok\nsetresgid: ok\nsetresuid: ok\ndistinct worker threads: 4\n" +
		"main: " + ids + "worker0: " + ids + "worker1: " + ids + "worker2: " + ids + "worker3: " + ids
	progCompareCreds(t, rr, bin, want, []string{
		"setgroups: operation not permitted\n",
		"setresgid: invalid argument\n",
		"setresuid: invalid argument\n",
		"worker3: uid=0,0,0 gid=0,0,0",
	})
}

// progBusybox returns a static busybox, installing Debian's busybox-static
// when it is missing (the tests run as root).
func progBusybox(t *testing.T) string {
	t.Helper()
	const bb = "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		if _, err := exec.LookPath("apt-get"); err == nil {
			cmd := exec.Command("apt-get", "install", "-y", "busybox-static")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			out, err := cmd.CombinedOutput()
			t.Logf("apt-get install -y busybox-static: %v\n%s", err, out)
		}
	}
	_, err := os.Stat(bb)
	testenv.Need(t, err == nil, "%s (Debian package busybox-static)", bb)
	// A dynamic busybox would work too; the static one is what
	// LD_PRELOAD-based tools cannot handle, so insist on it.
	f, err := elf.Open(bb)
	if err != nil {
		t.Fatalf("%s: %v", bb, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		testenv.Need(t, prog.Type != elf.PT_INTERP, "%s is dynamically linked; install busybox-static", bb)
	}
	return bb
}

// TestBusyboxSu: static busybox `su -s /bin/sh nobody -c id` drops to
// nobody under remainroot (as it does for real root), and fails bare with
// busybox's message about setgroups.
func TestBusyboxSu(t *testing.T) {
	rr := progSetup(t)
	bb := progBusybox(t)
	args := []string{bb, "su", "-s", "/bin/sh", "nobody", "-c", "id"}
	const want = "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"
	const timeout = 30 * time.Second

	native, ps := progRun(t, testenv.SingleIDCommand(t, args[0], args[1:]...), timeout)
	if ps.ExitCode() != 1 || native.stdout.String() != "" ||
		native.stderr.String() != "su: can't set groups: Operation not permitted\n" {
		t.Errorf("bare: want exit 1, no stdout, stderr %q\n%s",
			"su: can't set groups: Operation not permitted\n", native.transcript())
	}

	full, ps := progRun(t, testenv.FullMapCommand(t, args[0], args[1:]...), timeout)
	if ps.ExitCode() != 0 || full.stdout.String() != want {
		t.Errorf("real root (full mapping): want exit 0 and %q\n%s", want, full.transcript())
	}

	emu, ps := progRun(t, progRR(t, rr, args...), timeout)
	if ps.ExitCode() != 0 || emu.stdout.String() != want {
		t.Errorf("under remainroot: want exit 0 and %q\n%s", want, emu.transcript())
	}
}

// progPipelineScript forks and execs many times: pipelines, command
// substitutions, nested subshells and background jobs collected by wait.
const progPipelineScript = `set -e
for i in $(seq 200); do echo $i | tr 0-9 a-j | cat; done | sort | uniq -c | wc -l
for i in $(seq 40); do (echo $i; (echo sub$i | tr a-z A-Z; (echo deep$i))) ; done | sort | cksum
for j in 1 2 3 4 5 6 7 8; do (sleep 0.0$j; echo bg$j; sh -c "echo inner$j | cat") > bg$j.out & done
sleep 0.2 | cat &
wait
cat bg1.out bg2.out bg3.out bg4.out bg5.out bg6.out bg7.out bg8.out
echo "$(echo "$(echo "$(id -u) $(id -g)" | tr 0 z)")"
x=$( (seq 100 | while read n; do echo $((n*n)); done) | tail -n 1)
echo last $x
`

// TestShellPipelineManyForks: a shell script with hundreds of forks and
// execs prints the same under remainroot as bare, and remainroot exits
// promptly once the script has finished.
func TestShellPipelineManyForks(t *testing.T) {
	rr := progSetup(t, "seq", "tr", "sort", "uniq", "wc", "cksum", "tail")
	const timeout = 50 * time.Second

	native, ps := progRun(t, testenv.SingleIDCommand(t, "sh", "-c", progPipelineScript), timeout)
	if ps.ExitCode() != 0 || native.stderr.String() != "" {
		t.Fatalf("bare: want exit 0 and no stderr\n%s", native.transcript())
	}
	if !strings.HasPrefix(native.stdout.String(), "200\n") || !strings.HasSuffix(native.stdout.String(), "last 10000\n") {
		t.Fatalf("bare: unexpected output\n%s", native.transcript())
	}

	emu, ps := progRun(t, progRR(t, rr, "sh", "-c", progPipelineScript), timeout)
	t.Logf("bare %v, under remainroot %v", native.elapsed().Round(time.Millisecond), emu.elapsed().Round(time.Millisecond))
	if ps.ExitCode() != 0 {
		t.Errorf("under remainroot: want exit 0, got %s\n%s", progStatus(ps), emu.transcript())
	}
	if emu.stdout.String() != native.stdout.String() {
		t.Errorf("under remainroot: stdout differs\nbare:\n%s\n%s", native.stdout.String(), emu.transcript())
	}
	// The script's last output line comes just before it exits: remainroot
	// must not linger after the last tracee is gone.
	if last := emu.stdout.lastWrite(); last.IsZero() {
		t.Errorf("under remainroot: no output at all")
	} else if lag := emu.end.Sub(last); lag > 2*time.Second {
		t.Errorf("under remainroot: exited %v after the script's last output (want < 2 s)", lag)
	}
}

// TestStubKeepsRegisters: in mode full, most stats of a path are made by
// remainroot's stub inside the thread. A program making stats with the
// syscall instruction itself (sentinels in every register, an unusual
// flags pattern, a timer signal whose handler stats too) must see the same
// results and the same registers as with the real kernel as real root:
// regular files with and without a recorded owner, a missing file, a
// symlink and a FIFO with owners in the table of special files, and
// lookups relative to a directory descriptor.
func TestStubKeepsRegisters(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the stub and this test's assembly are x86-64 only")
	}
	rr := progSetup(t)
	bin := progCompileC(t, "stat_registers.c")
	native, stderr, code := testenv.Run(t, testenv.FullMapCommand(t, bin, "300"), time.Minute)
	if code != 0 {
		t.Fatalf("native run: exit %d\n%s%s", code, native, stderr)
	}
	if !strings.Contains(native, "iterations-differing 0 handler-bad 0 handler-ran yes") {
		t.Fatalf("native run is not the reference this test expects:\n%s", native)
	}
	cmd := testenv.SingleIDCommand(t, rr, "run", "--mode", "full", "--stats", "stats.json", "--", bin, "300")
	stats := filepath.Join(cmd.Dir, "stats.json") // the unprivileged user's directory
	got, stderr, code := testenv.Run(t, cmd, 2*time.Minute)
	if code != 0 || got != native {
		t.Fatalf("under remainroot --mode full: exit %d\n%s%s\nwant (real root):\n%s", code, got, stderr, native)
	}
	data, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Fused uint64 `json:"fused_plans"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	// 300 iterations of 8 stats (and the handler's): the stub made most.
	if st.Fused < 2400 {
		t.Errorf("fused_plans %d: the stub did not run the stats (stats: %s)", st.Fused, data)
	}
}

// TestGoChownsOnSmallStacks: a static Go program drops to uid 1000 and
// chowns root's files from 200 goroutines on small stacks. Mode creds
// emulates each chown with a plan (the thread stats the file first), whose
// data must not go below a thread's stack pointer (issue 11, item 0: it
// crashed with SIGSEGV in syscall.Fchownat); the output must be real
// root's.
func TestGoChownsOnSmallStacks(t *testing.T) {
	rr := progSetup(t)
	_, err := exec.LookPath("go")
	testenv.Need(t, err == nil, "go not found in PATH")
	bin := progBuildGo(t, "gochown")
	native, stderr, code := testenv.Run(t, testenv.FullMapCommand(t, bin), time.Minute)
	if code != 0 || native != "bad 0\noperation not permitted 20000\n" {
		t.Fatalf("native run: exit %d\n%s%s", code, native, stderr)
	}
	for _, mode := range []string{"creds", "full"} {
		for run := 0; run < 3; run++ {
			cmd := testenv.SingleIDCommand(t, rr, "run", "--mode", mode, "--", bin)
			got, stderr, code := testenv.Run(t, cmd, 2*time.Minute)
			if code != 0 || got != native {
				t.Fatalf("under remainroot --mode %s: exit %d\n%s%s\nwant (real root): %s", mode, code, got, stderr, native)
			}
		}
	}
}

// TestGoChownsAsRootUnattached: the same program staying root gives the
// files to uid 1000 from 200 goroutines. Under mode creds the process is
// never attached for its credentials (they stay the real ones), so each
// chown reaches the supervisor as a notification and is brought to a
// ptrace stop from there (issue 9): the first attaches the whole
// multi-threaded process. The output must be real root's.
func TestGoChownsAsRootUnattached(t *testing.T) {
	rr := progSetup(t)
	_, err := exec.LookPath("go")
	testenv.Need(t, err == nil, "go not found in PATH")
	bin := progBuildGo(t, "gochown")
	native := testenv.FullMapCommand(t, bin)
	native.Env = append(native.Env, "GOCHOWN_AS_ROOT=1")
	want, stderr, code := testenv.Run(t, native, time.Minute)
	if code != 0 || want != "bad 0\nok 20000\n" {
		t.Fatalf("native run: exit %d\n%s%s", code, want, stderr)
	}
	for run := 0; run < 3; run++ {
		cmd := testenv.SingleIDCommand(t, rr, "run", "--stats", "stats.json", "--", bin)
		cmd.Env = append(cmd.Env, "GOCHOWN_AS_ROOT=1")
		stats := filepath.Join(cmd.Dir, "stats.json") // the unprivileged user's directory
		got, stderr, code := testenv.Run(t, cmd, 2*time.Minute)
		if code != 0 || got != want {
			t.Fatalf("under remainroot: exit %d\n%s%s\nwant (real root): %s", code, got, stderr, want)
		}
		data, _ := os.ReadFile(stats)
		var st struct {
			Escalated uint64 `json:"escalated"`
		}
		if err := json.Unmarshal(data, &st); err != nil || st.Escalated == 0 {
			t.Fatalf("stats %s: want at least one escalated call (err %v)", data, err)
		}
	}
}

// TestGoStatsOnSmallStacks: a static Go program stats from 200 goroutines
// on small stacks. Mode full's emulation must not write below a thread's
// stack pointer (plans keep their data in the region remainroot maps);
// the program checks its stack frames and the owners, with the same
// output as real root's.
func TestGoStatsOnSmallStacks(t *testing.T) {
	rr := progSetup(t)
	_, err := exec.LookPath("go")
	testenv.Need(t, err == nil, "go not found in PATH")
	bin := progBuildGo(t, "gostat")
	native, stderr, code := testenv.Run(t, testenv.FullMapCommand(t, bin), time.Minute)
	if code != 0 || native != "bad 0\n" {
		t.Fatalf("native run: exit %d\n%s%s", code, native, stderr)
	}
	cmd := testenv.SingleIDCommand(t, rr, "run", "--mode", "full", "--", bin)
	got, stderr, code := testenv.Run(t, cmd, 2*time.Minute)
	if code != 0 || got != native {
		t.Fatalf("under remainroot --mode full: exit %d\n%s%s\nwant (real root): %s", code, got, stderr, native)
	}
}
