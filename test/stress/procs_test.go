package stress

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// children returns the pids of pid's children, from every thread's
// children list (a child belongs to the thread that forked it; an orphan
// reparented to a subreaper to any of its threads).
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(field); err == nil {
				pids = append(pids, n)
			}
		}
	}
	sort.Ints(pids)
	return pids
}

// descendants returns pid's descendants, parents before children.
func descendants(pid int) []int {
	var all []int
	for _, c := range children(pid) {
		all = append(all, c)
		all = append(all, descendants(c)...)
	}
	return all
}

// cmdline returns pid's command line with spaces between arguments.
func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
}

// state returns pid's state letter (R, S, T, t, Z, ...), or 0 when gone.
func state(pid int) byte {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}

// dumpTree describes pid and its descendants for a hang's report: each
// process's command line, state, tracer and seccomp lines, and each
// thread's state, wait channel and kernel stack.
func dumpTree(pid int) string {
	var b strings.Builder
	for _, p := range append([]int{pid}, descendants(pid)...) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		fmt.Fprintf(&b, "pid %d (%s): %s\n", p, bytes.TrimSpace(comm), cmdline(p))
		if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p)); err == nil {
			for _, line := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(line, "State:") || strings.HasPrefix(line, "TracerPid:") ||
					strings.HasPrefix(line, "Seccomp") || strings.HasPrefix(line, "PPid:") ||
					strings.HasPrefix(line, "ShdPnd:") || strings.HasPrefix(line, "SigBlk:") {
					fmt.Fprintf(&b, "  %s\n", line)
				}
			}
		}
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p))
		for _, task := range tasks {
			wchan, _ := os.ReadFile(task + "/wchan")
			stat, _ := os.ReadFile(task + "/stat")
			st := "?"
			if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
				st = string(stat[i+2])
			}
			var pending string
			if status, err := os.ReadFile(task + "/status"); err == nil {
				for _, line := range strings.Split(string(status), "\n") {
					if strings.HasPrefix(line, "SigPnd:") {
						pending = strings.Join(strings.Fields(line), " ")
					}
				}
			}
			fmt.Fprintf(&b, "  task %s: state %s wchan %s %s\n", filepath.Base(task), st, wchan, pending)
			if stack, err := os.ReadFile(task + "/stack"); err == nil && len(stack) > 0 {
				for _, line := range strings.Split(strings.TrimSpace(string(stack)), "\n") {
					fmt.Fprintf(&b, "    %s\n", line)
				}
			}
		}
	}
	return b.String()
}

// killTree sends SIGKILL to pid and its descendants, children first
// listed last so that none escapes by forking meanwhile (a tracee dies
// with its tracer anyway).
func killTree(pid int) {
	all := append([]int{pid}, descendants(pid)...)
	for _, p := range all {
		syscall.Kill(p, syscall.SIGSTOP)
	}
	for _, p := range all {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// leftovers waits until this process has no children but those in keep,
// reaping the zombies, for up to wait; it returns a description of the
// ones still there (with their trees) and kills them, so that the next
// run starts clean.
func leftovers(keep map[int]bool, wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		var alive []int
		for _, c := range children(os.Getpid()) {
			if keep[c] {
				continue
			}
			if state(c) == 'Z' {
				var ws syscall.WaitStatus
				syscall.Wait4(c, &ws, syscall.WNOHANG, nil)
				continue
			}
			alive = append(alive, c)
		}
		if len(alive) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, c := range alive {
				b.WriteString(dumpTree(c))
				killTree(c)
			}
			// Reap them, so that they are not reported again.
			time.Sleep(50 * time.Millisecond)
			for _, c := range alive {
				var ws syscall.WaitStatus
				syscall.Wait4(c, &ws, syscall.WNOHANG, nil)
			}
			return b.String()
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// marked returns the processes whose command line contains marker, but
// this one.
func marked(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if strings.Contains(cmdline(pid), marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}
