package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// The user namespace check: how many ids the namespace podman will use
// maps, which says whether remainroot is needed at all.

const checkUserNS = "user namespace"

// idRange is one line of a uid_map: count ids from inside map to outside.
type idRange struct{ inside, outside, count uint64 }

// parseIDMap parses /proc/PID/uid_map (or gid_map) text.
func parseIDMap(s string) ([]idRange, error) {
	var out []idRange
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("malformed id map line %q", strings.TrimSpace(line))
		}
		var r idRange
		var err error
		for i, p := range []*uint64{&r.inside, &r.outside, &r.count} {
			if *p, err = strconv.ParseUint(f[i], 10, 32); err != nil {
				return nil, fmt.Errorf("malformed id map line %q: %w", strings.TrimSpace(line), err)
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("empty id map")
	}
	return out, nil
}

func mappedIDs(m []idRange) uint64 {
	var n uint64
	for _, r := range m {
		n += r.count
	}
	return n
}

func fmtIDMap(m []idRange) string {
	s := make([]string, len(m))
	for i, r := range m {
		s[i] = fmt.Sprintf("%d %d %d", r.inside, r.outside, r.count)
	}
	return strings.Join(s, ", ")
}

// subIDRanges returns the count of subordinate ids /etc/subuid gives user
// (by name or uid) and the lines that gave them.
func subIDRanges(data, user string, uid int) (count uint64, lines []string) {
	id := strconv.Itoa(uid)
	for line := range strings.Lines(data) {
		line = strings.TrimSpace(line)
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != user && f[0] != id) {
			continue
		}
		_, errStart := strconv.ParseUint(f[1], 10, 32)
		n, err := strconv.ParseUint(f[2], 10, 32)
		if errStart != nil || err != nil {
			continue
		}
		count += n
		lines = append(lines, line)
	}
	return count, lines
}

const singleMappingNote = "remainroot is what makes set*id, setgroups and chown work there: annotate containers with io.remainroot.mode=creds"

// usernsCheck finds the user namespace podman will use and says whether
// remainroot is needed; single reports a single-id mapping.
func usernsCheck(o Options) (c Check, single bool) {
	self, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return Warning(checkUserNS, "Run doctor where /proc is mounted.", "cannot read /proc/self/uid_map: %v", err), false
	}
	own, err := parseIDMap(string(self))
	if err != nil {
		return Warning(checkUserNS, "Run doctor where /proc is mounted.", "/proc/self/uid_map: %v", err), false
	}
	if mappedIDs(own) == 1 {
		return Pass(checkUserNS, "doctor itself runs in a single-id user namespace (%s): %s, or use remainroot run -- CMD", fmtIDMap(own), singleMappingNote), true
	}
	if o.EUID == 0 {
		return Pass(checkUserNS, "root, in a namespace mapping %d ids: podman as root maps every id and needs no remainroot, except for containers given a single-id user namespace (--uidmap 0:ID:1)", mappedIDs(own)), false
	}
	if o.Podman != "" {
		out, err := runOutput(60*time.Second, o.Podman, "unshare", "cat", "/proc/self/uid_map")
		if err != nil {
			return Warning(checkUserNS, "Run `podman unshare cat /proc/self/uid_map` to see why podman cannot create its user namespace.", "%v", err), false
		}
		m, err := parseIDMap(out)
		if err != nil {
			return Warning(checkUserNS, "Run `podman unshare cat /proc/self/uid_map` and check its output.", "podman unshare: %v", err), false
		}
		if mappedIDs(m) == 1 {
			return Pass(checkUserNS, "podman maps a single id (uid_map %s): %s", fmtIDMap(m), singleMappingNote), true
		}
		return Pass(checkUserNS, "podman maps %d ids (uid_map %s): programs can change ids there, remainroot is not needed (it still works)", mappedIDs(m), fmtIDMap(m)), false
	}
	data, err := os.ReadFile(o.SubUIDFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Warning(checkUserNS, "Make "+o.SubUIDFile+" readable.", "%v", err), false
	}
	n, lines := subIDRanges(string(data), o.User, os.Getuid())
	if n == 0 {
		return Pass(checkUserNS, "%s gives %s no subordinate ids: a rootless user namespace maps a single id; %s", o.SubUIDFile, o.User, singleMappingNote), true
	}
	return Pass(checkUserNS, "%s gives %s %d subordinate ids (%s): a rootless user namespace maps them, remainroot is not needed (it still works)", o.SubUIDFile, o.User, n, strings.Join(lines, ", ")), false
}
