package attach

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// env gives package shim what only the tracer can know about a thread.
type env struct {
	t  *Tracer
	th *thread
	sp uint64 // the thread's stack pointer at this stop
	// lease is the call's scratch area, nil where no plan can run (a
	// notification: a plan there is handed to a ptrace stop).
	lease *scratchLease
}

// Files is nil unless the trace is in mode full.
func (e env) Files() shim.Files {
	if !e.t.opts.Files {
		return nil
	}
	return files{e.t, e.th, e.sp}
}

// Tid is the thread's id in its own pid namespace (nspid.go).
func (e env) Tid() int { return ownTid(e.th.tid) }

// CredsOf gives the emulated credentials of the thread that pid names in
// the caller's pid namespace.
func (e env) CredsOf(pid int) (shim.Creds, bool) {
	o, ok := e.t.threadNamed(e.th.tid, pid)
	if !ok || !o.emulating {
		return shim.Creds{}, false
	}
	return o.creds, true
}

// Scratch is the call's scratch area for plan steps (region.go).
func (e env) Scratch() uint64 {
	if e.lease == nil {
		return 0
	}
	return e.lease.scratch()
}

func fdError(err error) error {
	if err == unix.ENOENT {
		return unix.EBADF
	}
	return err
}

// idMapper translates ids as the tracer sees them into a thread's user
// namespace. When both share a namespace nothing changes; an id the
// thread's namespace does not map reads as the overflow id, as in stat(2).
// The maps' first column is the ids inside the thread's namespace, which
// says which ids it maps (Mapped).
type idMapper struct {
	same           bool
	uidMap, gidMap []idExtent
}

// idExtent is one line of a uid_map or gid_map.
type idExtent struct{ inside, outside, count uint64 }

// selfUserNS is the tracer's own user namespace.
var selfUserNS, _ = os.Readlink("/proc/self/ns/user")

func newIDMapper(tid int) idMapper {
	other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", tid))
	return idMapper{
		same:   err == nil && other == selfUserNS,
		uidMap: readIDMap(fmt.Sprintf("/proc/%d/uid_map", tid)),
		gidMap: readIDMap(fmt.Sprintf("/proc/%d/gid_map", tid)),
	}
}

// written reports whether the namespace's maps have been written (a new
// namespace has none until its creator writes them): only then may the
// mapper be kept.
func (m idMapper) written() bool { return len(m.uidMap) > 0 && len(m.gidMap) > 0 }

// mapper returns the id translation for tid, cached per user namespace
// (a namespace's maps are written once).
func (t *Tracer) mapper(tid int) idMapper {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", tid))
	if err != nil {
		return newIDMapper(tid)
	}
	if m, ok := t.mappers[ns]; ok {
		return m
	}
	m := newIDMapper(tid)
	if m.written() {
		t.mappers[ns] = m
	}
	return m
}

func (m idMapper) uid(id uint32) uint32 {
	if m.same {
		return id
	}
	return mapExtents(m.uidMap, id, overflowUID)
}

func (m idMapper) gid(id uint32) uint32 {
	if m.same {
		return id
	}
	return mapExtents(m.gidMap, id, overflowGID)
}

// readIDMap reads a uid_map or gid_map as the tracer sees it: the second
// column is then in the tracer's own namespace.
func readIDMap(path string) []idExtent {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []idExtent
	for _, line := range strings.Split(string(data), "\n") {
		var e idExtent
		if _, err := fmt.Sscan(line, &e.inside, &e.outside, &e.count); err == nil {
			out = append(out, e)
		}
	}
	return out
}

func mapExtents(ext []idExtent, outside uint32, overflow uint32) uint32 {
	for _, e := range ext {
		if uint64(outside) >= e.outside && uint64(outside) < e.outside+e.count {
			return uint32(e.inside + uint64(outside) - e.outside)
		}
	}
	return overflow
}

// The overflow ids an unmapped id reads as (stat(2)).
var (
	overflowUID = readOverflow("/proc/sys/kernel/overflowuid")
	overflowGID = readOverflow("/proc/sys/kernel/overflowgid")
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

// idsInTracee translates a file owner into the thread's namespace.
func idsInTracee(tid int, uid, gid uint32) shim.FileOwner {
	m := newIDMapper(tid)
	return shim.FileOwner{UID: m.uid(uid), GID: m.gid(gid)}
}

// execFile describes the program tid has just executed, for the set-user-ID
// rules of execve(2). The bits are dropped where the kernel ignores them:
// a nosuid mount, no_new_privs, or an owner the namespace does not map.
func execFile(tid int) (shim.ExecFile, error) {
	exe := fmt.Sprintf("/proc/%d/exe", tid)
	var st unix.Stat_t
	if err := unix.Stat(exe, &st); err != nil {
		return shim.ExecFile{}, fmt.Errorf("stat %s: %w", exe, err)
	}
	owner := idsInTracee(tid, st.Uid, st.Gid)
	f := shim.ExecFile{
		SetUID: st.Mode&unix.S_ISUID != 0,
		SetGID: st.Mode&unix.S_ISGID != 0 && st.Mode&unix.S_IXGRP != 0,
		UID:    owner.UID, GID: owner.GID,
	}
	if !f.SetUID && !f.SetGID {
		return f, nil
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(exe, &fs); err == nil && fs.Flags&unix.ST_NOSUID != 0 {
		f.SetUID, f.SetGID = false, false
	}
	if nnp, _ := statusField(tid, "NoNewPrivs"); nnp == "1" {
		f.SetUID, f.SetGID = false, false
	}
	if owner.UID == overflowUID {
		f.SetUID = false
	}
	if owner.GID == overflowGID {
		f.SetGID = false
	}
	return f, nil
}
