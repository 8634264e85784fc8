package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fullCaps returns the full capability mask as /proc/self/status prints it.
func fullCaps(t *testing.T) string {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatal(err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%016x", uint64(1)<<(last+1)-1)
}

const stateScript = `cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; id -g; id -G; grep -E '^Cap(Inh|Prm|Eff)' /proc/self/status`

// TestSingleIDCommand checks the namespace SingleIDCommand gives.
func TestSingleIDCommand(t *testing.T) {
	uid, gid := UnprivUser(t)
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		data, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, TestUser+":") {
				t.Errorf("%s still has %q", f, line)
			}
		}
	}
	out, errOut, code := Run(t, SingleIDCommand(t, "sh", "-c", stateScript), time.Minute)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	f := strings.Fields(out)
	want := []string{
		"0", strconv.Itoa(uid), "1",
		"0", strconv.Itoa(gid), "1",
		"deny", "0", "0", "0",
		"CapInh:", "0000000000000000",
		"CapPrm:", fullCaps(t),
		"CapEff:", fullCaps(t),
	}
	if strings.Join(f, " ") != strings.Join(want, " ") {
		t.Errorf("got\n%s\nwant fields %v", out, want)
	}
}

// TestFullMapCommand checks the namespace FullMapCommand gives.
func TestFullMapCommand(t *testing.T) {
	out, errOut, code := Run(t, FullMapCommand(t, "sh", "-c", stateScript), time.Minute)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := "0 0 4294967295 0 0 4294967295 allow 0 0 0 CapInh: 0000000000000000 CapPrm: " + fullCaps(t) + " CapEff: " + fullCaps(t)
	if got := strings.Join(strings.Fields(out), " "); got != want {
		t.Errorf("got\n%s\nwant fields %s", out, want)
	}
}

// TestRun checks exit codes, signals and timeouts.
func TestRun(t *testing.T) {
	if _, _, code := Run(t, FullMapCommand(t, "sh", "-c", "exit 3"), time.Minute); code != 3 {
		t.Errorf("exit 3: got %d", code)
	}
	if _, _, code := Run(t, FullMapCommand(t, "sh", "-c", "kill -9 $$"), time.Minute); code != 137 {
		t.Errorf("kill -9: got %d", code)
	}
	out, _, _ := Run(t, FullMapCommand(t, "echo", "hi"), time.Minute)
	if out != "hi\n" {
		t.Errorf("echo: got %q", out)
	}
}

// TestCompileC checks that a static C program builds and runs as the
// unprivileged user.
func TestCompileC(t *testing.T) {
	RequireRoot(t)
	src := filepath.Join(t.TempDir(), "hello.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void){puts(\"hello\");return 0;}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := CompileC(t, src)
	out, errOut, code := Run(t, SingleIDCommand(t, bin), time.Minute)
	if code != 0 || out != "hello\n" {
		t.Errorf("got %d %q %q", code, out, errOut)
	}
}
