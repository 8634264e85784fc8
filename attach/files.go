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

func (f files) Scratch() uint64 { return scratchAddr(f.sp) }

func (f files) Special(dev, ino uint64) (shim.FileOwner, bool) {
	o, ok := f.t.special[[2]uint64{dev, ino}]
	return o, ok
}

func (f files) SetSpecial(dev, ino uint64, o shim.FileOwner) {
	if o == (shim.FileOwner{}) {
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
