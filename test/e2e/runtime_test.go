package e2e

// Bare OCI runtimes with a hand-written bundle whose user namespace maps a
// single id (0 -> the test user's uid and gid, size 1): runc and crun as
// root, runc and crun as the unprivileged test user.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// podmanCaps are the capabilities podman gives a container by default.
var podmanCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
}

// bundle makes an OCI bundle (owned by the test user, as its rootfs) from
// the cached static busybox root: args run as root in a user namespace
// mapping only the test user, with podman's default capabilities and
// noNewPrivileges off. With hookBin set, config.json runs `hookBin hook` at
// createRuntime and carries the io.remainroot.mode=creds annotation. ann
// adds annotations.
func bundle(t *testing.T, hookBin string, ann map[string]string, args ...string) string {
	t.Helper()
	uid, gid, _ := testUser(t)
	src := filepath.Join(cacheDir, "busybox")
	_, err := os.Stat(filepath.Join(src, "bin", "busybox"))
	testenv.Need(t, err == nil, "%s is missing (run test/setup-env.sh)", src)

	dir := userTempDir(t)
	rootfs := filepath.Join(dir, "rootfs")
	if out, err := exec.Command("cp", "-a", src, rootfs).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, rootfs, err, out)
	}
	if out, err := exec.Command("chown", "-R", "-h", strconv.Itoa(uid)+":"+strconv.Itoa(gid), rootfs).CombinedOutput(); err != nil {
		t.Fatalf("chown -R %s: %v\n%s", rootfs, err, out)
	}

	caps := map[string]any{"bounding": podmanCaps, "effective": podmanCaps, "permitted": podmanCaps}
	idMap := func(id int) []map[string]any {
		return []map[string]any{{"containerID": 0, "hostID": id, "size": 1}}
	}
	ns := []map[string]any{}
	for _, n := range []string{"pid", "ipc", "uts", "mount", "user", "network"} {
		ns = append(ns, map[string]any{"type": n})
	}
	cfg := map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal":        false,
			"user":            map[string]any{"uid": 0, "gid": 0},
			"args":            args,
			"env":             []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"},
			"cwd":             "/",
			"capabilities":    caps,
			"rlimits":         []map[string]any{{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}},
			"noNewPrivileges": false,
		},
		"root":     map[string]any{"path": "rootfs", "readonly": false},
		"hostname": "rr-e2e",
		"mounts": []map[string]any{
			{"destination": "/proc", "type": "proc", "source": "proc"},
			{"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
				"options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			// No gid=5: gid 5 is not mapped.
			{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
				"options": []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
				"options": []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
				"options": []string{"nosuid", "noexec", "nodev"}},
			// A read-only rbind: sysfs cannot be mounted without a
			// network namespace owned by... the caller's namespace.
			{"destination": "/sys", "type": "none", "source": "/sys",
				"options": []string{"rbind", "nosuid", "noexec", "nodev", "ro"}},
		},
		"linux": map[string]any{
			"uidMappings":   idMap(uid),
			"gidMappings":   idMap(gid),
			"namespaces":    ns,
			"maskedPaths":   []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"},
			"readonlyPaths": []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	if hookBin != "" {
		cfg["hooks"] = map[string]any{
			"createRuntime": []map[string]any{{"path": hookBin, "args": []string{"remainroot", "hook"}}},
		}
		annotations := map[string]string{"io.remainroot.mode": "creds"}
		if os.Getenv("REMAINROOT_E2E_DEBUG") == "1" {
			annotations["io.remainroot.log-level"] = "debug"
		}
		for k, v := range ann {
			annotations[k] = v
		}
		cfg["annotations"] = annotations
	} else if len(ann) > 0 {
		cfg["annotations"] = ann
	}
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	writeUserFile(t, path, string(data))
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// bareRuntime describes how to run one OCI runtime directly.
type bareRuntime struct {
	name     string // runc or crun
	rootless bool   // run as the test user
}

// setgroupsError is how busybox su fails without the hook: a rootless
// runtime writes "deny" to /proc/PID/setgroups (EPERM); as root it allows
// setgroups, which then fails on the unmapped group (EINVAL).
func (b bareRuntime) setgroupsError() string {
	if b.rootless {
		return "su: can't set groups: Operation not permitted"
	}
	return "su: can't set groups: Invalid argument"
}

func (b bareRuntime) label() string {
	if b.rootless {
		return b.name + " (rootless, bare)"
	}
	return b.name + " (root, single-id userns)"
}

// stateRoot returns the runtime's --root: a temporary directory as root,
// the user's runtime directory when rootless.
func (b bareRuntime) stateRoot(t *testing.T) string {
	if b.rootless {
		return filepath.Join(runtimeDir(t), b.name)
	}
	dir, err := os.MkdirTemp("", "remainroot-e2e-state-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// run runs the bundle with `<runtime> --root R run --bundle B ID` and
// returns the result and the container id.
func (b bareRuntime) run(t *testing.T, bundleDir string) (result, string) {
	t.Helper()
	id := "rr-e2e-" + randomID(6)
	root := b.stateRoot(t)
	args := []string{"--root", root, "run", "--bundle", bundleDir, id}
	del := []string{"--root", root, "delete", "--force", id}
	var cmd *exec.Cmd
	if b.rootless {
		cmd = asUser(t, b.name, args...)
		t.Cleanup(func() { run(t, asUser(t, b.name, del...), time.Minute) })
	} else {
		cmd = exec.Command(b.name, args...)
		cmd.Dir = "/"
		cmd.Stdin = emptyStdin(t)
		t.Cleanup(func() {
			c := exec.Command(b.name, del...)
			c.Dir = "/"
			c.Stdin = emptyStdin(t)
			run(t, c, time.Minute)
		})
	}
	before := hostDevices(t)
	r := run(t, cmd, 2*time.Minute)
	if after := hostDevices(t); after != before {
		t.Errorf("%s changed host devices (owner, mode):\nbefore: %s\nafter:  %s", b.name, before, after)
	}
	return r, id
}

// hostDevices describes owner and mode of the host's character devices a
// runtime could be handed as stdio (.ci/run checks the same after make test).
func hostDevices(t *testing.T) string {
	t.Helper()
	var out []string
	for _, d := range []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"} {
		var st syscall.Stat_t
		if err := syscall.Stat(d, &st); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d:%d %o", d, st.Uid, st.Gid, st.Mode&0o7777))
	}
	return strings.Join(out, ", ")
}

// emptyStdin returns the read end of a pipe whose write end is closed: a
// runtime's stdin that reads EOF at once and is not a host device. Without
// it os/exec gives the runtime the host's /dev/null, and crun 1.8.1 as root
// with a user namespace fchowns its stdio to the container's root before
// joining the namespace (crun #1845): /dev/null would stay owned by the test
// user. stdout and stderr are pipes already (testenv.Run).
func emptyStdin(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { r.Close() })
	return r
}

var suNobody = []string{"su", "-s", "/bin/sh", "nobody", "-c", "id"}

// TestBareRuntimes: busybox su in a single-id user namespace under runc and
// crun as root and bare rootless runc works with the hook and fails
// without it.
func TestBareRuntimes(t *testing.T) {
	bin := setup(t, "runc", "crun")
	for _, rt := range []bareRuntime{{"runc", false}, {"crun", false}, {"runc", true}} {
		t.Run(strings.ReplaceAll(rt.label(), " ", "_"), func(t *testing.T) {
			_, err := exec.LookPath(rt.name)
			testenv.Need(t, err == nil, "%s not found", rt.name)
			t.Run("busybox-su/no-hook", func(t *testing.T) {
				record(t, rt.label(), "busybox su", false)
				r, id := rt.run(t, bundle(t, "", nil, suNobody...))
				if r.code == 0 || !strings.Contains(r.output(), rt.setgroupsError()) {
					t.Errorf("want exit != 0 and %q\n%s\n%s", rt.setgroupsError(), r, logReport(id))
				}
			})
			id := ""
			t.Run("busybox-su/hook", func(t *testing.T) {
				record(t, rt.label(), "busybox su", true)
				var r result
				r, id = rt.run(t, bundle(t, bin, nil, suNobody...))
				if r.code != 0 || strings.TrimSpace(r.stdout) != nobodyID {
					t.Errorf("want nobody's ids\n%s\n%s", r, logReport(id))
				}
				assertNoTracer(t, id)
			})
			t.Run("tracer-log", func(t *testing.T) {
				record(t, rt.label(), "tracer log file written", true)
				checkTracerLog(t, id)
			})
		})
	}
}

// TestBareRootlessCrun: crun run by an unprivileged user creates the user
// namespace itself and makes init non-dumpable, so the createRuntime hook
// cannot seize it: the hook must fail with a clear EPERM explanation and
// the container must not run its command. The listener route works: the
// config rewritten by `remainroot hook precreate` (listenerPath to a
// supervisor) lets crun hand over the init's listener, and the supervisor
// answers it unattached until the container's program has exec'd (the init
// is dumpable again then, and is seized when su's credentials diverge).
// Without remainroot, su fails as usual.
func TestBareRootlessCrun(t *testing.T) {
	bin := setup(t, "crun")
	rt := bareRuntime{"crun", true}
	t.Run("listener", func(t *testing.T) {
		record(t, rt.label()+", config from `remainroot hook precreate`", "busybox su", true)
		before := len(supervisors())
		dir := bundle(t, "", map[string]string{"io.remainroot.mode": "creds"}, suNobody...)
		cfg := filepath.Join(dir, "config.json")
		rw := run(t, asUser(t, "sh", "-c", `"$0" hook precreate < "$1" > "$1.new" && mv "$1.new" "$1"`, bin, cfg), time.Minute)
		if rw.code != 0 {
			t.Fatalf("remainroot hook precreate < config.json failed\n%s", rw)
		}
		r, id := rt.run(t, dir)
		if r.code != 0 || strings.TrimSpace(r.stdout) != nobodyID {
			t.Errorf("want nobody's ids\n%s\n%s", r, logReport(id))
		}
		deadline := time.Now().Add(20 * time.Second)
		for len(supervisors()) > before && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if n := len(supervisors()); n > before {
			t.Errorf("%d supervisors still run after the container ended (%d before)", n, before)
		}
	})
	t.Run("no-hook", func(t *testing.T) {
		record(t, rt.label(), "busybox su", false)
		r, id := rt.run(t, bundle(t, "", nil, suNobody...))
		if r.code == 0 || !strings.Contains(r.output(), rt.setgroupsError()) {
			t.Errorf("want exit != 0 and %q\n%s\n%s", rt.setgroupsError(), r, logReport(id))
		}
	})
	t.Run("hook", func(t *testing.T) {
		record(t, rt.label(), "hook fails with a clear EPERM line", true)
		// crun gives hooks /dev/null as stderr unless the annotation
		// run.oci.hooks.stderr names a file: the hook's line goes there.
		hookErr := filepath.Join(userTempDir(t), "hook.stderr")
		r, id := rt.run(t, bundle(t, bin, map[string]string{"run.oci.hooks.stderr": hookErr},
			"sh", "-c", "echo CONTAINER-RAN; "+strings.Join(suNobody, " ")))
		data, _ := os.ReadFile(hookErr)
		t.Logf("crun said:\n%s\nthe hook said (run.oci.hooks.stderr):\n%s", r.output(), data)
		if r.code == 0 || strings.Contains(r.stdout, "CONTAINER-RAN") {
			t.Errorf("want the container not to run\n%s\n%s", r, logReport(id))
		}
		var lines []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "remainroot") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 {
			t.Errorf("want exactly one line from remainroot on the hook's stderr, got %d\n%q\n%s", len(lines), data, r)
			return
		}
		l := strings.ToLower(lines[0])
		if !strings.Contains(l, "eperm") && !strings.Contains(l, "operation not permitted") {
			t.Errorf("the hook's line does not mention EPERM: %q", lines[0])
		}
		if !strings.Contains(l, "dumpable") && !strings.Contains(l, "podman") && !strings.Contains(l, "root") {
			t.Errorf("the hook's line explains neither non-dumpable init nor a remedy: %q", lines[0])
		}
		if len(tracersFor(id)) > 0 {
			t.Errorf("a tracer for %s still runs after the hook failed", id)
		}
	})
}
