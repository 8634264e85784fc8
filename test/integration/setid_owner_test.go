package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// TestSetGIDProgramOwnerFull: in mode full a set-group-ID program takes
// the group stat shows (its owner record), as the kernel takes the file's
// real group: nobody running a copy of id that root chowned to 0:42
// (shadow) and made 2755 gets egid 42. Real root in a fully mapped
// namespace prints the same; bare, the chown fails (EINVAL).
func TestSetGIDProgramOwnerFull(t *testing.T) {
	rr := progSetup(t)
	bb := progBusybox(t)
	dir, err := os.MkdirTemp("", "rr-setid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The single-id runs are the test user's; nobody must reach the
	// program.
	uid, gid := testenv.UnprivUser(t)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// coreutils' id: busybox gives up set-id rights for its id applet.
	prog := filepath.Join(dir, "id")
	script := strings.Join([]string{
		"set -e",
		"rm -f " + prog,
		"cp /usr/bin/id " + prog,
		"chown 0:42 " + prog,
		"chmod 2755 " + prog,
		"stat -c '%u:%g %a' " + prog,
		bb + " su -s /bin/sh nobody -c " + prog,
	}, "\n")
	const timeout = 30 * time.Second

	bare, ps := progRun(t, testenv.SingleIDCommand(t, "/bin/sh", "-c", script), timeout)
	if ps.ExitCode() == 0 || !strings.Contains(bare.stderr.String(), "Invalid argument") {
		t.Errorf("bare in the single-id namespace: want the chown to fail with EINVAL\n%s", bare.transcript())
	}

	full, ps := progRun(t, testenv.FullMapCommand(t, "/bin/sh", "-c", script), timeout)
	const want = "0:42 2755\n"
	if ps.ExitCode() != 0 || !strings.HasPrefix(full.stdout.String(), want) || !strings.Contains(full.stdout.String(), "egid=42") {
		t.Fatalf("real root (full mapping): want exit 0, %q and egid=42\n%s", want, full.transcript())
	}

	emu, ps := progRun(t, testenv.SingleIDCommand(t, rr, "run", "--mode", "full", "--", "/bin/sh", "-c", script), timeout)
	if ps.ExitCode() != 0 || emu.stdout.String() != full.stdout.String() {
		t.Errorf("under remainroot --mode full: want exit 0 and the real kernel's output\n%s\nremainroot:\n%s",
			full.stdout.String(), emu.transcript())
	}
}
