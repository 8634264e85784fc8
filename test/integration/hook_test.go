package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// These tests call `remainroot hook` the way each runtime does, without the
// runtime: runc (status "creating", stdout and stderr captured until EOF),
// crun (status "created", an extra "root" field, stdio on /dev/null) and
// youki (an empty environment, so no PATH, and stderr inherited). youki
// itself cannot be installed here; its calling convention is kept in
// hookYoukiLike. The "container init" is a shell in a single-id namespace
// that waits for a line, then execs busybox su: the point where a runtime
// would exec the container's process.

// hookTarget starts the stand-in init and returns it with its stdin.
func hookTarget(t *testing.T) (*exec.Cmd, *os.File, *bytes.Buffer) {
	t.Helper()
	progSetup(t, "busybox")
	cmd := testenv.SingleIDCommand(t, "sh", "-c", "read line; exec busybox su -s /bin/sh nobody -c id")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r, &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() {
		w.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Wait until the shell itself runs (setpriv and unshare exec into it).
	deadline := time.Now().Add(5 * time.Second)
	for {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid))
		if strings.TrimSpace(string(comm)) == "sh" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("target never became sh (comm %q)", comm)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd, w, &out
}

func hookState(pid int, status, mode string, extra string) string {
	return fmt.Sprintf(`{"ociVersion":"1.0.2","id":"hooktest-%d","status":%q,"pid":%d,"bundle":"/nonexistent"%s,"annotations":{"io.remainroot.mode":%q}}`,
		pid, status, pid, extra, mode)
}

// hookRun runs the hook with state on stdin and returns its stderr and exit
// code; it fails if the hook does not return promptly (a tracer that kept
// the hook's stdout or stderr open would hang a runtime waiting for EOF).
func hookRun(t *testing.T, cmd *exec.Cmd, state string) (string, int) {
	t.Helper()
	cmd.Stdin = strings.NewReader(state)
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	if cmd.Stdout == nil {
		cmd.Stdout = &bytes.Buffer{}
	}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("hook did not return within 30s (stderr %q)", stderr.String())
	}
	return stderr.String(), cmd.ProcessState.ExitCode()
}

// hookTracers lists tracer processes started for target pid.
func hookTracers(pid int) []int {
	var found []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 3 && args[1] == "__trace" && args[2] == "--pid" && args[3] == fmt.Sprint(pid) {
			var n int
			fmt.Sscan(e.Name(), &n)
			found = append(found, n)
		}
	}
	return found
}

// hookExpectEmulated releases the target and checks su worked under the
// tracer, and that the tracer exits with it.
func hookExpectEmulated(t *testing.T, target *exec.Cmd, stdin *os.File, out *bytes.Buffer) {
	t.Helper()
	if tp, _ := progStatusField(target.Process.Pid, "TracerPid"); tp == "0" {
		t.Fatalf("hook returned but the target is not traced")
	}
	stdin.Write([]byte("go\n"))
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- target.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("target did not finish; output %q", out.String())
	}
	if !strings.Contains(out.String(), "uid=65534(nobody)") {
		t.Fatalf("su under the hook's tracer: got %q, want nobody's ids", out.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(hookTracers(target.Process.Pid)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("tracer still running after its container exited: %v", hookTracers(target.Process.Pid))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func progStatusField(pid int, name string) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s", name)
}

func TestHookRuncLike(t *testing.T) {
	testenv.RequireRoot(t)
	bin := testenv.Binary(t)
	target, stdin, out := hookTarget(t)
	cmd := exec.Command(bin, "hook")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "REMAINROOT_LOG_DIR=" + t.TempDir()}
	stderr, code := hookRun(t, cmd, hookState(target.Process.Pid, "creating", "creds", ""))
	if code != 0 || stderr != "" {
		t.Fatalf("hook: exit %d, stderr %q", code, stderr)
	}
	hookExpectEmulated(t, target, stdin, out)
}

func TestHookCrunLike(t *testing.T) {
	testenv.RequireRoot(t)
	bin := testenv.Binary(t)
	target, stdin, out := hookTarget(t)
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	cmd := exec.Command(bin, "hook")
	cmd.Stdout, cmd.Stderr = null, null
	cmd.Env = []string{"REMAINROOT_LOG_DIR=" + t.TempDir()}
	if _, code := hookRun(t, cmd, hookState(target.Process.Pid, "created", "true", `,"root":"/run/crun"`)); code != 0 {
		t.Fatalf("hook: exit %d", code)
	}
	hookExpectEmulated(t, target, stdin, out)
}

// TestHookYoukiLike keeps youki's convention: the environment is cleared
// (no PATH, no HOME) and the hook's stderr is youki's own.
func TestHookYoukiLike(t *testing.T) {
	testenv.RequireRoot(t)
	bin := testenv.Binary(t)
	target, stdin, out := hookTarget(t)
	cmd := exec.Command(bin, "hook")
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if _, code := hookRun(t, cmd, hookState(target.Process.Pid, "created", "1", "")); code != 0 {
		t.Fatalf("hook: exit %d, stderr %q", code, stderr.String())
	}
	hookExpectEmulated(t, target, stdin, out)
}

// TestHookFailures checks that each failure is one clear line on stderr, a
// non-zero exit, and leaves no tracer and an untraced target.
func TestHookFailures(t *testing.T) {
	testenv.RequireRoot(t)
	bin := testenv.Binary(t)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, state, want string
		asUser            bool
	}{
		{"bad JSON", `{"pid": `, "container state on stdin: invalid JSON", false},
		{"no pid", `{"ociVersion":"1.0.2","status":"creating"}`, "container state on stdin: no pid", false},
		{"pid gone", hookState(gone.Process.Pid, "creating", "creds", ""), "gone", false},
		{"unknown mode", hookState(os.Getpid(), "creating", "yes", ""), `invalid mode "yes"`, false},
		// An unprivileged hook may not trace a root process: EPERM, explained.
		{"EPERM", "", "cannot trace the container's init", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := c.state
			cmd := exec.Command(bin, "hook")
			cmd.Env = []string{"REMAINROOT_LOG_DIR=" + t.TempDir()}
			var victim *exec.Cmd
			if c.asUser {
				victim = exec.Command("sleep", "30")
				if err := victim.Start(); err != nil {
					t.Fatal(err)
				}
				defer func() { victim.Process.Kill(); victim.Wait() }()
				state = hookState(victim.Process.Pid, "creating", "creds", "")
				uid, gid := testenv.UnprivUser(t)
				cmd = exec.Command("setpriv", fmt.Sprintf("--reuid=%d", uid), fmt.Sprintf("--regid=%d", gid),
					"--clear-groups", bin, "hook")
				dir := os.TempDir()
				cmd.Env = []string{"REMAINROOT_LOG_DIR=" + dir + "/remainroot-hooktest"}
			}
			stderr, code := hookRun(t, cmd, state)
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if code == 0 || len(lines) != 1 || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q: want a non-zero exit and one line containing %q", code, stderr, c.want)
			}
			if !strings.HasPrefix(stderr, "remainroot hook: ") {
				t.Errorf("stderr %q does not say who is speaking", stderr)
			}
			if victim != nil {
				if tp, _ := progStatusField(victim.Process.Pid, "TracerPid"); tp != "0" {
					t.Errorf("target left traced by %s", tp)
				}
				if tr := hookTracers(victim.Process.Pid); len(tr) > 0 {
					t.Errorf("tracer left running: %v", tr)
				}
			}
		})
	}
}
