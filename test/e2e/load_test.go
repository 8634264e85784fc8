package e2e

// Issue 16, point 4: load. Many annotated containers at once, each with a
// tree of processes and several podman execs: every exec is emulated,
// nothing fails, nothing is left after podman rm -f; the memory of
// remainroot's processes per container is measured.

import (
	"encoding/json"
	"fmt"
	"io/fs"
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

const (
	// loadContainers run at once, each with loadExecs execs (su to
	// nobody) and an init with loadTree children.
	loadContainers = 50
	loadExecs      = 5
	loadTree       = 20
	// loadParallel bounds the podman commands run at once: podman's
	// own lock serialises much of each command anyway.
	loadParallel = 8
)

func TestLoad(t *testing.T) {
	bin := setup(t, "podman", "crun", "runc")
	h := epHooksFor(t, bin)
	devices := hostDevices(t)
	_, _, home := testUser(t)
	storage := filepath.Join(home, ".local", "share", "containers", "storage")
	prefix := "rr-load-" + randomID(4)
	init := []string{"sh", "-c", fmt.Sprintf(`for i in $(seq %d); do sleep 1000 & done; echo ready; wait`, loadTree)}

	// Start them all, loadParallel at once.
	begin := time.Now()
	ids := make([]string, loadContainers)
	starts := make([]result, loadContainers)
	loadEach(loadContainers, func(i int) {
		args := append([]string{"run", "-d", "--name", fmt.Sprintf("%s-%02d", prefix, i), "--runtime", loadRuntime(i),
			"--network=none"}, epAnnotations("creds")...)
		starts[i] = h.podman(t, 3*time.Minute, append(append(args, busyboxImage), init...)...)
		lines := strings.Split(strings.TrimSpace(starts[i].stdout), "\n")
		ids[i] = strings.TrimSpace(lines[len(lines)-1])
	})
	containers := make([]*faultContainer, 0, loadContainers)
	for i, r := range starts {
		if r.code != 0 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(ids[i]) {
			t.Fatalf("container %d: podman run -d failed\n%s", i, r)
		}
		containers = append(containers, faultTrack(t, h, loadRuntime(i), fmt.Sprintf("%s-%02d", prefix, i), ids[i]))
	}
	started := time.Since(begin)
	t.Logf("%d containers started in %s (%d podman commands at once)", loadContainers, started.Round(time.Millisecond), loadParallel)
	for _, c := range containers {
		epRequireSupervised(t, c.id)
		c.noteInit()
	}

	// Every exec at once, loadParallel at a time.
	begin = time.Now()
	execs := make([]result, loadContainers*loadExecs)
	loadEach(len(execs), func(i int) {
		execs[i] = h.podman(t, 3*time.Minute, "exec", ids[i%loadContainers], "su", "-s", "/bin/sh", "nobody", "-c", "id")
	})
	t.Logf("%d execs (su to nobody) in %s", len(execs), time.Since(begin).Round(time.Millisecond))
	failed := 0
	for i, r := range execs {
		if r.code != 0 || strings.TrimSpace(r.stdout) != nobodyID {
			failed++
			if failed <= 3 {
				t.Errorf("container %d: exec su nobody: want nobody's ids\n%s\n%s", i%loadContainers, r, logReport(ids[i%loadContainers]))
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d execs failed", failed, len(execs))
	}

	// Each init's tree is whole, and remainroot's processes are measured.
	var supervisorKiB, fallbackKiB, doorbellKiB, pssKiB int
	var doorbells int
	for _, c := range containers {
		c.mu.Lock()
		if len(c.pidNamespaces) != 1 {
			t.Errorf("container %s: its init's pid namespace not found (%d)", c.name, len(c.pidNamespaces))
		}
		for ns := range c.pidNamespaces {
			if n := len(processesIn(ns)); n != 1+loadTree {
				t.Errorf("container %s: %d processes, want %d (init and its %d sleeps)", c.name, n, 1+loadTree, loadTree)
			}
		}
		c.mu.Unlock()
		sups := c.supervisorPids()
		if len(sups) != 1 {
			t.Errorf("container %s: %d supervisors, want 1", c.name, len(sups))
		}
		for _, pid := range sups {
			supervisorKiB += loadStatusKiB(pid, "VmRSS")
			pssKiB += loadStatusKiB(pid, "Pss")
		}
		for _, pid := range c.helperPids(fallbackRole) {
			fallbackKiB += loadStatusKiB(pid, "VmRSS")
			pssKiB += loadStatusKiB(pid, "Pss")
		}
		for _, pid := range c.helperPids(doorbellRole) {
			doorbellKiB += loadStatusKiB(pid, "VmRSS")
			pssKiB += loadStatusKiB(pid, "Pss")
			doorbells++
		}
	}
	t.Logf("memory per container (RSS summed over %d containers / %d): supervisor %d KiB + fallback answerer %d KiB = %d KiB; "+
		"doorbells (%d left running, one per live trace) %d KiB; PSS of all three roles %d KiB per container",
		loadContainers, loadContainers, supervisorKiB/loadContainers, fallbackKiB/loadContainers,
		(supervisorKiB+fallbackKiB)/loadContainers, doorbells, doorbellKiB/loadContainers, pssKiB/loadContainers)
	t.Logf("disk: the %d containers' own layers (vfs copies the image into each) take %d KiB", loadContainers, loadLayersKiB(t, storage, ids))

	begin = time.Now()
	if r := removeContainers(t, podman, 5*time.Minute, ids...); r.code != 0 {
		t.Errorf("podman rm -f failed\n%s", r)
	}
	t.Logf("podman rm -f of %d containers took %s", loadContainers, time.Since(begin).Round(time.Millisecond))
	for _, c := range containers {
		c.assertNothingLeft(t)
	}
	if after := hostDevices(t); after != devices {
		t.Errorf("host devices changed (owner, mode):\nbefore: %s\nafter:  %s", devices, after)
	}
}

// loadRuntime spreads the containers over crun and runc.
func loadRuntime(i int) string { return podmanRuntimes[i%len(podmanRuntimes)] }

// loadEach runs f(0) ... f(n-1), loadParallel at a time.
func loadEach(n int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, loadParallel)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}(i)
	}
	wg.Wait()
}

// loadStatusKiB reads a "NAME: N kB" field of process pid's
// /proc/PID/status (Pss: of smaps_rollup), 0 when it is gone.
func loadStatusKiB(pid int, name string) int {
	file := "status"
	if name == "Pss" {
		file = "smaps_rollup"
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// loadLayersKiB is the disk space the vfs layers of containers ids take
// in storage (the layer of each is in vfs-containers/containers.json).
func loadLayersKiB(t *testing.T, storage string, ids []string) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(storage, "vfs-containers", "containers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list []struct{ ID, Layer string }
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for _, id := range ids {
		ours[id] = true
	}
	var blocks int64
	seen := map[uint64]bool{} // hard links (busybox's applets) count once
	for _, c := range list {
		if !ours[c.ID] {
			continue
		}
		filepath.WalkDir(filepath.Join(storage, "vfs", "dir", c.Layer), func(path string, d fs.DirEntry, err error) error {
			var st syscall.Stat_t
			if err == nil && syscall.Lstat(path, &st) == nil && !seen[st.Ino] {
				seen[st.Ino] = true
				blocks += st.Blocks
			}
			return nil
		})
	}
	return blocks / 2
}
