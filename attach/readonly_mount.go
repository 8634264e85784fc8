package attach

import (
	"bufio"
	"fmt"
	"os"

	"github.com/remainroot/remainroot/attach/procfs"
)

// ReadOnlyMount reports whether mount mntID of the thread's mount namespace
// is read-only, from /proc/TID/mountinfo: the kernel's own table, so no
// path is resolved. It is asked only when a chown is refused (EROFS comes
// before EPERM).
func (e env) ReadOnlyMount(mntID uint64) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", e.th.tid))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if ro, ok := procfs.MountReadOnly(sc.Text(), mntID); ok {
			return ro
		}
	}
	return false
}
