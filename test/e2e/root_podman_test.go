package e2e

// Root podman (issue 8: "root podman too"): a container whose user
// namespace maps a single id (--uidmap 0:N:1), with runc (crun as root
// chowns the host's /dev/null it is given, crun #1845), in a storage of its
// own under the test's temporary directory, so nothing of root's podman
// state on the host is touched.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRootPodmanExec(t *testing.T) {
	bin := setup(t, "podman", "runc")
	dir, err := os.MkdirTemp("", "rr-rootpodman-")
	if err != nil {
		t.Fatal(err)
	}
	store := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--tmpdir", filepath.Join(dir, "libpod"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
		"--events-backend", "file"}
	rootPodman := func(timeout time.Duration, args ...string) result {
		t.Helper()
		cmd := exec.Command("podman", append(append(append([]string{}, store...), installedHooksArgs(t, bin)...), args...)...)
		cmd.Dir = "/"
		return run(t, cmd, timeout)
	}
	t.Cleanup(func() {
		rootPodman(time.Minute, "rm", "-a", "-f", "-t", "0")
		rootPodman(time.Minute, "rmi", "-a", "-f")
		os.RemoveAll(dir)
	})
	if r := rootPodman(2*time.Minute, "import", "-q", filepath.Join(cacheDir, "busybox.tar"), "localhost/rr-root-busybox"); r.code != 0 {
		t.Fatalf("import the busybox image into the test's root storage:\n%s", r)
	}
	// The VM's hard limits are below root podman's defaults.
	runArgs := []string{"run", "-d", "--runtime", "runc", "--network=none", "--uidmap", "0:200000:1", "--gidmap", "0:200000:1",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}
	start := func(t *testing.T, annotate bool) string {
		args := append([]string{}, runArgs...)
		if annotate {
			args = append(args, "--annotation", "io.remainroot.mode=creds")
		}
		r := rootPodman(2*time.Minute, append(args, "localhost/rr-root-busybox", "sleep", "300")...)
		if r.code != 0 {
			t.Fatalf("root podman run:\n%s", r)
		}
		return strings.TrimSpace(r.stdout)
	}
	t.Run("no-hook", func(t *testing.T) {
		record(t, "root podman+runc, single-id --uidmap", "exec su nobody", false)
		id := start(t, false)
		r := rootPodman(time.Minute, "exec", id, "su", "-s", "/bin/sh", "nobody", "-c", "id")
		if r.code == 0 || !strings.Contains(r.output(), "su: can't set groups") {
			t.Errorf("want su's setgroups failure without remainroot:\n%s", r)
		}
	})
	t.Run("hook", func(t *testing.T) {
		record(t, "root podman+runc, single-id --uidmap", "exec su nobody", true)
		id := start(t, true)
		r := rootPodman(time.Minute, "exec", id, "su", "-s", "/bin/sh", "nobody", "-c", "id")
		if r.code != 0 || strings.TrimSpace(r.stdout) != "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)" {
			t.Errorf("exec su nobody:\n%s\n%s", r, logReport(id))
		}
		// runc itself refuses an exec user its config's user namespace
		// does not map, before any call remainroot could answer (README
		// Limits); crun has no such check (it works there, by hand).
		r = rootPodman(time.Minute, "exec", "--user", "1000:1000", id, "id")
		if r.code == 0 || !strings.Contains(r.output(), "cannot set uid to unmapped user in user namespace") {
			t.Errorf("exec --user 1000:1000 under runc: want runc's own refusal:\n%s", r)
		}
		if r := removeContainers(t, func(_ testing.TB, timeout time.Duration, args ...string) result { return rootPodman(timeout, args...) }, time.Minute, id); r.code != 0 {
			t.Errorf("rm:\n%s", r)
		}
		if _, left := waitNoTracers(10*time.Second, id); len(left) > 0 {
			t.Errorf("remainroot processes left for %s: %+v", id, left)
		}
	})
}
