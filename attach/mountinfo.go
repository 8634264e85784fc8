package attach

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
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
		if ro, ok := mountReadOnly(sc.Text(), mntID); ok {
			return ro
		}
	}
	return false
}

// mountReadOnly reads one mountinfo line: ok says whether it describes
// mount mntID, ro whether its mount options or its superblock's say "ro"
// (either makes the kernel's __mnt_is_readonly true).
func mountReadOnly(line string, mntID uint64) (ro, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 6 {
		return false, false
	}
	if id, err := strconv.ParseUint(fields[0], 10, 64); err != nil || id != mntID {
		return false, false
	}
	if slices.Contains(strings.Split(fields[5], ","), "ro") {
		return true, true
	}
	// After the optional fields: "-", the type, the source, the
	// superblock's options.
	if sep := slices.Index(fields, "-"); sep > 0 && sep+3 < len(fields) {
		return slices.Contains(strings.Split(fields[sep+3], ","), "ro"), true
	}
	return false, true
}
