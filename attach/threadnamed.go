package attach

import (
	"fmt"
	"os"

	"github.com/remainroot/remainroot/attach/procfs"
)

// threadNamed returns the traced thread that pid names in the pid
// namespace of thread caller, as the kernel's find_task_by_vpid would: a
// thread of the caller's own process, or another traced thread of the
// same pid namespace. A thread of a namespace nested below the caller's is
// not looked for (the kernel then answers for it).
func (t *Tracer) threadNamed(caller, pid int) (*thread, bool) {
	self, err := procfs.NSPids(caller)
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
		ids, err := procfs.NSPids(tid)
		return err == nil && len(ids) == level && ids[level-1] == pid
	}
	if tids, err := procfs.TaskIDs(caller); err == nil {
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
