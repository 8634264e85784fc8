package k8s

// Builds in pods (issue 20, point 3): `podman build` by an unprivileged
// user without a subuid range, inside a container standing for a
// Kubernetes pod, with remainroot installed in the build image (the
// binary under test and its build hooks, bind-mounted where `make
// install` puts them). The pod is what a pod spec can ask for: no
// privileges, every capability dropped, no privilege escalation,
// runAsUser 1000, and then procMount, seccompProfile and hostUsers,
// whose need each subtest shows (docs/kubernetes.md, "Builds in pods").

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// podContainerfile: the RUN step of issue 8 that needs no network.
const podContainerfile = `FROM localhost/rr-podbuild-base
RUN useradd -m app && su app -c id && chown app /home/app && stat -c 'home-owner=%u:%g' /home/app
`

// podFailingContainerfile is for the pods where every RUN step fails
// before its command: a small image is enough.
const podFailingContainerfile = `FROM localhost/rr-podbuild-busybox
RUN id
`

const (
	// podman's and CRI-O's default seccomp profile (containers-common).
	containersSeccomp = "/usr/share/containers/seccomp.json"
	// What su prints without remainroot under a single mapping.
	suFailure = "su: cannot set groups: Operation not permitted"
)

// TestPodBuild runs one pod per setting, in parallel.
func TestPodBuild(t *testing.T) {
	start := time.Now()
	h := newPodHost(t)
	t.Logf("setup (cache scripts, builder image import, hooks) in %s", time.Since(start).Round(time.Second))
	profile := filepath.Join(h.dir, "seccomp-nested.json")
	nestedSeccompProfile(t, containersSeccomp, profile)
	restricted := podSettings{unmaskedProc: true, seccompProfile: profile}

	t.Run("pods", func(t *testing.T) {
		t.Run("restricted", func(t *testing.T) {
			t.Parallel()
			p := h.startPod(t, restricted)
			p.importImage(t, podDebian, "localhost/rr-podbuild-base")
			t.Run("no-hook", func(t *testing.T) {
				out, err := p.build(t, "", "Containerfile")
				if err == nil || !strings.Contains(out, suFailure) {
					t.Errorf("want today's failure (%q) without the hooks: %v\n%s", suFailure, err, out)
				}
			})
			t.Run("hook-creds", func(t *testing.T) {
				p.buildOK(t, "build-hooks.d", "home-owner=0:0")
			})
			t.Run("hook-full", func(t *testing.T) {
				p.buildOK(t, "build-hooks-full.d", "home-owner=1000:1000")
			})
		})
		t.Run("userns-unconfined", func(t *testing.T) {
			// hostUsers: false, which Kubernetes requires for procMount
			// Unmasked: the pod's 65536 ids do not change the builder's
			// single mapping (it has no subuid range). And
			// seccompProfile: Unconfined instead of the Localhost one.
			t.Parallel()
			s := restricted
			s.userNS = true
			s.seccompProfile = "unconfined"
			p := h.startPod(t, s)
			p.importImage(t, podDebian, "localhost/rr-podbuild-base")
			p.buildOK(t, "build-hooks.d", "home-owner=0:0")
		})
		t.Run("masked-proc", func(t *testing.T) {
			// procMount Default: the runtime cannot mount a new proc for
			// the RUN container where /proc has masked paths.
			t.Parallel()
			s := restricted
			s.unmaskedProc = false
			p := h.startPod(t, s)
			p.importImage(t, podBusybox, "localhost/rr-podbuild-busybox")
			out, err := p.build(t, "build-hooks.d", "Containerfile.busybox")
			if err == nil || !strings.Contains(out, "mount `proc` to `proc`: Operation not permitted") {
				t.Errorf("want crun's proc mount failure with /proc masked: %v\n%s", err, out)
			}
		})
		t.Run("runtime-default-seccomp", func(t *testing.T) {
			// seccompProfile RuntimeDefault: without CAP_SYS_CHROOT the
			// profile refuses chroot (then, without CAP_SYS_ADMIN,
			// sethostname and setns).
			t.Parallel()
			s := restricted
			s.seccompProfile = ""
			p := h.startPod(t, s)
			p.importImage(t, podBusybox, "localhost/rr-podbuild-busybox")
			out, err := p.build(t, "build-hooks.d", "Containerfile.busybox")
			if err == nil || !strings.Contains(out, "chrooting to directory") || !strings.Contains(out, "operation not permitted") {
				t.Errorf("want buildah's chroot failure under the default profile: %v\n%s", err, out)
			}
		})
	})
	t.Logf("total %s", time.Since(start).Round(time.Second))
}

// newPodHost prepares everything: the cached images (test/setup-env.sh,
// test/k8s/setup-builder.sh), root podman storages of the test's own
// holding the builder image, the binary under test, its build hooks and
// the build context. All of it is removed when the test ends.
func newPodHost(t *testing.T) *podHost {
	t.Helper()
	testenv.RequireRoot(t)
	root := testenv.ModuleRoot(t)
	// test/setup-env.sh (packages, the Debian and busybox tars) only when
	// something it makes is missing: a warm run still takes 30 s.
	if missing := podHostMissing(); missing != "" {
		t.Logf("%s: running test/setup-env.sh", missing)
		setupEnv := exec.Command("bash", filepath.Join(root, "test/setup-env.sh"))
		setupEnv.Env = append(os.Environ(), "SKIP_VERIFY=1")
		out, errOut, code := testenv.Run(t, setupEnv, 30*time.Minute)
		testenv.Need(t, code == 0, "test/setup-env.sh exited %d:\n%s", code, tail(out+errOut, 30))
	}
	missing := podHostMissing()
	testenv.Need(t, missing == "", "%s after test/setup-env.sh", missing)
	setupBuilder := exec.Command("bash", filepath.Join(root, "test/k8s/setup-builder.sh"))
	out, errOut, code := testenv.Run(t, setupBuilder, 20*time.Minute)
	testenv.Need(t, code == 0, "test/k8s/setup-builder.sh exited %d:\n%s", code, tail(errOut, 30))
	builderTar := lastLine(out)

	h := &podHost{dir: testenv.PublicDir(t, "rr-podbuild-"), builderTar: builderTar}
	h.shared = h.newPodStore(t, h.dir)

	bin := testenv.Binary(t)
	share := filepath.Join(h.dir, "share")
	for mode, sub := range map[string]string{"creds": "build-hooks.d", "full": "build-hooks-full.d"} {
		if err := os.MkdirAll(filepath.Join(share, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		doc, err := exec.Command(bin, "hooks-json", "--build", "--mode", mode, "--path", podBinary).Output()
		if err != nil {
			t.Fatalf("%s hooks-json --build --mode %s: %v", bin, mode, err)
		}
		writeFile(t, filepath.Join(share, sub, "remainroot-build.json"), string(doc))
	}
	ctx := filepath.Join(h.dir, "ctx")
	if err := os.Mkdir(ctx, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(ctx, "Containerfile"), podContainerfile)
	writeFile(t, filepath.Join(ctx, "Containerfile.busybox"), podFailingContainerfile)
	h.mounts = []string{bin + ":" + podBinary + ":ro", share + ":" + podShareDir + ":ro",
		filepath.Join(rootfsCache, "debian-bookworm.tar") + ":" + podDebian + ":ro",
		filepath.Join(rootfsCache, "busybox.tar") + ":" + podBusybox + ":ro", ctx + ":" + podContext + ":ro"}
	return h
}

// podHostMissing names the first thing the test needs from the machine
// that it lacks, or returns "".
func podHostMissing() string {
	for _, tool := range []string{"podman", "runc", "bash", "tar", "flock", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not in PATH"
		}
	}
	for _, f := range []string{containersSeccomp, filepath.Join(rootfsCache, "debian-bookworm.tar"),
		filepath.Join(rootfsCache, "busybox.tar"), filepath.Join(rootfsCache, "debian-bookworm")} {
		if _, err := os.Stat(f); err != nil {
			return err.Error()
		}
	}
	return ""
}

// importImage imports a root filesystem tar into builder's storage as
// name (offline; the storage's ignore_chown_errors makes every file
// root's).
func (p *pod) importImage(t *testing.T, tar, name string) {
	t.Helper()
	start := time.Now()
	if out, err := p.exec(5*time.Minute, "podman import -q "+tar+" "+name); err != nil {
		t.Fatalf("podman import in the pod: %v\n%s", err, out)
	}
	t.Logf("podman import %s in the pod: %s", tar, time.Since(start).Round(time.Second))
}

// build runs podman build of the context's containerfile in the pod,
// with the hooks directory hooks under remainroot's share directory
// unless it is "".
func (p *pod) build(t *testing.T, hooks, containerfile string) (string, error) {
	t.Helper()
	script := "podman build --no-cache --network=host -f " + podContext + "/" + containerfile
	if hooks != "" {
		script += " --hooks-dir " + podShareDir + "/" + hooks
	}
	start := time.Now()
	out, err := p.exec(8*time.Minute, script+" -t localhost/rr-podbuild-app "+podContext)
	t.Logf("podman build (hooks %q) in the pod: %s", hooks, time.Since(start).Round(time.Second))
	return out, err
}

// buildOK builds with the hooks directory hooks and checks that su and
// the owner of app's home are as wanted.
func (p *pod) buildOK(t *testing.T, hooks, homeOwner string) {
	t.Helper()
	out, err := p.build(t, hooks, "Containerfile")
	for _, want := range []string{"uid=1000(app) gid=1000(app) groups=1000(app)", homeOwner + "\n"} {
		if err != nil || !strings.Contains(out, want) {
			logs, _ := p.exec(time.Minute, "tail -n 40 /var/tmp/remainroot-*/*.log /tmp/remainroot-*/*.log "+
				"${XDG_RUNTIME_DIR:-/nonexistent}/remainroot/*.log 2>/dev/null")
			t.Fatalf("want the build to succeed and print %q: %v\n%s\nremainroot's logs in the pod:\n%s",
				strings.TrimSpace(want), err, out, logs)
		}
	}
}
