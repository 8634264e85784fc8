package integration

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// TestDeviceNodesFull compares test/programs/device_nodes.c (mknod of
// character and block devices, chown, chmod, the stat family, EPERM for an
// unprivileged user and for root without CAP_MKNOD) under `remainroot run
// --mode full` as fake root in a single-id namespace with real root. The
// reference is real root outside any user namespace, in a temporary
// directory: the kernel checks CAP_MKNOD in the initial user namespace, so
// even real root in a fully mapped namespace gets EPERM. The program never
// opens the nodes. Without remainroot the single-id namespace refuses the
// nodes (EPERM).
func TestDeviceNodesFull(t *testing.T) {
	rr := progSetup(t)
	prog := progCompileC(t, "device_nodes.c")

	host := exec.Command(prog)
	host.Dir = testenv.WorkDir(t, 0, 0)
	host.Env = append([]string(nil), testenv.Env...)
	want, stderr, code := testenv.Run(t, host, time.Minute)
	if code != 0 {
		t.Fatalf("real root: exit %d\n%s%s", code, want, stderr)
	}
	testenv.Need(t, strings.Contains(want, "mknod c 4,5                  ok"),
		"real root cannot make device nodes here:\n%s", want)

	bare, stderr, code := testenv.Run(t, testenv.SingleIDCommand(t, prog), time.Minute)
	if code != 0 || !strings.Contains(bare, "mknod c 4,5                  EPERM") {
		t.Errorf("without remainroot: exit %d, want mknod's EPERM\n%s%s", code, bare, stderr)
	}

	cmd := testenv.SingleIDCommand(t, rr, "run", "--mode", "full", "--", prog)
	got, stderr, code := testenv.Run(t, cmd, 2*time.Minute)
	if code != 0 {
		t.Fatalf("remainroot --mode full: exit %d\n%s%s", code, got, stderr)
	}
	t.Logf("under --mode full:\n%s", got)
	if got != want {
		t.Errorf("under --mode full:\n%s\nwant (real root):\n%s\ndiff:\n%s", got, want,
			lineDiff(want, got, "real root", "remainroot"))
	}
}
