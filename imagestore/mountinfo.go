package imagestore

import (
	"bufio"
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
)

// mountEntry is what MountSource needs of a line of /proc/self/mountinfo.
type mountEntry struct {
	dev, root, point, fstype, super string
}

// MountSource says where the file system mounted at mountpoint comes from,
// as a path of the same mount namespace, given its mountinfo: for an
// overlay, the merged directory of its upper layer
// (<graphroot>/overlay/<id>/merged, from upperdir=<...>/<id>/diff); for a
// bind mount (buildah's RUN root, /var/tmp/buildah*/mnt/rootfs), the
// directory it shows, found through a mount of its file system's root.
// A path that is no mount point is its own source.
func MountSource(mountinfo []byte, mountpoint string) string {
	var entries []mountEntry
	var at *mountEntry
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		e, ok := parseMountLine(sc.Text())
		if !ok {
			continue
		}
		entries = append(entries, e)
		if e.point == mountpoint {
			at = &entries[len(entries)-1] // the last mount there is the one seen
		}
	}
	if at == nil {
		return mountpoint
	}
	if at.fstype == "overlay" {
		for _, opt := range strings.Split(at.super, ",") {
			if upper, ok := strings.CutPrefix(opt, "upperdir="); ok && filepath.Base(upper) == "diff" {
				return filepath.Join(filepath.Dir(upper), "merged")
			}
		}
		return mountpoint
	}
	if at.root == "/" {
		return mountpoint
	}
	for _, e := range entries {
		if e.dev == at.dev && e.root == "/" {
			return filepath.Join(e.point, at.root)
		}
	}
	return mountpoint
}

// parseMountLine splits a mountinfo line: ID PARENT MAJ:MIN ROOT POINT
// OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER.
func parseMountLine(line string) (mountEntry, bool) {
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || len(f) < sep+4 {
		return mountEntry{}, false
	}
	return mountEntry{dev: f[2], root: unescapeMount(f[3]), point: unescapeMount(f[4]),
		fstype: f[sep+1], super: f[sep+3]}, true
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
