package attach

import "github.com/remainroot/remainroot/attach/procfs"

// Mapped reports whether the thread's user namespace maps uid id (a gid
// with group), as make_kuid/make_kgid in that namespace would: the first
// column of /proc/TID/uid_map (gid_map) is the id inside, whichever
// namespace reads the file. The maps are the thread's cached id mapper's
// (every chown asks: owner.go). An unreadable map (the thread is gone)
// maps nothing.
func (e env) Mapped(id uint32, group bool) bool {
	m := e.th.idMapper(e.t)
	if group {
		return insideMapped(m.GIDMap, id)
	}
	return insideMapped(m.UIDMap, id)
}

// insideMapped reports whether one of the extents maps id inside its
// namespace.
func insideMapped(ext []procfs.IDExtent, id uint32) bool {
	for _, e := range ext {
		if uint64(id) >= e.Inside && uint64(id)-e.Inside < e.Count {
			return true
		}
	}
	return false
}
