// Package k8s holds remainroot's Kubernetes-engine end-to-end tests: a
// containerd 2.x of the test's own (temporary root, state and sockets;
// runc 1.3; NRI with remainroot's plugin) running pods whose user
// namespace maps a single id, through crictl as the kubelet would.
//
// Run as root: go test -count=1 -v ./test/k8s/
// The tools are built from the Go module proxy by setup-containerd.sh
// (cached in GOPATH/bin/remainroot-k8s; about 5 minutes cold); the images
// come from test/setup-env.sh's root filesystem tars, no registry needed.
package k8s

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

const (
	rootfsCache  = "/var/cache/remainroot-test"
	debianImage  = "localhost/rr-debian-squashed:bookworm"
	pauseImage   = "localhost/rr-pause:latest"
	podHostID    = 200000
	initCommands = "su -s /bin/sh nobody -c id; useradd u1 && su u1 -c id; exec sleep infinity"
)

func TestNRIContainerdSingleID(t *testing.T) {
	testenv.RequireRoot(t)
	debian := filepath.Join(rootfsCache, "debian-bookworm.tar")
	busybox := filepath.Join(rootfsCache, "busybox.tar")
	for _, f := range []string{debian, busybox} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s: %v (test/setup-env.sh makes it)", f, err)
			}
			t.Skipf("%s: %v (test/setup-env.sh makes it)", f, err)
		}
	}
	start := time.Now()
	bin := tools(t)
	t.Logf("tools ready in %s", time.Since(start).Round(time.Second))

	c := startContainerd(t, bin, testenv.Binary(t))
	images := t.TempDir()
	ociArchive(t, filepath.Join(images, "pause.tar"), busybox, pauseImage, []string{"/bin/sleep", "2147483647"}, false)
	ociArchive(t, filepath.Join(images, "debian.tar"), debian, debianImage, []string{"/bin/sleep", "2147483647"}, true)
	c.importImage(filepath.Join(images, "pause.tar"))
	c.importImage(filepath.Join(images, "debian.tar"))

	t.Run("annotated", func(t *testing.T) {
		pod := c.runPod(t, "annotated", map[string]string{"io.remainroot.mode": "creds"})
		ctr := c.createContainer(t, pod, "annotated", initCommands)
		if out, err := c.crictl("start", ctr); err != nil {
			t.Fatalf("crictl start: %v\n%s", err, out)
		}
		logs := c.waitLogs(t, ctr, "uid=1000(u1)")
		t.Logf("the init's output:\n%s", logs)
		for _, want := range []string{"uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)", "uid=1000(u1) gid=1000(u1) groups=1000(u1)"} {
			if !strings.Contains(logs, want) {
				t.Errorf("the init's output lacks %q:\n%s", want, logs)
			}
		}
		out, err := c.crictl("exec", ctr, "su", "nobody", "-s", "/bin/sh", "-c", "id")
		t.Logf("crictl exec su nobody -s /bin/sh -c id: %s", out)
		if err != nil || !strings.Contains(out, "uid=65534(nobody)") {
			t.Errorf("crictl exec su nobody: %v\n%s", err, out)
		}
		plugin := readFile(c.PluginLog)
		for _, want := range []string{"annotation copied from the pod", "destination=/dev/pts", "createRuntime hook added", "seccomp listener set"} {
			if !strings.Contains(plugin, want) {
				t.Errorf("the plugin's log lacks %q", want)
			}
		}
		if out, err := c.crictl("rmp", "-f", pod); err != nil {
			t.Errorf("crictl rmp: %v\n%s", err, out)
		}
		c.waitPluginLog(t, "supervisor exited")
	})

	t.Run("mode full", func(t *testing.T) {
		pod := c.runPod(t, "full", map[string]string{"io.remainroot.mode": "full"})
		ctr := c.createContainer(t, pod, "full", "exec sleep infinity")
		if out, err := c.crictl("start", ctr); err != nil {
			t.Fatalf("crictl start: %v\n%s", err, out)
		}
		out, err := c.crictl("exec", ctr, "sh", "-c", "touch /tmp/f && chown 1000:1000 /tmp/f && stat -c %u:%g /tmp/f")
		t.Logf("crictl exec chown 1000:1000 + stat: %v: %s", err, out)
		if err != nil || lastLine(out) != "1000:1000" {
			t.Errorf("mode full: the exec'd process's chown does not stick: %v\n%s", err, out)
		}
	})

	// A limit, checked so that the docs stay true: containerd itself
	// gives the container's stdio to the run_as_user's host id and
	// refuses one the pod does not map, before any runtime or hook runs;
	// NRI cannot change a container's user.
	t.Run("run_as_user unmapped: containerd refuses", func(t *testing.T) {
		pod := c.runPod(t, "runasuser", map[string]string{"io.remainroot.mode": "creds"})
		out, err := c.createContainerAs(pod, "runasuser", "id", 1000)
		if err != nil {
			t.Fatalf("crictl create: %v\n%s", err, out)
		}
		out, err = c.crictl("start", lastLine(out))
		t.Logf("crictl start: %v: %s", err, lastLine(out))
		if err == nil || !strings.Contains(out, "cannot be mapped to a host ID") {
			t.Errorf("crictl start with run_as_user 1000: err %v, want containerd's refusal:\n%s", err, out)
		}
	})

	t.Run("not annotated", func(t *testing.T) {
		pod := c.runPod(t, "plain", nil)
		ctr := c.createContainer(t, pod, "plain", initCommands)
		out, err := c.crictl("start", ctr)
		t.Logf("crictl start: %v: %s", err, lastLine(out))
		// Today's failure: the spec containerd makes for a single-id pod
		// does not even start (devpts gid=5).
		if err == nil || !strings.Contains(out, "devpts") {
			t.Errorf("crictl start of an unannotated single-id container: err %v, want runc's devpts failure:\n%s", err, out)
		}
		if strings.Contains(readFile(c.PluginLog), "pod=default/plain") {
			t.Errorf("the plugin touched the unannotated pod")
		}
	})

	t.Run("malformed annotation", func(t *testing.T) {
		pod := c.runPod(t, "malformed", map[string]string{"io.remainroot.mode": "bogus"})
		out, err := c.createContainerErr(pod, "malformed", "id")
		t.Logf("crictl create: %v: %s", err, lastLine(out))
		if err == nil || !strings.Contains(out, "io.remainroot.mode") {
			t.Errorf("crictl create with a malformed annotation: err %v, want an error naming the annotation:\n%s", err, out)
		}
		// The node goes on: another pod still runs.
		if out, err := c.crictl("pods"); err != nil {
			t.Errorf("crictl pods after the refusal: %v\n%s", err, out)
		}
	})
}

// podConfig is a CRI pod (and container) config: host network, a user
// namespace mapping container id 0 to podHostID only.
func podConfig(name string, ann map[string]string) map[string]any {
	ids := []map[string]any{{"host_id": podHostID, "container_id": 0, "length": 1}}
	return map[string]any{
		"metadata":    map[string]any{"name": name, "namespace": "default", "uid": name + "-uid", "attempt": 0},
		"annotations": ann,
		"linux": map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{
			"network": 2, "pid": 1,
			"userns_options": map[string]any{"mode": 0, "uids": ids, "gids": ids},
		}}},
	}
}

func (c *containerd) runPod(t *testing.T, name string, ann map[string]string) string {
	t.Helper()
	path := filepath.Join(c.dir, name+"-pod.json")
	cfg := podConfig(name, ann)
	cfg["log_directory"] = filepath.Join(c.dir, "pod-logs", name)
	writeFile(t, path, string(mustJSON(cfg)))
	out, err := c.crictl("runp", path)
	if err != nil {
		t.Fatalf("crictl runp: %v\n%s", err, out)
	}
	return lastLine(out)
}

func (c *containerd) createContainer(t *testing.T, pod, name, script string) string {
	t.Helper()
	out, err := c.createContainerErr(pod, name, script)
	if err != nil {
		t.Fatalf("crictl create: %v\n%s", err, out)
	}
	return lastLine(out)
}

func (c *containerd) createContainerErr(pod, name, script string) (string, error) {
	return c.createContainerAs(pod, name, script, -1)
}

// createContainerAs creates a container running script as user uid (-1:
// the image's user).
func (c *containerd) createContainerAs(pod, name, script string, uid int) (string, error) {
	cfg := podConfig(name, nil)
	if uid >= 0 {
		linux := cfg["linux"].(map[string]any)
		linux["security_context"].(map[string]any)["run_as_user"] = map[string]any{"value": uid}
	}
	ctr := map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": debianImage},
		"command":  []string{"/bin/sh", "-c", script},
		"log_path": name + ".log",
		"linux":    cfg["linux"],
	}
	ctrPath := filepath.Join(c.dir, name+"-ctr.json")
	podPath := filepath.Join(c.dir, name+"-pod.json")
	if err := os.WriteFile(ctrPath, mustJSON(ctr), 0o644); err != nil {
		return "", err
	}
	return c.crictl("create", pod, ctrPath, podPath)
}

// waitLogs waits up to a minute for want in the container's output.
func (c *containerd) waitLogs(t *testing.T, ctr, want string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, _ := c.crictl("logs", ctr)
		if strings.Contains(out, want) || time.Now().After(deadline) {
			return out
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (c *containerd) waitPluginLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(readFile(c.PluginLog), want) {
		if time.Now().After(deadline) {
			t.Errorf("the plugin's log lacks %q after 30 s", want)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
