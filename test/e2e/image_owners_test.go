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
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
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
	t.Run("slow-read", func(t *testing.T) {
		// The owners are read while the container starts; a read slower
		// than the start (delayed by the hooks' environment) makes the
		// first call that needs them wait: the container's first stat
		// still shows the image's owners, and the log says it waited.
		for _, route := range []string{"supervisor", "createRuntime"} {
			t.Run(route, func(t *testing.T) {
				c := base
				c.hook, c.mode, c.createRuntimeOnly = true, "full", route == "createRuntime"
				c.hooksDirs = slowOwnersHooks(t, bin, c.createRuntimeOnly)
				r, id := podmanRun(t, bin, c)
				imageOwnersCheck(t, "podman run, mode full, slow owner read", r, imageOwnersWant, id)
				_, log := tracerLog(id)
				m := firstNeeded.FindStringSubmatch(log)
				if m == nil {
					t.Fatalf("no line of the first wait for the owners\n%s", logReport(id))
				}
				waited, werr := time.ParseDuration(m[1])
				after, aerr := time.ParseDuration(m[2])
				delay, _ := time.ParseDuration(slowOwnersDelay)
				switch {
				case werr != nil || aerr != nil:
					t.Errorf("the first wait's line: waited=%q after=%q\n%s", m[1], m[2], logReport(id))
				case waited <= 0 && after < delay:
					t.Errorf("the first call needing the owners came %s after the read began, before it could end (delay %s), and did not wait\n%s",
						after, delay, logReport(id))
				case waited <= 0:
					t.Skipf("the container's start took longer than the read's delay (first call %s after it began): nothing was waited for", after)
				}
			})
		}
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

// slowOwnersDelay delays the hooks' reading of the image owners in
// slowOwnersHooks: longer than a container's start from its hook to its
// command's first stat.
const slowOwnersDelay = "8s"

// firstNeeded is the log line of the first wait for the image owners.
var firstNeeded = regexp.MustCompile(`msg="image owners first needed" .*waited=(\S+) after=(\S+)`)

// slowOwnersHooks writes hooks directories whose hooks have
// REMAINROOT_TEST_IMAGE_OWNERS_DELAY in their environment (hook
// ownersDelayEnv) and returns podman's --hooks-dir flags for them: the
// createRuntime hook, and the precreate hook unless createRuntimeOnly.
func slowOwnersHooks(t *testing.T, bin string, createRuntimeOnly bool) []string {
	t.Helper()
	docs := map[string][]string{"remainroot.json": nil}
	if !createRuntimeOnly {
		docs["remainroot-precreate.json"] = []string{"--precreate"}
	}
	var flags []string
	for name, args := range docs {
		d, err := hooksFileDir(bin, name, args...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		file := filepath.Join(d, name)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		doc["hook"].(map[string]any)["env"] = []string{"REMAINROOT_TEST_IMAGE_OWNERS_DELAY=" + slowOwnersDelay}
		if data, err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		flags = append(flags, "--hooks-dir", d)
	}
	return flags
}
