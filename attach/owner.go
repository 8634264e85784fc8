package attach

import (
	"bufio"
	"fmt"
	"os"
	"path"
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
}

// Files is nil unless the trace is in mode full.
func (e env) Files() shim.Files {
	if !e.t.opts.Files {
		return nil
	}
	return files{e.t, e.th, e.sp}
}

func (e env) Tid() int { return e.th.tid }

func (e env) CredsOf(tid int) (shim.Creds, bool) {
	o, ok := e.t.threads[tid]
	if !ok || !o.emulating {
		return shim.Creds{}, false
	}
	return o.creds, true
}

// Owner looks up the object fchownat(dirfd, p, ..., flags) would change,
// never in the tracer's own root: the path is resolved with
// openat2(RESOLVE_IN_ROOT) under a handle on the thread's root directory, so
// absolute symlinks and ".." stay inside it. Only the owner is read.
func (e env) Owner(dirfd int, p string, flags int) (shim.FileOwner, error) {
	st, err := statInTracee(e.th.tid, dirfd, p, flags)
	if err != nil {
		return shim.FileOwner{}, err
	}
	return idsInTracee(e.th.tid, st.Uid, st.Gid), nil
}

func statInTracee(tid, dirfd int, p string, flags int) (*unix.Stat_t, error) {
	var st unix.Stat_t
	proc := fmt.Sprintf("/proc/%d", tid)
	base := proc + "/cwd"
	if dirfd != unix.AT_FDCWD {
		if dirfd < 0 {
			return nil, unix.EBADF
		}
		base = fmt.Sprintf("%s/fd/%d", proc, dirfd)
	}
	if p == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return nil, unix.ENOENT
		}
		// The magic link leads straight to the open file: no lookup.
		if err := unix.Stat(base, &st); err != nil {
			return nil, fdError(err)
		}
		return &st, nil
	}
	rel := p
	if !path.IsAbs(p) {
		dir, err := dirInRoot(proc, base)
		if err != nil {
			return nil, err
		}
		rel = path.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			rel += "/"
		}
	}
	root, err := unix.Open(proc+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, unix.EACCES
	}
	defer unix.Close(root)
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		how.Flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Openat2(root, strings.TrimPrefix(rel, "/"), &how)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func fdError(err error) error {
	if err == unix.ENOENT {
		return unix.EBADF
	}
	return err
}

// dirInRoot returns where the directory behind the magic link base lies
// inside the thread's root, from the two links' targets as the kernel
// prints them. A directory outside the root cannot be resolved safely.
func dirInRoot(proc, base string) (string, error) {
	rootPath, err1 := os.Readlink(proc + "/root")
	dir, err2 := os.Readlink(base)
	if err2 != nil {
		return "", fdError(err2)
	}
	if err1 != nil {
		return "", unix.EACCES
	}
	if strings.HasSuffix(dir, " (deleted)") {
		return "", unix.ENOENT
	}
	switch {
	case rootPath == "/":
		return dir, nil
	case dir == rootPath:
		return "/", nil
	case strings.HasPrefix(dir, rootPath+"/"):
		return dir[len(rootPath):], nil
	}
	return "", unix.EACCES
}

// idMapper translates ids as the tracer sees them into a thread's user
// namespace. When both share a namespace nothing changes; an id the
// thread's namespace does not map reads as the overflow id, as in stat(2).
type idMapper struct {
	tid  int
	same bool
}

func newIDMapper(tid int) idMapper {
	self, err1 := os.Readlink("/proc/self/ns/user")
	other, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", tid))
	return idMapper{tid: tid, same: err1 == nil && err2 == nil && self == other}
}

func (m idMapper) uid(id uint32) uint32 {
	if m.same {
		return id
	}
	return mapID(fmt.Sprintf("/proc/%d/uid_map", m.tid), id, "/proc/sys/kernel/overflowuid")
}

func (m idMapper) gid(id uint32) uint32 {
	if m.same {
		return id
	}
	return mapID(fmt.Sprintf("/proc/%d/gid_map", m.tid), id, "/proc/sys/kernel/overflowgid")
}

// idsInTracee translates a file owner into the thread's namespace.
func idsInTracee(tid int, uid, gid uint32) shim.FileOwner {
	m := newIDMapper(tid)
	return shim.FileOwner{UID: m.uid(uid), GID: m.gid(gid)}
}

// mapID maps an outside id through a uid_map/gid_map read from the
// tracer's namespace, whose second column is then in the tracer's terms.
func mapID(mapFile string, outside uint32, overflowFile string) uint32 {
	f, err := os.Open(mapFile)
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var in, out, count uint64
			if _, err := fmt.Sscan(sc.Text(), &in, &out, &count); err != nil {
				continue
			}
			if uint64(outside) >= out && uint64(outside) < out+count {
				return uint32(in + uint64(outside) - out)
			}
		}
	}
	data, err := os.ReadFile(overflowFile)
	if err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32); err == nil {
			return uint32(v)
		}
	}
	return 65534
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
	overflowUID := mapID("/dev/null", 0, "/proc/sys/kernel/overflowuid")
	overflowGID := mapID("/dev/null", 0, "/proc/sys/kernel/overflowgid")
	if owner.UID == overflowUID {
		f.SetUID = false
	}
	if owner.GID == overflowGID {
		f.SetGID = false
	}
	return f, nil
}
