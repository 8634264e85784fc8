package attach

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// ownerTable keeps the owners of objects that cannot carry user xattrs
// (symlinks, FIFOs, sockets) for the tracer's lifetime: the container's.
type ownerTable map[[2]uint64]shim.FileOwner

// files is mode full's view of one stopped thread for package shim.
type files struct {
	t  *Tracer
	th *thread
	sp uint64
}

func (f files) Special(dev, ino uint64) (shim.FileOwner, bool) {
	o, ok := f.t.special[[2]uint64{dev, ino}]
	return o, ok
}

// SetSpecial records o for (dev, ino). 0:0 is no entry, unless the image
// gives owners: then it is kept, so that it wins over the image's owner as
// a record does.
func (f files) SetSpecial(dev, ino uint64, o shim.FileOwner) {
	if o == (shim.FileOwner{}) && f.t.imageOwners() == nil {
		delete(f.t.special, [2]uint64{dev, ino})
		return
	}
	f.t.special[[2]uint64{dev, ino}] = o
}

// SetFDOwner records o on the object behind the thread's descriptor, through
// its /proc magic link: the kernel's own reference to the open file, so no
// path from the tracee is looked up.
func (f files) SetFDOwner(fd int, o shim.FileOwner) error {
	link := fmt.Sprintf("/proc/%d/fd/%d", f.th.tid, fd)
	var err error
	if o == (shim.FileOwner{}) {
		err = unix.Removexattr(link, shim.OwnerXattr)
		if errors.Is(err, unix.ENODATA) {
			err = nil
		}
	} else {
		err = unix.Setxattr(link, shim.OwnerXattr, shim.EncodeOwner(o), 0)
	}
	if err == nil {
		return nil
	}
	var st unix.Stat_t
	if serr := unix.Stat(link, &st); serr == nil && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP)) {
		f.SetSpecial(st.Dev, st.Ino, o)
		return nil
	}
	f.t.log.Warn("cannot record the owner of a new file", "tid", f.th.tid, "fd", fd, "err", err)
	return err
}

// fdLink is the /proc magic link to a thread's descriptor (or cwd).
func (f files) fdLink(fd int) string {
	if fd == unix.AT_FDCWD {
		return fmt.Sprintf("/proc/%d/cwd", f.th.tid)
	}
	return fmt.Sprintf("/proc/%d/fd/%d", f.th.tid, fd)
}

func (f files) StatFD(fd int, isStatx bool, flags int, mask uint32) ([]byte, error) {
	if fd < 0 && fd != unix.AT_FDCWD {
		return nil, unix.EBADF
	}
	link := f.fdLink(fd)
	m := f.th.idMapper(f.t)
	if isStatx {
		var stx unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, link, flags&(unix.AT_STATX_FORCE_SYNC|unix.AT_STATX_DONT_SYNC), int(mask), &stx); err != nil {
			return nil, fdError(err)
		}
		stx.Uid, stx.Gid = m.UID(stx.Uid), m.GID(stx.Gid)
		out := make([]byte, statxSize)
		copy(out, statxBytes(&stx))
		return out, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(link, &st); err != nil {
		return nil, fdError(err)
	}
	st.Uid, st.Gid = m.UID(st.Uid), m.GID(st.Gid)
	return append([]byte(nil), statBytes(&st)...), nil
}

// statxSize is the kernel's sizeof(struct statx).
const statxSize = 256

// fdXattr reads the xattr name (a record of at most 64 bytes) of the
// object behind the thread's descriptor.
func (f files) fdXattr(fd int, name string) ([]byte, bool) {
	val := make([]byte, 64)
	n, err := unix.Getxattr(f.fdLink(fd), name, val)
	if err != nil {
		return nil, false
	}
	return val[:n], true
}

func (f files) FDOwner(fd int) (shim.FileOwner, bool) {
	val, ok := f.fdXattr(fd, shim.OwnerXattr)
	if !ok {
		return shim.FileOwner{}, false
	}
	o, err := shim.DecodeOwner(val)
	if err != nil {
		f.Malformed(val, err)
		return shim.FileOwner{}, false
	}
	return o, true
}

// FDNode reads the node record (shim.NodeXattr); a malformed one is none.
func (f files) FDNode(fd int) (shim.Node, bool) {
	val, ok := f.fdXattr(fd, shim.NodeXattr)
	if !ok {
		return shim.Node{}, false
	}
	node, err := shim.DecodeNode(val)
	return node, err == nil
}

func (f files) Malformed(value []byte, err error) {
	f.t.log.Warn("malformed owner record taken as none", "tid", f.th.tid, "xattr", shim.OwnerXattr,
		"value", fmt.Sprintf("%x", value), "err", err)
}

func (f files) HasSpecial() bool { return len(f.t.special) > 0 }

// ImageOwners is the trace's image owners (Tracer.imageOwners).
func (f files) ImageOwners() shim.OwnerSource { return f.t.imageOwners() }

func (f files) Missing(nr uintptr) bool { return f.t.missing[nr] }
