package e2e

// Helpers for every_process_test.go (issue 8: podman exec, podman build and
// --user, through the precreate hook and the container's supervisor).
// Prefixed with "ep".

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// epHooks holds the hooks directories as `make install` lays them out
// (route_helpers_test.go): the createRuntime hook's, the precreate hook's
// (a directory of its own) and the build hooks directories by mode.
type epHooks struct {
	run       string
	precreate string
	build     map[string]string
}

func epHooksFor(t *testing.T, bin string) epHooks {
	t.Helper()
	return epHooks{run: hooksDir(t, bin), precreate: routeDir(t, bin, "precreate"),
		build: map[string]string{"creds": buildHooksDir(t, bin, "creds"), "full": buildHooksDir(t, bin, "full")}}
}

// podman runs podman as the test user with both run hooks directories
// (podman's global --hooks-dir: every podman command that creates or
// starts a container needs them, podman start and restart too).
func (h epHooks) podman(t testing.TB, timeout time.Duration, args ...string) result {
	t.Helper()
	r := podman(t, timeout, append([]string{"--hooks-dir", h.run, "--hooks-dir", h.precreate}, args...)...)
	r.stderr = podmanNoise.ReplaceAllString(r.stderr, "")
	return r
}

// epAnnotations returns the podman run options that select mode ("" for
// none: no remainroot), plus the debug log level when REMAINROOT_E2E_DEBUG=1.
func epAnnotations(mode string) []string {
	if mode == "" {
		return nil
	}
	a := []string{"--annotation", "io.remainroot.mode=" + mode}
	if os.Getenv("REMAINROOT_E2E_DEBUG") == "1" {
		a = append(a, "--annotation", debugAnn)
	}
	return a
}

// epRun runs `podman run --rm` of image with cmd under runtime rt, with
// remainroot in mode (none when ""), and returns the result and the
// container id.
func (h epHooks) epRun(t *testing.T, rt, mode string, extra []string, image string, cmd ...string) (result, string) {
	t.Helper()
	cidFile := filepath.Join(userTempDir(t), "cid")
	args := append([]string{"run", "--rm", "--runtime", rt, "--cidfile", cidFile}, epAnnotations(mode)...)
	args = append(append(append(args, extra...), image), cmd...)
	r := h.podman(t, 3*time.Minute, args...)
	id := ""
	if data, err := os.ReadFile(cidFile); err == nil {
		id = strings.TrimSpace(string(data))
	}
	epRemoveLogAfter(t, id)
	return r, id
}

// epRemoveLogAfter removes the remainroot log of container id when t
// ends, unless t failed (the log then helps).
func epRemoveLogAfter(t *testing.T, id string) {
	if id == "" {
		return
	}
	t.Cleanup(func() {
		if p, _ := tracerLog(id); p != "" && !t.Failed() {
			os.Remove(p)
		}
	})
}

// epStart starts a detached container (removed when t ends) and returns
// its id.
func (h epHooks) epStart(t *testing.T, rt, mode string, extra []string, image string, cmd ...string) string {
	t.Helper()
	args := append([]string{"run", "-d", "--runtime", rt}, epAnnotations(mode)...)
	args = append(append(append(args, extra...), image), cmd...)
	r := h.podman(t, 2*time.Minute, args...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	id := strings.TrimSpace(lines[len(lines)-1])
	if r.code != 0 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("podman run -d failed\n%s", r)
	}
	epRemoveLogAfter(t, id) // cleanups run last first: after the rm
	t.Cleanup(func() { podman(t, time.Minute, "rm", "-f", "-t", "0", id) })
	return id
}

// epWaitInitIs waits until the init of container id runs the program
// named comm (its /proc comm), failing the test after timeout.
func epWaitInitIs(t *testing.T, id, comm string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		r := podman(t, time.Minute, "inspect", "--format", "{{.State.Pid}}", id)
		pid := strings.TrimSpace(r.stdout)
		if r.code == 0 && pid != "" && pid != "0" {
			data, err := os.ReadFile("/proc/" + pid + "/comm")
			last = strings.TrimSpace(string(data))
			if err == nil && last == comm {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("container %s: its init is %q after %v, not %s", id, last, timeout, comm)
}

// epConfig is what the runtime was given for container id (podman's
// OCIConfigPath): the supervisor's socket (listenerPath) and the
// precreate hook's annotation, both "" when remainroot is not involved.
type epConfig struct {
	listenerPath string
	annotation   string
	notifyRules  int
}

func epContainerConfig(t *testing.T, id string) epConfig {
	t.Helper()
	r := podman(t, time.Minute, "inspect", "--format", "{{.OCIConfigPath}}", id)
	path := strings.TrimSpace(r.stdout)
	if r.code != 0 || path == "" {
		t.Fatalf("podman inspect OCIConfigPath of %s failed\n%s", id, r)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the runtime's config of %s: %v", id, err)
	}
	var cfg struct {
		Annotations map[string]string `json:"annotations"`
		Linux       struct {
			Seccomp *struct {
				ListenerPath string `json:"listenerPath"`
				Syscalls     []struct {
					Action string `json:"action"`
				} `json:"syscalls"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := epConfig{annotation: cfg.Annotations["io.remainroot.supervisor"]}
	if s := cfg.Linux.Seccomp; s != nil {
		c.listenerPath = s.ListenerPath
		for _, r := range s.Syscalls {
			if r.Action == "SCMP_ACT_NOTIFY" {
				c.notifyRules++
			}
		}
	}
	return c
}

// epSupervisor is a running supervisor process.
type epSupervisor struct {
	pid     int
	socket  string
	cmdline string
}

// epSupervisors lists the running supervisors (argv[1] is the supervisor
// role; the test's own processes never have it).
func epSupervisors() []epSupervisor {
	var list []epSupervisor
	for _, p := range procsWithRole(supervisorRole) {
		list = append(list, epSupervisor{pid: p.pid, cmdline: strings.Join(p.argv, " "), socket: p.flag("socket")})
	}
	return list
}

// epSupervisorOn returns the supervisors listening on socket.
func epSupervisorOn(socket string) []epSupervisor {
	var out []epSupervisor
	for _, s := range epSupervisors() {
		if s.socket == socket {
			out = append(out, s)
		}
	}
	return out
}

// epRequireSupervised fails t unless container id's config sends its
// listeners to a running supervisor, and returns the socket.
func epRequireSupervised(t *testing.T, id string) string {
	t.Helper()
	c := epContainerConfig(t, id)
	if c.listenerPath == "" || c.annotation != c.listenerPath || c.notifyRules == 0 {
		t.Fatalf("container %s: the runtime's config has listenerPath %q, annotation %q, %d SCMP_ACT_NOTIFY rules: "+
			"the precreate hook did not rewrite it", id, c.listenerPath, c.annotation, c.notifyRules)
	}
	if len(epSupervisorOn(c.listenerPath)) != 1 {
		t.Fatalf("container %s: no supervisor runs on %s (running: %+v)\n%s", id, c.listenerPath, epSupervisors(), logReport(id))
	}
	if trs := epCreateRuntimeTracers(id); len(trs) > 0 {
		t.Errorf("container %s has a supervisor and createRuntime tracers %+v: the createRuntime hook must leave it alone", id, trs)
	}
	return c.listenerPath
}

// epRequireUntouched fails t when anything of remainroot is attached to
// container id, which has no annotation.
func epRequireUntouched(t *testing.T, id string) {
	t.Helper()
	c := epContainerConfig(t, id)
	if c.listenerPath != "" || c.annotation != "" || c.notifyRules != 0 {
		t.Errorf("container %s without the annotation: listenerPath %q, annotation %q, %d SCMP_ACT_NOTIFY rules; want none",
			id, c.listenerPath, c.annotation, c.notifyRules)
	}
	if left := tracersFor(id); len(left) > 0 {
		t.Errorf("container %s without the annotation has tracers: %+v", id, left)
	}
	if p, _ := tracerLog(id); p != "" {
		t.Errorf("container %s without the annotation has a remainroot log %s", id, p)
	}
}

// epCreateRuntimeTracers lists the createRuntime hook's tracers of
// container id (tracersFor also lists supervisors, and a later start's
// supervisor of the same container is no leftover).
func epCreateRuntimeTracers(id string) []tracerProc {
	var trs []tracerProc
	for _, p := range tracersFor(id) {
		if f := strings.Fields(p.cmdline); len(f) > 1 && f[1] == tracerRole {
			trs = append(trs, p)
		}
	}
	return trs
}

// epAssertGone fails t unless, within five seconds, no supervisor listens
// on socket, its socket file is gone and no tracer runs for container id.
func epAssertGone(t *testing.T, id, socket string) {
	t.Helper()
	start := time.Now()
	for {
		sups := epSupervisorOn(socket)
		trs := epCreateRuntimeTracers(id)
		_, err := os.Lstat(socket)
		if len(sups) == 0 && len(trs) == 0 && os.IsNotExist(err) {
			if d := time.Since(start); d > time.Second {
				t.Logf("remainroot's processes of %s took %s to exit", id, d.Round(time.Millisecond))
			}
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("5 s after container %s ended: supervisors on %s: %+v; tracers: %+v; socket file: %v\n%s",
				id, socket, sups, trs, err, logReport(id))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// epPTY is a command run under `script` (a pseudo-terminal) with its
// input written by the test and its output collected.
type epPTY struct {
	t    *testing.T
	in   io.WriteCloser
	mu   sync.Mutex
	out  bytes.Buffer
	pos  int
	done chan struct{}
	res  result
}

func (p *epPTY) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// epStartPTY runs the shell command line as the test user on the
// terminal `script` makes.
func epStartPTY(t *testing.T, cmdline string, timeout time.Duration) *epPTY {
	t.Helper()
	cmd := asUser(t, "script", "-qec", cmdline, "/dev/null")
	p := &epPTY{t: t, done: make(chan struct{})}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.in = in
	cmd.Stdout = p
	cmd.Stderr = p
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start script: %v", err)
	}
	timer := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	go func() {
		defer close(p.done)
		err := cmd.Wait()
		timer.Stop()
		p.res = result{args: cmd.Args, duration: time.Since(start)}
		if cmd.ProcessState != nil {
			p.res.code = cmd.ProcessState.ExitCode()
		}
		if err != nil && p.res.code == 0 {
			p.res.code = -1
		}
	}()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// send writes s to the terminal.
func (p *epPTY) send(s string) {
	if _, err := io.WriteString(p.in, s); err != nil {
		p.t.Errorf("write to the terminal: %v", err)
	}
}

// expect waits until output after the last match matches re, and returns
// the submatches (nil on timeout).
func (p *epPTY) expect(re *regexp.Regexp, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		rest := p.out.String()[p.pos:]
		loc := re.FindStringSubmatchIndex(rest)
		if loc != nil {
			m := make([]string, 0, len(loc)/2)
			for i := 0; i < len(loc); i += 2 {
				if loc[i] < 0 {
					m = append(m, "")
					continue
				}
				m = append(m, rest[loc[i]:loc[i+1]])
			}
			p.pos += loc[1]
			p.mu.Unlock()
			return m
		}
		p.mu.Unlock()
		if time.Now().After(deadline) {
			return nil
		}
		select {
		case <-p.done:
			// One more look at what the command printed last.
			deadline = time.Now()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// wait waits for the command to end and returns its exit status.
func (p *epPTY) wait(timeout time.Duration) (int, bool) {
	select {
	case <-p.done:
		return p.res.code, true
	case <-time.After(timeout):
		return 0, false
	}
}

// transcript is everything the terminal showed.
func (p *epPTY) transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.ReplaceAll(p.out.String(), "\r", "")
}

// epDecodeHex decodes a getfattr -e hex value (0x...) of
// user.rootlesscontainers into "UID:GID".
func epDecodeHex(v string) (string, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(v, "0x"))
	if err != nil {
		return "", fmt.Errorf("getfattr value %q: %w", v, err)
	}
	return fullDecodeOwner(b)
}
