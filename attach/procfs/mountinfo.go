package procfs

import (
	"slices"
	"strconv"
	"strings"
)

// MountReadOnly reads one mountinfo line: ok says whether it describes
// mount mntID, ro whether its mount options or its superblock's say "ro"
// (either makes the kernel's __mnt_is_readonly true).
func MountReadOnly(line string, mntID uint64) (ro, ok bool) {
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
