package e2e

// Image owners in mode full: under a single mapping podman's storage
// squashes the owners of a pulled image to the one mapped id; with
// io.remainroot.mode=full the stat family shows the image's (read from the
// layers' tar-split files, package imagestore), for podman run (both
// routes: the precreate supervisor and the createRuntime tracer) and
// podman exec, under vfs (the test storage) and a native overlay storage
// of the test's own. A chown in the container wins.
//
// Run as root: go test -count=1 -p 1 -run TestImageOwners ./test/e2e/

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// imageOwnersScript prints what the example prints.
const imageOwnersScript = `stat -c '%n %U:%G %a' /etc/shadow /usr/bin/chage /var/mail`

// imageOwnersWant is what rr-debian's image gives those files.
var imageOwnersWant = []string{
	"/etc/shadow root:shadow 640",
	"/usr/bin/chage root:shadow 2755",
	"/var/mail root:mail 2775",
}

// imageOwnersSquashed is what the store shows without remainroot.
var imageOwnersSquashed = []string{
	"/etc/shadow root:root 640",
	"/usr/bin/chage root:root 2755",
	"/var/mail root:root 2775",
}

// imageOwnersCheck fails t unless out has every line of want.
func imageOwnersCheck(t *testing.T, what string, r result, want []string, id string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("%s: want %q\n%s\n%s", what, w, r, logReport(id))
			return
		}
	}
}

func TestImageOwners(t *testing.T) {
	bin := setup(t, "podman", "crun")
	base := container{runtime: "crun", image: debianImage, cmd: []string{"sh", "-c", imageOwnersScript}}

	t.Run("run/supervisor", func(t *testing.T) {
		c := base
		c.hook, c.mode = true, "full"
		r, id := podmanRun(t, bin, c)
		imageOwnersCheck(t, "podman run, mode full", r, imageOwnersWant, id)
	})
	t.Run("run/createRuntime", func(t *testing.T) {
		c := base
		c.hook, c.mode, c.createRuntimeOnly = true, "full", true
		r, id := podmanRun(t, bin, c)
		imageOwnersCheck(t, "podman run, mode full, createRuntime hook", r, imageOwnersWant, id)
	})
	t.Run("run/no-annotation", func(t *testing.T) {
		r, id := podmanRun(t, bin, base)
		imageOwnersCheck(t, "podman run without remainroot", r, imageOwnersSquashed, id)
	})
	t.Run("run/chown-wins", func(t *testing.T) {
		c := base
		c.hook, c.mode = true, "full"
		c.cmd = []string{"sh", "-c", "grep -q ^lp:x:7: /etc/passwd && grep -q ^mail:x:8: /etc/group && chown 7:8 /etc/shadow && chown root:root /var/mail && " + imageOwnersScript}
		r, id := podmanRun(t, bin, c)
		imageOwnersCheck(t, "chown in the container", r, []string{
			"/etc/shadow lp:mail 640", "/usr/bin/chage root:shadow 2755", "/var/mail root:root 2775"}, id)
	})
	t.Run("exec", func(t *testing.T) {
		name := "rr-e2e-imgowners-" + randomID(6)
		t.Cleanup(func() { podman(t, time.Minute, "rm", "-f", "-t", "0", name) })
		c := base
		c.hook, c.mode, c.detach = true, "full", true
		c.cmd = []string{"sleep", "infinity"}
		c.extra = []string{"--name", name}
		r, id := podmanRun(t, bin, c)
		if r.code != 0 {
			t.Fatalf("podman run -d: %s", r)
		}
		e := podman(t, time.Minute, append(installedHooksArgs(t, bin), "exec", name, "sh", "-c", imageOwnersScript)...)
		imageOwnersCheck(t, "podman exec, mode full", e, imageOwnersWant, id)
	})
	t.Run("build", func(t *testing.T) {
		ctx := userTempDir(t)
		writeUserFile(t, filepath.Join(ctx, "Containerfile"), "FROM "+debianImage+"\nRUN "+imageOwnersScript+"\n")
		tag := "localhost/rr-e2e-imgowners-" + randomID(6) + ":latest"
		t.Cleanup(func() { podman(t, 2*time.Minute, "rmi", "-f", tag) })
		cmd := asUser(t, "podman", "build", "--runtime", "crun", "--no-cache", "--network=host",
			"--hooks-dir", buildHooksDir(t, bin, "full"), "-t", tag, ctx)
		cmd.Dir = ctx
		r := run(t, cmd, 5*time.Minute)
		imageOwnersCheck(t, "podman build RUN, mode full", r, imageOwnersWant, "")
	})
	t.Run("overlay", func(t *testing.T) {
		// A rootless native overlay store of the test's own, squashing
		// owners as the single mapping makes it.
		dir := userTempDir(t)
		store := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--storage-driver", "overlay", "--storage-opt", "overlay.ignore_chown_errors=true"}
		t.Cleanup(func() { podman(t, 2*time.Minute, append(store, "rm", "-a", "-f", "-t", "0")...) })
		from := "containers-storage:[vfs@" + imageOwnersVFSRoot(t) + "+" + runtimeDir(t) + "/containers]" + debianImage
		if r := podman(t, 5*time.Minute, append(store, "pull", "-q", from)...); r.code != 0 {
			t.Fatalf("copy the image into an overlay store: %s", r)
		}
		runIn := func(t *testing.T, annotate bool, script string) (result, string) {
			cid := filepath.Join(userTempDir(t), "cid")
			args := append(append(append([]string{}, store...), installedHooksArgs(t, bin)...),
				"run", "--rm", "--network=host", "--runtime", "crun", "--cidfile", cid)
			if annotate {
				args = append(args, "--annotation", "io.remainroot.mode=full")
			}
			r := podman(t, 2*time.Minute, append(args, debianImage, "sh", "-c", script)...)
			id, _ := os.ReadFile(cid)
			return r, strings.TrimSpace(string(id))
		}
		r, id := runIn(t, true, imageOwnersScript)
		imageOwnersCheck(t, "overlay, mode full", r, imageOwnersWant, id)
		r, id = runIn(t, false, imageOwnersScript)
		imageOwnersCheck(t, "overlay without remainroot", r, imageOwnersSquashed, id)
		// A write copies the file up to the container's layer: overlay
		// keeps its inode number, and the image's owner with it.
		r, id = runIn(t, true, "echo >> /etc/shadow && chmod g+s /var/mail && "+imageOwnersScript)
		imageOwnersCheck(t, "overlay, files copied up", r, imageOwnersWant, id)
		r, id = runIn(t, true, "chown 0:0 /etc/shadow && "+imageOwnersScript)
		imageOwnersCheck(t, "overlay, a chown in the container", r, []string{"/etc/shadow root:root 640", "/var/mail root:mail 2775"}, id)
	})
}

// imageOwnersVFSRoot is the test user's default (vfs) graph root.
func imageOwnersVFSRoot(t *testing.T) string {
	r := podman(t, time.Minute, "info", "--format", "{{.Store.GraphRoot}}")
	if r.code != 0 {
		t.Fatalf("podman info: %s", r)
	}
	return strings.TrimSpace(r.stdout)
}
