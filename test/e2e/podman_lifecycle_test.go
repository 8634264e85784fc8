package e2e

// Rootless podman (crun): concurrent containers, many short containers,
// stop/kill/--rm, the tracer's log file and the unimplemented mode.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const nobodyID = "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"

// TestPodmanConcurrent runs 4 containers with the hook at once; each
// switches to nobody repeatedly, so that their tracers overlap.
func TestPodmanConcurrent(t *testing.T) {
	bin := setup(t, "podman", "crun")
	record(t, "podman+crun", "4 containers at once", true)
	const n = 4
	script := `i=0; while [ $i -lt 20 ]; do su -s /bin/sh nobody -c id || exit 1; i=$((i+1)); done; echo done`
	var wg sync.WaitGroup
	results := make([]result, n)
	ids := make([]string, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], ids[i] = podmanRun(t, bin, container{runtime: "crun", hook: true, image: busyboxImage,
				cmd: []string{"sh", "-c", script}})
		}(i)
	}
	wg.Wait()
	t.Logf("%d containers in %s", n, time.Since(start).Round(time.Millisecond))
	for i, r := range results {
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		ok := r.code == 0 && len(lines) == 21 && lines[20] == "done"
		for _, l := range lines[:min(20, len(lines))] {
			if l != nobodyID {
				ok = false
			}
		}
		if !ok {
			t.Errorf("container %d: want 20 lines of nobody's ids and done\n%s\n%s", i, r, logReport(ids[i]))
		}
	}
	for _, id := range ids {
		assertNoTracer(t, id)
	}
}

// TestPodmanManyShort runs 50 short containers with the hook in a row and
// checks that no tracer is left running. Each writes nobody's ids to a
// bind-mounted file, so that the check does not depend on podman relaying
// output.
func TestPodmanManyShort(t *testing.T) {
	bin := setup(t, "podman", "crun")
	record(t, "podman+crun", "50 short containers, no tracer left", true)
	const n = 50
	out := userTempDir(t)
	var ids []string
	start := time.Now()
	for i := 0; i < n; i++ {
		file := fmt.Sprintf("id-%d", i)
		r, id := podmanRun(t, bin, container{runtime: "crun", hook: true, image: busyboxImage, quiet: true,
			extra: []string{"-v", out + ":/out"}, timeout: time.Minute,
			cmd: []string{"su", "-s", "/bin/sh", "nobody", "-c", "id > /out/" + file}})
		if id != "" {
			ids = append(ids, id)
		}
		data, _ := os.ReadFile(filepath.Join(out, file))
		if r.code != 0 || strings.TrimSpace(string(data)) != nobodyID {
			t.Fatalf("container %d of %d: want exit 0 and nobody's ids in /out/%s, got %q\n%s\n%s",
				i+1, n, file, data, r, logReport(id))
		}
	}
	t.Logf("%d containers in %s (%.2f s each)", n, time.Since(start).Round(time.Millisecond), time.Since(start).Seconds()/n)
	waited, left := waitNoTracers(5*time.Second, ids...)
	if len(left) > 0 {
		var b strings.Builder
		for _, p := range left {
			fmt.Fprintf(&b, "pid %d: %s\n%s\n", p.pid, p.cmdline, logReport(p.id))
		}
		t.Errorf("%d tracers still running %s after the last container:\n%s", len(left), waited, b.String())
	}
	// Tracers of other containers (other tests running at the same time)
	// are not ours: only report them.
	for _, p := range tracers() {
		t.Logf("another remainroot tracer is running (not one of ours): pid %d %s", p.pid, p.cmdline)
	}
}

// containerState returns podman's status and exit code for id, or
// "absent" when the container no longer exists.
func containerState(t *testing.T, id string) string {
	t.Helper()
	if r := podman(t, time.Minute, "container", "exists", id); r.code == 1 {
		return "absent"
	}
	r := podman(t, time.Minute, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", id)
	if r.code != 0 {
		return "inspect failed: " + r.String()
	}
	return strings.TrimSpace(r.stdout)
}

// TestPodmanLifecycle: podman stop, kill and --rm behave as without the hook.
func TestPodmanLifecycle(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	for _, rt := range podmanRuntimes {
		t.Run(rt, func(t *testing.T) { podmanLifecycle(t, bin, rt) })
	}
}

func podmanLifecycle(t *testing.T, bin, rt string) {
	// PID 1 exits 7 on SIGTERM: the signal must pass through the tracer.
	trapTerm := []string{"sh", "-c", `trap "exit 7" TERM; echo ready; sleep 1000 & wait $!`}
	for _, hook := range []bool{false, true} {
		name := map[bool]string{false: "no-hook", true: "hook"}[hook]
		t.Run("stop/"+name, func(t *testing.T) {
			record(t, "podman+"+rt, "podman stop -t 2 (SIGTERM handled)", hook)
			r, id := podmanRun(t, bin, container{runtime: rt, hook: hook, detach: true, image: busyboxImage, cmd: trapTerm})
			if r.code != 0 || id == "" {
				t.Fatalf("podman run -d failed\n%s", r)
			}
			waitReady(t, id)
			s := podman(t, time.Minute, "stop", "-t", "2", id)
			t.Logf("podman stop took %s", s.duration.Round(time.Millisecond))
			if s.code != 0 || s.duration > 10*time.Second {
				t.Errorf("podman stop: want exit 0 within a few seconds\n%s\n%s", s, logReport(id))
			}
			if st := containerState(t, id); st != "exited 7" {
				t.Errorf("after stop: state %q, want \"exited 7\" (sh's TERM trap ran)\n%s", st, logReport(id))
			}
			if hook {
				assertNoTracer(t, id)
			}
		})
		t.Run("stop-ignored/"+name, func(t *testing.T) {
			record(t, "podman+"+rt, "podman stop -t 2 (SIGTERM ignored, SIGKILL)", hook)
			r, id := podmanRun(t, bin, container{runtime: rt, hook: hook, detach: true, image: busyboxImage,
				cmd: []string{"sleep", "1000"}})
			if r.code != 0 || id == "" {
				t.Fatalf("podman run -d failed\n%s", r)
			}
			// Stop the command, not runc's init before its exec (see
			// epStopIgnored).
			epWaitInitIs(t, id, "sleep", 20*time.Second)
			s := podman(t, time.Minute, "stop", "-t", "2", id)
			t.Logf("podman run -d took %s, podman stop %s", r.duration.Round(time.Millisecond), s.duration.Round(time.Millisecond))
			if s.code != 0 || s.duration > 6*time.Second {
				t.Errorf("podman stop: want exit 0 within a few seconds\n%s\n%s", s, logReport(id))
			}
			if st := containerState(t, id); st != "exited 137" {
				t.Errorf("after stop: state %q, want \"exited 137\"\n%s", st, logReport(id))
			}
			if hook {
				assertNoTracer(t, id)
			}
		})
		t.Run("kill/"+name, func(t *testing.T) {
			record(t, "podman+"+rt, "podman kill", hook)
			r, id := podmanRun(t, bin, container{runtime: rt, hook: hook, detach: true, image: busyboxImage,
				cmd: []string{"sleep", "1000"}})
			if r.code != 0 || id == "" {
				t.Fatalf("podman run -d failed\n%s", r)
			}
			k := podman(t, time.Minute, "kill", id)
			if k.code != 0 || k.duration > 5*time.Second {
				t.Errorf("podman kill: want exit 0 within a few seconds\n%s\n%s", k, logReport(id))
			}
			deadline := time.Now().Add(10 * time.Second)
			st := containerState(t, id)
			for st != "exited 137" && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				st = containerState(t, id)
			}
			if st != "exited 137" {
				t.Errorf("after kill: state %q, want \"exited 137\"\n%s", st, logReport(id))
			}
			if hook {
				assertNoTracer(t, id)
			}
		})
		t.Run("rm/"+name, func(t *testing.T) {
			record(t, "podman+"+rt, "podman run -d --rm: removed after exit", hook)
			r, id := podmanRun(t, bin, container{runtime: rt, hook: hook, detach: true, rm: true, image: busyboxImage,
				cmd: []string{"sh", "-c", "sleep 1; su -s /bin/sh nobody -c true"}})
			if r.code != 0 || id == "" {
				t.Fatalf("podman run -d --rm failed\n%s", r)
			}
			deadline := time.Now().Add(20 * time.Second)
			st := containerState(t, id)
			for st != "absent" && time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
				st = containerState(t, id)
			}
			if st != "absent" {
				t.Errorf("container still present 20 s after it should have exited: %s\n%s", st, logReport(id))
			}
			if hook {
				assertNoTracer(t, id)
			}
		})
		t.Run("init-exits-first/"+name, func(t *testing.T) {
			record(t, "podman+"+rt, "init exits, children left behind", hook)
			r, id := podmanRun(t, bin, container{runtime: rt, hook: hook, image: busyboxImage, timeout: time.Minute,
				cmd: []string{"sh", "-c", `sleep 1000 & su -s /bin/sh nobody -c "sleep 1000" & exit 3`}})
			if r.code != 3 || r.duration > 20*time.Second {
				t.Errorf("want exit 3 at once (the rest of the pid namespace is killed)\n%s\n%s", r, logReport(id))
			}
			if hook {
				assertNoTracer(t, id)
			}
		})
		t.Run("run-rm-exit-code/"+name, func(t *testing.T) {
			record(t, "podman+"+rt, "podman run --rm: exit code kept", hook)
			r, id := podmanRun(t, bin, container{runtime: rt, hook: hook, image: busyboxImage,
				cmd: []string{"sh", "-c", "exit 42"}})
			if r.code != 42 {
				t.Errorf("want exit 42\n%s\n%s", r, logReport(id))
			}
			if id != "" {
				if st := containerState(t, id); st != "absent" {
					t.Errorf("--rm container still present: %s", st)
				}
			}
		})
	}
}

// waitReady waits until container id has printed "ready".
func waitReady(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := podman(t, time.Minute, "logs", id)
		if strings.Contains(r.stdout, "ready") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s did not print ready within 20 s\n%s\n%s", id, r, logReport(id))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPodmanChown: chown in the busybox image. Without the hook it fails;
// in mode creds it succeeds but records nothing (stat still shows root, as
// documented); in mode full the owner sticks, and a file created by an
// emulated user is that user's.
func TestPodmanChown(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	script := `touch /f && chown nobody:nogroup /f && stat -c 'f=%U:%G' /f && ` +
		`su -s /bin/sh nobody -c "touch /tmp/n && stat -c 'n=%U:%G' /tmp/n"`
	cases := []struct {
		name, mode string
		hook       bool
		check      func(r result) bool
		want       string
	}{
		{"no-hook", "", false, func(r result) bool {
			return r.code != 0 && strings.Contains(r.output(), "chown: /f: Invalid argument")
		}, `exit != 0 and "chown: /f: Invalid argument"`},
		{"creds", "creds", true, func(r result) bool {
			return r.code == 0 && r.stdout == "f=root:root\nn=root:root\n"
		}, "f=root:root and n=root:root (mode creds records no owner)"},
		{"full", "full", true, func(r result) bool {
			return r.code == 0 && r.stdout == "f=nobody:nogroup\nn=nobody:nogroup\n"
		}, "f=nobody:nogroup and n=nobody:nogroup"},
	}
	for _, rt := range podmanRuntimes {
		for _, c := range cases {
			t.Run(rt+"/"+c.name, func(t *testing.T) {
				scenario := "busybox chown + stat"
				if c.hook {
					scenario += " (mode " + c.mode + ")"
				}
				record(t, "podman+"+rt, scenario, c.hook)
				r, id := podmanRun(t, bin, container{runtime: rt, hook: c.hook, mode: c.mode, image: busyboxImage,
					cmd: []string{"sh", "-c", script}})
				if !c.check(r) {
					t.Errorf("want %s\n%s\n%s", c.want, r, logReport(id))
				}
				if c.hook {
					assertNoTracer(t, id)
				}
			})
		}
	}
}

// TestPodmanLogFile: the tracer of a rootless podman container writes its
// log where the docs say ($REMAINROOT_LOG_DIR, /run/remainroot for euid 0,
// else $XDG_RUNTIME_DIR/remainroot, else /tmp/remainroot-<euid>), in a
// place the hook can write to.
func TestPodmanLogFile(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	for _, rt := range podmanRuntimes {
		t.Run(rt, func(t *testing.T) {
			record(t, "podman+"+rt, "tracer log file written", true)
			r, id := podmanRun(t, bin, container{runtime: rt, hook: true, image: busyboxImage,
				extra: []string{"--annotation", debugAnn},
				cmd:   []string{"su", "-s", "/bin/sh", "nobody", "-c", "id"}})
			if r.code != 0 || id == "" {
				t.Fatalf("podman run failed\n%s\n%s", r, logReport(id))
			}
			checkTracerLog(t, id)
		})
	}
}

// checkTracerLog checks that the tracer of container id wrote its log
// where the docs say (/run/remainroot/<id>.log when the hook can write
// there, else $TMPDIR/remainroot-<euid>/<id>.log) and that it records the
// attach. Logs of passing root containers are removed.
func checkTracerLog(t *testing.T, id string) {
	t.Helper()
	if id == "" {
		t.Fatal("no container id: the container did not run")
	}
	waitNoTracers(5*time.Second, id)
	p, data := tracerLog(id)
	if p == "" {
		uid, _, _ := testUser(t)
		note := ""
		if st, err := os.Stat("/run/remainroot"); err == nil && st.Mode().Perm()&0o002 == 0 {
			note = fmt.Sprintf(" (/run/remainroot exists, mode %v: a hook running as host uid %d cannot write there)", st.Mode().Perm(), uid)
		}
		t.Fatalf("no log for container %s in $REMAINROOT_LOG_DIR, /run/remainroot, /tmp/remainroot-0, "+
			"/run/user/%d/remainroot or /tmp/remainroot-%d%s", id, uid, uid, note)
	}
	t.Logf("log: %s (%d bytes)", p, len(data))
	if !strings.Contains(data, "attached") {
		t.Errorf("log %s lacks the \"attached\" line:\n%s", p, data)
	}
	if !t.Failed() {
		os.Remove(p)
	}
}
