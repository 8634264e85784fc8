package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/test/testenv"
)

// An owner record that does not decode (anyone who can write the file can
// write its user.rootlesscontainers) is taken as none, as without
// remainroot, and said in the log: stat and fstat show the kernel's owner.
func TestMalformedOwnerRecordIsLogged(t *testing.T) {
	bin := progSetup(t, "stat")
	uid, gid := testenv.UnprivUser(t)
	dir := testenv.WorkDir(t, uid, gid)
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(file, uid, gid); err != nil {
		t.Fatal(err)
	}
	// A field key with the varint's continuation bit and nothing after it.
	if err := unix.Setxattr(file, "user.rootlesscontainers", []byte{0x08, 0xff}, 0); err != nil {
		t.Fatalf("setxattr: %v", err)
	}
	logf := filepath.Join(dir, "rr.log")
	cmd := testenv.SingleIDCommand(t, bin, "run", "--mode", "full", "--log-file", logf, "--",
		"sh", "-c", `stat -c %u:%g "$1"; stat -L -c %u:%g /dev/stdin < "$1"`, "sh", file)
	out, errOut, code := testenv.Run(t, cmd, time.Minute)
	if code != 0 || out != "0:0\n0:0\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q: want the kernel's owner 0:0 for both stats", code, out, errOut)
	}
	data, _ := os.ReadFile(logf)
	if n := strings.Count(string(data), "malformed owner record"); n < 2 {
		t.Errorf("want a log line for each of the two stats, got %d:\n%s", n, data)
	}
}
