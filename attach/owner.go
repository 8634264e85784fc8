package attach

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/procfs"
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

// Tid is the thread's id in its own pid namespace (procfs.OwnTid).
func (e env) Tid() int { return procfs.OwnTid(e.th.tid) }

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

// mapper returns the id translation for tid, cached per user namespace
// (a namespace's maps are written once).
func (t *Tracer) mapper(tid int) procfs.IDMapper {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", tid))
	if err != nil {
		return procfs.NewIDMapper(tid)
	}
	if m, ok := t.mappers[ns]; ok {
		return m
	}
	m := procfs.NewIDMapper(tid)
	if m.Written() {
		t.mappers[ns] = m
	}
	return m
}

// idsInTracee translates a file owner into the thread's namespace.
func idsInTracee(tid int, uid, gid uint32) shim.FileOwner {
	m := procfs.NewIDMapper(tid)
	return shim.FileOwner{UID: m.UID(uid), GID: m.GID(gid)}
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
	if nnp, _ := procfs.StatusField(tid, "NoNewPrivs"); nnp == "1" {
		f.SetUID, f.SetGID = false, false
	}
	if owner.UID == procfs.OverflowUID {
		f.SetUID = false
	}
	if owner.GID == procfs.OverflowGID {
		f.SetGID = false
	}
	return f, nil
}
