package k8s

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remainroot/remainroot/test/testenv"
)

// tools builds (once, cached: test/k8s/setup-containerd.sh) containerd,
// its runc shim, ctr, runc 1.3 and crictl, and returns their directory.
func tools(t *testing.T) string {
	t.Helper()
	root := testenv.ModuleRoot(t)
	cmd := exec.Command("bash", filepath.Join(root, "test/k8s/setup-containerd.sh"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("setup-containerd.sh: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// containerd is one containerd of the test's own: root, state, sockets and
// runc's state under dir; NRI on with remainroot as a pre-installed plugin
// (a link in plugin_path, started by containerd with no arguments) and its
// configuration in plugin_config_path.
type containerd struct {
	t      *testing.T
	dir    string
	bin    string
	socket string
	cmd    *exec.Cmd
	// PluginLog is the remainroot plugin's log file.
	PluginLog string
	// LogDir holds the supervisors' logs.
	LogDir string
	// hadRunDir says whether /run/containerd existed before the test.
	hadRunDir bool
}

func startContainerd(t *testing.T, bin, remainroot string) *containerd {
	t.Helper()
	// World-traversable: the pod's processes (an unprivileged host id)
	// reach their root filesystems under the state directory.
	dir := testenv.PublicDir(t, "remainroot-k8s-")
	c := &containerd{t: t, dir: dir, bin: bin, socket: filepath.Join(dir, "containerd.sock"),
		PluginLog: filepath.Join(dir, "nri.log"), LogDir: filepath.Join(dir, "logs")}
	for _, d := range []string{"plugins", "plugins.d", "logs", "cni"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat("/run/containerd"); err == nil {
		c.hadRunDir = true
	}
	if err := os.Symlink(remainroot, filepath.Join(dir, "plugins", "10-remainroot")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "plugins.d", "remainroot.conf"), fmt.Sprintf(
		"log_file = %q\nlog_dir = %q\nlog_level = \"debug\"\n", c.PluginLog, c.LogDir))
	// containerd runs runc through remainroot's wrapper link, which fixes
	// the pod's sandbox config (no NRI event sees it); runc is the PATH's
	// first, the test's runc 1.3.
	wrapper := filepath.Join(dir, "remainroot-runc")
	if err := os.Symlink(remainroot, wrapper); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "config.toml"), containerdConfig(dir, wrapper))
	c.cmd = exec.Command(filepath.Join(bin, "containerd"), "--config", filepath.Join(dir, "config.toml"))
	c.cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	t.Cleanup(c.stop)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(readFile(c.PluginLog), "msg=configured") {
		if time.Now().After(deadline) {
			t.Fatalf("containerd or the plugin did not start in 30 s; containerd's log:\n%s", tail(readFile(filepath.Join(dir, "containerd.log")), 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return c
}

// containerdConfig: the CRI plugin with runc 1.3 (through remainroot's
// runtime wrapper) and the overlayfs snapshotter; restrict_oom_score_adj because
// root here may lack CAP_SYS_RESOURCE (runc: "failed to update
// /proc/self/oom_score_adj: Permission denied" for the pause container's
// -998); no TCP or stream server on a fixed port.
func containerdConfig(dir, runtime string) string {
	return fmt.Sprintf(`version = 3
root = "%[1]s/root"
state = "%[1]s/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "%[1]s/containerd.sock"
[ttrpc]
  address = "%[1]s/containerd.sock.ttrpc"
[plugins."io.containerd.nri.v1.nri"]
  disable = false
  socket_path = "%[1]s/nri.sock"
  plugin_path = "%[1]s/plugins"
  plugin_config_path = "%[1]s/plugins.d"
  plugin_registration_timeout = "5s"
  plugin_request_timeout = "2s"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "localhost/rr-pause:latest"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  cni.conf_dir = "%[1]s/cni"
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "%[2]s"
        Root = "%[1]s/runc"
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`, dir, runtime)
}

// crictl runs crictl against this containerd.
func (c *containerd) crictl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := filepath.Join(c.dir, "crictl.yaml")
	if _, err := os.Stat(cfg); err != nil {
		writeFile(c.t, cfg, "runtime-endpoint: unix://"+c.socket+"\nimage-endpoint: unix://"+c.socket+"\ntimeout: 60\n")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "crictl"), append([]string{"--config", cfg}, args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// importImage imports an OCI archive into the CRI namespace.
func (c *containerd) importImage(archive string) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(c.bin, "ctr"), "-a", c.socket, "-n", "k8s.io", "images", "import", archive)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("ctr images import %s: %v\n%s", archive, err, out)
	}
}

// stop removes every pod, stops containerd (its plugin exits with it) and
// unmounts what it left under its directory.
func (c *containerd) stop() {
	rmStart := time.Now()
	if out, err := c.crictl("rmp", "-a", "-f"); err != nil {
		c.t.Logf("crictl rmp -a -f: %v\n%s", err, out)
	}
	c.t.Logf("pods removed in %s", time.Since(rmStart).Round(time.Millisecond))
	// Every supervisor the plugin started has ended (StopContainer,
	// RemoveContainer), those of containers that never started too.
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := readFile(c.PluginLog)
		started, ended := strings.Count(log, "seccomp listener set"), strings.Count(log, "supervisor exited")
		if started == ended {
			break
		}
		if time.Now().After(deadline) {
			c.t.Errorf("%d supervisors started, %d exited", started, ended)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopStart := time.Now()
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	for _, m := range mountsUnder(c.dir) {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	c.t.Logf("containerd stopped in %s", time.Since(stopStart).Round(time.Millisecond))
	// No shim, plugin or container process may outlive the test (the
	// plugin exits when containerd closes its connection).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		left := processesMentioning(c.dir)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			c.t.Errorf("processes left after containerd stopped: %v", left)
			break
		}
	}
	if c.t.Failed() {
		c.t.Logf("containerd's log:\n%s\nplugin's log:\n%s", tail(readFile(filepath.Join(c.dir, "containerd.log")), 40), tail(readFile(c.PluginLog), 40))
	}
	// containerd's shims keep their sockets in /run/containerd/s
	// whatever the config says: remove the directories if this test
	// made them (and they are empty).
	if c.hadRunDir {
		return
	}
	for _, d := range []string{"/run/containerd/s", "/run/containerd/runc/k8s.io", "/run/containerd/runc", "/run/containerd"} {
		os.Remove(d)
	}
}

// processesMentioning lists the processes whose command line holds s.
func processesMentioning(s string) []string {
	var out []string
	pids, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range pids {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(s)) {
			out = append(out, filepath.Base(filepath.Dir(p))+": "+string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// mountsUnder lists the mount points under dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			out = append([]string{fields[4]}, out...)
		}
	}
	return out
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
