package integration

// What `remainroot run` tells its user: one line for a command that cannot
// run, and at log level debug every emulated call with its answer, whether
// a ptrace stop or a seccomp notification answered it.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// TestRunCommandNotFound: a missing command is one line and exit 127, as a
// shell says it.
func TestRunCommandNotFound(t *testing.T) {
	bin := progSetup(t)
	for _, mode := range []string{"creds", "full"} {
		t.Run(mode, func(t *testing.T) {
			cmd := testenv.SingleIDCommand(t, bin, "run", "--mode", mode, "--", "missing-command")
			stdout, stderr, code := testenv.Run(t, cmd, time.Minute)
			if want := "remainroot: missing-command: command not found\n"; stderr != want || stdout != "" || code != 127 {
				t.Errorf("want exit 127 and stderr %q, got exit %d, stdout %q, stderr %q", want, code, stdout, stderr)
			}
		})
	}
}

// TestRunDebugLogsAnswers: at --log-level debug the log file names each
// credential call of the program with the answer the program saw.
func TestRunDebugLogsAnswers(t *testing.T) {
	bin := progSetup(t)
	prog := progCompileC(t, "debug_calls.c")
	// The program prints "call answer" lines; the log must hold a
	// "syscall" line for each, in the same order, with that answer.
	line := regexp.MustCompile(`msg=syscall .*call=(setuid|getuid|capset) .*answer=(-?[A-Z0-9]+)`)
	for _, mode := range []string{"creds", "full"} {
		t.Run(mode, func(t *testing.T) {
			uid, gid := testenv.UnprivUser(t)
			logFile := filepath.Join(testenv.WorkDir(t, uid, gid), "debug.log")
			cmd := testenv.SingleIDCommand(t, bin, "run", "--mode", mode, "--log-level", "debug", "--log-file", logFile, "--", prog)
			stdout, stderr, code := testenv.Run(t, cmd, time.Minute)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if want := "setuid 0\ngetuid 1000\ncapset 0\ncapset -EPERM\n"; stdout != want {
				t.Errorf("program printed %q, want %q", stdout, want)
			}
			data, err := os.ReadFile(logFile)
			if err != nil {
				t.Fatal(err)
			}
			var logged []string
			for _, l := range strings.Split(string(data), "\n") {
				if m := line.FindStringSubmatch(l); m != nil {
					logged = append(logged, m[1]+" "+m[2])
				}
			}
			if got, want := strings.Join(logged, "\n")+"\n", stdout; got != want {
				t.Errorf("logged answers:\n%s\nwant the program's:\n%s\nlog:\n%s", got, want, data)
			}
		})
	}
}

// TestRunInfoLogsNoCalls: below debug no call is logged.
func TestRunInfoLogsNoCalls(t *testing.T) {
	bin := progSetup(t)
	prog := progCompileC(t, "debug_calls.c")
	uid, gid := testenv.UnprivUser(t)
	logFile := filepath.Join(testenv.WorkDir(t, uid, gid), "info.log")
	cmd := testenv.SingleIDCommand(t, bin, "run", "--log-level", "info", "--log-file", logFile, "--", prog)
	if stdout, stderr, code := testenv.Run(t, cmd, time.Minute); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	data, _ := os.ReadFile(logFile)
	if strings.Contains(string(data), "msg=syscall") {
		t.Errorf("calls logged at level info:\n%s", data)
	}
}

// TestHookDebugLogsAnswers: with io.remainroot.log-level=debug the
// container's log file names the calls su makes with their answers,
// notified ones included.
func TestHookDebugLogsAnswers(t *testing.T) {
	testenv.RequireRoot(t)
	bin := testenv.Binary(t)
	target, stdin, out := hookTarget(t)
	logDir := t.TempDir()
	cmd := exec.Command(bin, "hook")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "REMAINROOT_LOG_DIR=" + logDir}
	pid := target.Process.Pid
	state := fmt.Sprintf(`{"ociVersion":"1.0.2","id":"hookdebug-%d","status":"creating","pid":%d,"bundle":"/nonexistent",`+
		`"annotations":{"io.remainroot.mode":"creds","io.remainroot.log-level":"debug"}}`, pid, pid)
	if stderr, code := hookRun(t, cmd, state); code != 0 || stderr != "" {
		t.Fatalf("hook: exit %d, stderr %q", code, stderr)
	}
	hookExpectEmulated(t, target, stdin, out)
	data, err := os.ReadFile(filepath.Join(logDir, fmt.Sprintf("hookdebug-%d.log", pid)))
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []string{"setgroups", "setgid", "setuid"} {
		re := regexp.MustCompile(`msg=syscall .*call=` + call + ` .*via=notification answer=0 `)
		if !re.Match(data) {
			t.Errorf("no notified %s answered 0 in the debug log:\n%s", call, data)
		}
	}
}
