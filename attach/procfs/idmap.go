package procfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// IDMapper translates ids as the tracer sees them into a thread's user
// namespace. When both share a namespace nothing changes; an id the
// thread's namespace does not map reads as the overflow id, as in stat(2).
// The maps' first column is the ids inside the thread's namespace, which
// says which ids it maps (Mapped).
type IDMapper struct {
	Same           bool
	UIDMap, GIDMap []IDExtent
}

// IDExtent is one line of a uid_map or gid_map.
type IDExtent struct{ Inside, Outside, Count uint64 }

// selfUserNS is the tracer's own user namespace.
var selfUserNS, _ = os.Readlink("/proc/self/ns/user")

// NewIDMapper reads the id maps of thread tid's user namespace.
func NewIDMapper(tid int) IDMapper {
	other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", tid))
	return IDMapper{
		Same:   err == nil && other == selfUserNS,
		UIDMap: ReadIDMap(fmt.Sprintf("/proc/%d/uid_map", tid)),
		GIDMap: ReadIDMap(fmt.Sprintf("/proc/%d/gid_map", tid)),
	}
}

// Written reports whether the namespace's maps have been written (a new
// namespace has none until its creator writes them): only then may the
// mapper be kept.
func (m IDMapper) Written() bool { return len(m.UIDMap) > 0 && len(m.GIDMap) > 0 }

// UID translates a uid as the tracer sees it into the thread's namespace.
func (m IDMapper) UID(id uint32) uint32 {
	if m.Same {
		return id
	}
	return mapExtents(m.UIDMap, id, OverflowUID)
}

// GID translates a gid as the tracer sees it into the thread's namespace.
func (m IDMapper) GID(id uint32) uint32 {
	if m.Same {
		return id
	}
	return mapExtents(m.GIDMap, id, OverflowGID)
}

// ReadIDMap reads a uid_map or gid_map as the tracer sees it: the second
// column is then in the tracer's own namespace.
func ReadIDMap(path string) []IDExtent {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []IDExtent
	for _, line := range strings.Split(string(data), "\n") {
		var e IDExtent
		if _, err := fmt.Sscan(line, &e.Inside, &e.Outside, &e.Count); err == nil {
			out = append(out, e)
		}
	}
	return out
}

func mapExtents(ext []IDExtent, outside uint32, overflow uint32) uint32 {
	for _, e := range ext {
		if uint64(outside) >= e.Outside && uint64(outside) < e.Outside+e.Count {
			return uint32(e.Inside + uint64(outside) - e.Outside)
		}
	}
	return overflow
}

// The overflow ids an unmapped id reads as (stat(2)).
var (
	OverflowUID = readOverflow("/proc/sys/kernel/overflowuid")
	OverflowGID = readOverflow("/proc/sys/kernel/overflowgid")
)

func readOverflow(path string) uint32 {
	data, err := os.ReadFile(path)
	if err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32); err == nil {
			return uint32(v)
		}
	}
	return 65534
}
