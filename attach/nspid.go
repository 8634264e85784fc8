package attach

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Thread ids as a traced program sees them. A thread inside a pid
// namespace (a container's) knows itself and its peers by the ids of that
// namespace: capget and capset name "the caller" by its own pid or tid
// there (libcap-ng puts getpid() in the header), which is not the id the
// tracer knows it by. /proc/TID/status lists a thread's id in every pid
// namespace from the one of the tracer's procfs down to its own (NSpid);
// the last one is the thread's own view.

// nsPids returns the NSpid line of thread tid: its ids from the tracer's
// pid namespace down to its own.
func nsPids(tid int) ([]int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return nil, err
	}
	return parseNSpid(string(data))
}

// parseNSpid reads the NSpid line of a /proc/TID/status text.
func parseNSpid(status string) ([]int, error) {
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != "NSpid" {
			continue
		}
		var ids []int
		for _, f := range strings.Fields(v) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("status NSpid %q: %w", v, err)
			}
			ids = append(ids, n)
		}
		if len(ids) == 0 {
			break
		}
		return ids, nil
	}
	return nil, fmt.Errorf("status has no NSpid line")
}

// ownTid returns thread tid's id in its own pid namespace (what gettid
// returns there); tid itself when that cannot be read.
func ownTid(tid int) int {
	ids, err := nsPids(tid)
	if err != nil {
		return tid
	}
	return ids[len(ids)-1]
}

// threadNamed returns the traced thread that pid names in the pid
// namespace of thread caller, as the kernel's find_task_by_vpid would: a
// thread of the caller's own process, or another traced thread of the
// same pid namespace. A thread of a namespace nested below the caller's is
// not looked for (the kernel then answers for it).
func (t *Tracer) threadNamed(caller, pid int) (*thread, bool) {
	self, err := nsPids(caller)
	if err != nil {
		return nil, false
	}
	if len(self) == 1 {
		// The caller's namespace is the tracer's: ids are the tracer's.
		o, ok := t.threads[pid]
		return o, ok
	}
	level := len(self)
	matches := func(tid int) bool {
		ids, err := nsPids(tid)
		return err == nil && len(ids) == level && ids[level-1] == pid
	}
	if tids, err := taskIDs(caller); err == nil {
		// Threads share their pid namespace.
		for _, tid := range tids {
			if o, ok := t.threads[tid]; ok && matches(tid) {
				return o, true
			}
		}
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", caller))
	if err != nil {
		return nil, false
	}
	for tid, o := range t.threads {
		if !matches(tid) {
			continue
		}
		if other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", tid)); err == nil && other == ns {
			return o, true
		}
	}
	return nil, false
}
