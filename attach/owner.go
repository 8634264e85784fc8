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
// In mode full the owner is the one stat shows in the container (the
// file's owner record, else the owner its image gave it), so a set-group-ID
// program of the image such as chage (root:shadow 2755) runs with the
// group its image gives it, as it would where the ids are real.
func (t *Tracer) execFile(tid int) (shim.ExecFile, error) {
	exe := fmt.Sprintf("/proc/%d/exe", tid)
	var st unix.Stat_t
	if err := unix.Stat(exe, &st); err != nil {
		return shim.ExecFile{}, fmt.Errorf("stat %s: %w", exe, err)
	}
	owner := idsInTracee(tid, st.Uid, st.Gid)
	emulated := false
	if t.opts.Files {
		owner, emulated = t.emulatedOwner(exe, st, owner)
	}
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
	if owner.UID == procfs.OverflowUID && !emulated {
		f.SetUID = false
	}
	if owner.GID == procfs.OverflowGID && !emulated {
		f.SetGID = false
	}
	return f, nil
}

// emulatedOwner is the owner mode full shows for the object at link (a
// /proc magic link) whose kernel stat is st and kernel owner, in the
// thread's namespace, is kernel: its owner record, else its image's owner
// (as a stat patched by package shim shows it). ok is false when neither
// exists and kernel is returned.
func (t *Tracer) emulatedOwner(link string, st unix.Stat_t, kernel shim.FileOwner) (owner shim.FileOwner, ok bool) {
	val := make([]byte, 64)
	if n, err := unix.Getxattr(link, shim.OwnerXattr, val); err == nil {
		o, derr := shim.DecodeOwner(val[:n])
		if derr == nil {
			return o, true
		}
		t.log.Warn("malformed owner record taken as none", "file", link, "xattr", shim.OwnerXattr,
			"value", fmt.Sprintf("%x", val[:n]), "err", derr)
	}
	if images := t.imageOwners(); images != nil {
		if o, found := images.ImageOwner(st.Dev, st.Ino); found {
			return o, true
		}
	}
	return kernel, false
}
