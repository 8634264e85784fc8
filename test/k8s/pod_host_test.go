package k8s

// The pod of the builds-in-pods test: a container of the builder image
// (test/k8s/setup-builder.sh) started by root podman, in a storage of the
// test's own, with the settings a Kubernetes pod spec can give it, running
// as the unprivileged user builder like a pod with runAsUser: 1000.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

const (
	builderUID   = "1000"
	builderHome  = "/home/builder"
	builderImage = "localhost/rr-podbuild-builder:latest"
	// Where the pod sees what the test gives it, as `make install`
	// (PREFIX=/usr/local) would put remainroot in a build image.
	podBinary   = "/usr/local/bin/remainroot"
	podShareDir = "/usr/local/share/remainroot"
	podDebian   = "/images/debian.tar"
	podBusybox  = "/images/busybox.tar"
	podContext  = "/ctx"
)

// podHost is root podman with storages of the test's own under dir
// (never root's usual one), each holding the builder image.
type podHost struct {
	dir        string
	builderTar string
	// shared is the storage of the pods without a user namespace.
	shared *podStore
	// mounts are the pod's volumes: the remainroot binary under test,
	// its build hooks, the Debian tar and the build context.
	mounts []string
}

// podStore is one root podman storage of the test's own. Each podman
// command chowns the vfs driver's directory of layers to the root of the
// mapping it was given (containers/storage's vfs Init,
// MkdirAllAndChown): a pod in a user namespace started while a command
// without one runs on the same storage finds that directory root's, mode
// 0700, and the runtime cannot reach its root filesystem ("error
// preparing rootfs: ... permission denied"). So every pod with a user
// namespace has a storage of its own.
type podStore struct {
	flags []string
}

// newPodStore makes a storage under dir holding the builder image,
// removed with everything in it when the test ends.
func (h *podHost) newPodStore(t *testing.T, dir string) *podStore {
	t.Helper()
	s := &podStore{flags: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--tmpdir", filepath.Join(dir, "libpod"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
		"--events-backend", "file"}}
	t.Cleanup(func() {
		s.podman(t, 2*time.Minute, "rm", "-a", "-f", "-t", "0")
		s.podman(t, 2*time.Minute, "rmi", "-a", "-f")
	})
	if out, err := s.podman(t, 5*time.Minute, "import", "-q", h.builderTar, builderImage); err != nil {
		t.Fatalf("import the builder image: %v\n%s", err, out)
	}
	return s
}

// podman runs root podman on the storage s.
func (s *podStore) podman(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("podman", append(append([]string{}, s.flags...), args...)...)
	cmd.Dir = "/"
	stdout, stderr, code := testenv.Run(t, cmd, timeout)
	out := stdout + stderr
	if code != 0 {
		return out, fmt.Errorf("podman %s: exit %d", strings.Join(args, " "), code)
	}
	return out, nil
}

// pod is one running pod container.
type pod struct {
	t     *testing.T
	store *podStore
	name  string
	pidNS string
}

// podSettings is what the pod spec decides, as root podman flags.
type podSettings struct {
	// unmaskedProc: procMount: Unmasked.
	unmaskedProc bool
	// seccompProfile: a file (Localhost), "unconfined", or "" for
	// podman's default (RuntimeDefault).
	seccompProfile string
	// userNS: hostUsers: false (a namespace of 65536 ids).
	userNS bool
}

// flags renders s as `podman run` options; the rest of a restricted pod
// (no capabilities, allowPrivilegeEscalation: false, runAsUser) is
// always there.
func (s podSettings) flags() []string {
	f := []string{"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--user", builderUID + ":" + builderUID}
	if s.unmaskedProc {
		f = append(f, "--security-opt", "unmask=/proc/*")
	}
	if s.seccompProfile != "" {
		f = append(f, "--security-opt", "seccomp="+s.seccompProfile)
	}
	if s.userNS {
		f = append(f, "--uidmap", "0:400000:65536", "--gidmap", "0:400000:65536")
	}
	return f
}

// startPod starts a pod with settings s, removed (and checked for
// leftover processes) when the test ends. A pod with a user namespace
// gets a storage of its own (see podStore).
func (h *podHost) startPod(t *testing.T, s podSettings) *pod {
	t.Helper()
	store := h.shared
	if s.userNS {
		store = h.newPodStore(t, testenv.PublicDir(t, "rr-podbuild-userns-"))
	}
	name := "rr-podbuild-" + randomHex(6)
	args := []string{"run", "-d", "--name", name, "--runtime", "runc", "--network=none",
		"--env", "HOME=" + builderHome, "--workdir", builderHome,
		// The machine's hard limits are below root podman's defaults.
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"}
	for _, m := range h.mounts {
		args = append(args, "-v", m)
	}
	args = append(append(args, s.flags()...), builderImage, "sleep", "infinity")
	if out, err := store.podman(t, 2*time.Minute, args...); err != nil {
		t.Fatalf("start the pod: %v\n%s", err, out)
	}
	p := &pod{t: t, store: store, name: name}
	t.Cleanup(p.remove)
	out, err := store.podman(t, time.Minute, "inspect", "--format", "{{.State.Pid}}", name)
	if err != nil {
		t.Fatalf("inspect the pod: %v\n%s", err, out)
	}
	p.pidNS, err = os.Readlink("/proc/" + strings.TrimSpace(out) + "/ns/pid")
	if err != nil {
		t.Fatalf("the pod's pid namespace: %v", err)
	}
	return p
}

// exec runs a shell script in the pod as builder and returns its output
// and whether it succeeded.
func (p *pod) exec(timeout time.Duration, script string) (string, error) {
	return p.store.podman(p.t, timeout, "exec", "--user", builderUID+":"+builderUID, "--workdir", builderHome,
		p.name, "bash", "-c", script)
}

// remove removes the pod and fails the test if a process of its pid
// namespace (the nested containers, remainroot's tracers) outlived it.
//
// podman 4.3's `rm -f -t 0` unmounts the container's /dev/shm right after
// killing it, and that umount fails with EBUSY while the kernel is still
// tearing down the dead pod's mount namespace, whose /dev/shm is a slave
// of it; the container is then left with "unlinkat .../userdata/shm:
// device or resource busy" (seen under load, in a make test run with both
// CPUs saturated; podman's flake #11594, fixed after 4.3, most often with
// --uidmap). A second `rm -f` removes it, as it would for a user (-f also
// removes a container storage holds and podman no longer knows): rm is
// repeated while it fails that way, for at most a minute, and "no such
// container" after a busy failure means the other cleanup finished it.
func (p *pod) remove() {
	t := p.t
	deadline := time.Now().Add(time.Minute)
	for again := false; ; again = true {
		out, err := p.store.podman(t, 2*time.Minute, "rm", "-f", "-t", "0", p.name)
		if err == nil || (again && strings.Contains(out, "no such container")) {
			break
		}
		if !strings.Contains(out, "device or resource busy") || time.Now().After(deadline) {
			t.Errorf("remove the pod %s: %v\n%s", p.name, err, out)
			break
		}
		t.Logf("remove the pod %s: busy, again: %s", p.name, lastLine(out))
		time.Sleep(time.Second)
	}
	// The pod's processes are killed, not yet gone, when rm returns: seen
	// under load, its init ("sleep infinity") still there a moment after.
	// They must be gone within 30 s.
	var left []string
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if left = processesInPIDNS(p.pidNS); len(left) == 0 || time.Now().After(end) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("processes of pod %s left 30 s after its removal: %s", p.name, strings.Join(left, "; "))
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// processesInPIDNS lists the processes whose pid namespace is ns, with
// their state (/proc/PID/stat) and command line.
func processesInPIDNS(ns string) []string {
	var out []string
	links, _ := filepath.Glob("/proc/[0-9]*/ns/pid")
	for _, l := range links {
		if got, err := os.Readlink(l); err == nil && got == ns {
			pid := filepath.Base(filepath.Dir(filepath.Dir(l)))
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			state := "?"
			if stat, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil {
				if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) {
					state = string(stat[i+2])
				}
			}
			out = append(out, pid+" ("+state+"): "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return out
}
