package e2e

// Helpers for faults_test.go and load_test.go (issue 16, points 3 and 4):
// one container's remainroot and podman processes, found and killed while
// podman works on the container, and the check that nothing of it is left.
// Prefixed with "fault".

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The hidden roles of the supervisor's helper processes (attach.DoorbellRole,
// fallback.Role).
const (
	doorbellRole = "__doorbell"
	fallbackRole = "__fallback"
)

// faultContainer is one annotated busybox container of a fault or load
// test, and everything of remainroot's and podman's seen working for it.
type faultContainer struct {
	h    epHooks
	rt   string
	name string
	id   string
	// bundle is the container's userdata directory, where podman writes
	// the runtime's config.json at every start.
	bundle string

	mu sync.Mutex
	// sockets are the supervisor sockets its configs named.
	sockets map[string]bool
	// helpers are its supervisors, doorbells and fallback answerers seen.
	helpers map[procID]string
	// pidNamespaces are its inits' pid namespaces, one per start, each
	// held open so that its inode number is not reused for another
	// container's while the test looks for processes in it.
	pidNamespaces map[string]*os.File
	// killedSockets are the sockets of supervisors a fault killed: a
	// killed supervisor cannot remove its socket (README).
	killedSockets map[string]bool
}

// faultCreate creates (does not start) container name with the init cmd.
func faultCreate(t *testing.T, h epHooks, rt, name string, cmd ...string) *faultContainer {
	t.Helper()
	args := append([]string{"create", "--name", name, "--runtime", rt, "--network=none"}, epAnnotations("creds")...)
	r := h.podman(t, faultDeadline, append(append(args, busyboxImage), cmd...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	id := strings.TrimSpace(lines[len(lines)-1])
	if r.code != 0 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("podman create failed\n%s", r)
	}
	return faultTrack(t, h, rt, name, id)
}

// faultTrack follows container id (removed when t ends).
func faultTrack(t *testing.T, h epHooks, rt, name, id string) *faultContainer {
	t.Helper()
	epRemoveLogAfter(t, id)
	t.Cleanup(func() { podman(t, faultDeadline, "rm", "-f", "-t", "0", id) })
	in := podman(t, faultDeadline, "inspect", "--format", "{{.StaticDir}}", id)
	if in.code != 0 {
		t.Fatalf("podman inspect failed\n%s", in)
	}
	c := &faultContainer{h: h, rt: rt, name: name, id: id, bundle: strings.TrimSpace(in.stdout),
		sockets: map[string]bool{}, helpers: map[procID]string{}, pidNamespaces: map[string]*os.File{}, killedSockets: map[string]bool{}}
	t.Cleanup(func() {
		for s := range c.killedSockets {
			os.Remove(s)
		}
		for _, f := range c.pidNamespaces {
			f.Close()
		}
	})
	return c
}

// listenerPath is the supervisor socket the runtime's current config names
// ("" before the first start).
func (c *faultContainer) listenerPath() string {
	data, err := os.ReadFile(filepath.Join(c.bundle, "config.json"))
	if err != nil {
		return ""
	}
	var cfg struct {
		Linux struct {
			Seccomp *struct {
				ListenerPath string `json:"listenerPath"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if json.Unmarshal(data, &cfg) != nil || cfg.Linux.Seccomp == nil {
		return ""
	}
	return cfg.Linux.Seccomp.ListenerPath
}

// supervisorPids lists the running supervisors of the container: the one
// on its current config's socket and any whose log is the container's.
func (c *faultContainer) supervisorPids() []int {
	socket := c.listenerPath()
	var pids []int
	for _, s := range supervisors() {
		if s.id == c.id || (socket != "" && strings.Contains(s.cmdline, " --socket "+socket+" ")) {
			pids = append(pids, s.pid)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if socket != "" {
		c.sockets[socket] = true
	}
	for _, pid := range pids {
		c.helpers[procIDOf(pid)] = supervisorRole
	}
	return pids
}

// helperPids lists the running processes of role (doorbellRole,
// fallbackRole) that the container's supervisors started.
func (c *faultContainer) helperPids(role string) []int {
	sups := map[int]bool{}
	for _, pid := range c.supervisorPids() {
		sups[pid] = true
	}
	var pids []int
	for _, p := range procsWithRole(role) {
		if sups[parentPid(p.pid)] {
			pids = append(pids, p.pid)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, pid := range pids {
		c.helpers[procIDOf(pid)] = role
	}
	return pids
}

// podmanPids lists the container's conmon processes (name "conmon") or
// runtime processes (name rt): their argv names the container's id.
func (c *faultContainer) podmanPids(name string) []int {
	var pids []int
	for _, p := range hostProcs() {
		if filepath.Base(p.argv[0]) != name || p.pid == os.Getpid() {
			continue
		}
		for _, a := range p.argv[1:] {
			if a == c.id {
				pids = append(pids, p.pid)
				break
			}
		}
	}
	return pids
}

// noteInit records the pid namespace of the container's init, when it
// runs (the child of the container's own conmon, whose -u is the
// container's id; an exec's conmon has the exec's), and the supervisor's
// processes.
func (c *faultContainer) noteInit() {
	conmons := map[int]bool{}
	procs := hostProcs()
	for _, p := range procs {
		if filepath.Base(p.argv[0]) == "conmon" && strings.Contains(strings.Join(p.argv, " "), " -u "+c.id+" ") {
			conmons[p.pid] = true
		}
	}
	for _, p := range procs {
		if !conmons[parentPid(p.pid)] {
			continue
		}
		path := fmt.Sprintf("/proc/%d/ns/pid", p.pid)
		ns, err := os.Readlink(path)
		if host, _ := os.Readlink("/proc/self/ns/pid"); err != nil || ns == host {
			continue // gone, or the runtime (conmon's child until it execs the init)
		}
		c.mu.Lock()
		if c.pidNamespaces[ns] == nil {
			if f, err := os.Open(path); err == nil {
				c.pidNamespaces[ns] = f
			}
		}
		c.mu.Unlock()
	}
	c.supervisorPids()
	c.helperPids(doorbellRole)
	c.helperPids(fallbackRole)
}

// processesIn lists the processes in pid namespace ns.
func processesIn(ns string) []roleProc {
	var list []roleProc
	for _, p := range hostProcs() {
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p.pid)); err == nil && got == ns {
			list = append(list, p)
		}
	}
	return list
}

// leftovers describes what of the container still runs or exists: its
// processes, conmon and runtime processes, supervisors, doorbells and
// answerers, and the sockets of supervisors that were not killed.
func (c *faultContainer) leftovers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var left []string
	for ns := range c.pidNamespaces {
		for _, p := range processesIn(ns) {
			left = append(left, fmt.Sprintf("container process %d %q", p.pid, p.argv))
		}
	}
	for _, name := range []string{"conmon", c.rt} {
		for _, pid := range c.podmanPids(name) {
			left = append(left, fmt.Sprintf("%s %d", name, pid))
		}
	}
	for p, role := range c.helpers {
		if p.start != "" && procIDOf(p.pid) == p {
			left = append(left, fmt.Sprintf("%s %d", role, p.pid))
		}
	}
	for s := range c.sockets {
		if _, err := os.Lstat(s); err == nil && !c.killedSockets[s] {
			left = append(left, "socket "+s)
		}
	}
	return left
}

// procID names one process for good: its pid and its start time (a pid
// is reused).
type procID struct {
	pid   int
	start string
}

// procIDOf returns the id of the process that has pid now (start "" when
// none runs, or only its zombie).
func procIDOf(pid int) procID {
	f := procStat(pid) // starttime is field 22 of proc(5)
	if len(f) < 20 || f[0] == "Z" {
		return procID{pid: pid}
	}
	return procID{pid: pid, start: f[19]}
}

// assertNothingLeft fails t unless, within ten seconds, nothing of the
// container is left (leftovers).
func (c *faultContainer) assertNothingLeft(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := c.leftovers()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("container %s (%s): 10 s after podman rm -f, left: %s\n%s", c.name, c.id, strings.Join(left, "; "), logReport(c.id))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertConsistent fails t unless podman ps -a and podman inspect agree on
// the container's state, and then removes it with podman rm -f.
func (c *faultContainer) assertConsistentAndRemove(t *testing.T) {
	t.Helper()
	ps := podman(t, faultDeadline, "ps", "-a", "--filter", "id="+c.id, "--format", "json")
	var listed []struct{ State string }
	json.Unmarshal([]byte(ps.stdout), &listed)
	in := podman(t, faultDeadline, "inspect", "--format", "{{.State.Status}}", c.id)
	if ps.code != 0 || in.code != 0 || len(listed) != 1 || listed[0].State != strings.TrimSpace(in.stdout) {
		t.Errorf("container %s: podman ps -a and podman inspect disagree on its state\n%s\n%s", c.name, ps, in)
	}
	if r := removeContainers(t, podman, faultDeadline, c.id); r.code != 0 {
		t.Errorf("container %s: podman rm -f failed\n%s", c.name, r)
	}
	if r := podman(t, faultDeadline, "container", "exists", c.id); r.code != 1 {
		t.Errorf("container %s: still exists after podman rm -f\n%s", c.name, r)
	}
}

// faultInjector kills the container's processes of one kind once: the
// first ones it finds after its delay, until it is disarmed.
type faultInjector struct {
	c       *faultContainer
	kind    string
	disarm  chan struct{}
	stopped chan struct{}
	// killed describes what it killed, and when, once stopped is closed.
	killed string
}

// targets lists the container's processes that the fault kind kills.
func (c *faultContainer) targets(kind string) []int {
	switch kind {
	case "supervisor":
		return c.supervisorPids()
	case "doorbell":
		return c.helperPids(doorbellRole)
	case "fallback":
		return c.helperPids(fallbackRole)
	case "conmon":
		return c.podmanPids("conmon")
	case "runtime":
		return c.podmanPids(c.rt)
	}
	panic("unknown fault kind " + kind)
}

// kill sends SIGKILL to the container's processes of kind, now, and
// describes what it killed ("" when none ran).
func (c *faultContainer) kill(kind string) string {
	pids := c.targets(kind)
	if kind == "supervisor" {
		// The sockets the supervisors listen on stay behind.
		sockets := map[int]string{}
		for _, s := range epSupervisors() {
			sockets[s.pid] = s.socket
		}
		c.mu.Lock()
		for _, pid := range pids {
			c.killedSockets[sockets[pid]] = true
		}
		c.mu.Unlock()
	}
	var killed []string
	for _, pid := range pids {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, strconv.Itoa(pid))
		}
	}
	if len(killed) == 0 {
		return ""
	}
	return kind + " " + strings.Join(killed, ",")
}

// arm starts an injector of kind that fires delay from now.
func (c *faultContainer) arm(kind string, delay time.Duration) *faultInjector {
	f := &faultInjector{c: c, kind: kind, disarm: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(f.stopped)
		start := time.Now()
		select {
		case <-time.After(delay):
		case <-f.disarm:
			return
		}
		for {
			if k := c.kill(kind); k != "" {
				f.killed = fmt.Sprintf("%s killed %s after arming", k, time.Since(start).Round(time.Millisecond))
				return
			}
			select {
			case <-f.disarm:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return f
}

// stop disarms the injector and returns what it killed ("" if nothing).
func (f *faultInjector) stop() string {
	close(f.disarm)
	<-f.stopped
	return f.killed
}
