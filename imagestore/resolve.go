package imagestore

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/shim"
)

// FileKey names a file by device and inode, as struct stat gives them.
type FileKey struct{ Dev, Ino uint64 }

// Owner is what the image says of a file.
type Owner struct {
	UID, GID uint32
	Mode     uint32 // permission and special bits
}

// Owners is a Table mapped onto a container's root filesystem. It is the
// owner source of the tracer's stat emulation (shim.OwnerSource).
type Owners map[FileKey]Owner

// NotRoot returns the entries whose owner is not 0:0: all a stat has to
// write in (the kernel's mode is the image's, special bits included).
func (o Owners) NotRoot() Owners {
	out := Owners{}
	for k, e := range o {
		if e.UID != 0 || e.GID != 0 {
			out[k] = e
		}
	}
	return out
}

// ImageOwner returns the owner the image gives the file (dev, ino).
func (o Owners) ImageOwner(dev, ino uint64) (shim.FileOwner, bool) {
	e, ok := o[FileKey{dev, ino}]
	return shim.FileOwner{UID: e.UID, GID: e.GID}, ok
}

// Resolve maps t onto the root filesystem at rootfs: each path is looked
// up inside it (openat2 with RESOLVE_IN_ROOT and RESOLVE_NO_MAGICLINKS
// against a handle on the root, so that no symlink leads out of it; the
// last component is not followed) and lstat'ed. Paths that are gone
// (removed in the container, a volume over them) are left out; missing
// counts them.
func Resolve(rootfs string, t Table) (owners Owners, missing int, err error) {
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("open the container's root %s: %w", rootfs, err)
	}
	defer unix.Close(root)
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	owners = make(Owners, len(t))
	for _, e := range t {
		key, err := lookup(root, e.Path, how)
		if err != nil {
			if errors.Is(err, unix.ENOSYS) {
				return nil, 0, fmt.Errorf("openat2: %w", err)
			}
			missing++
			continue
		}
		owners[key] = Owner{UID: e.UID, GID: e.GID, Mode: e.Mode}
	}
	return owners, missing, nil
}

// lookup lstat()s path inside root.
func lookup(root int, path string, how *unix.OpenHow) (FileKey, error) {
	rel := path[1:]
	if rel == "" {
		rel = "."
	}
	fd, err := unix.Openat2(root, rel, how)
	if err != nil {
		return FileKey{}, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return FileKey{}, err
	}
	return FileKey{Dev: uint64(st.Dev), Ino: st.Ino}, nil
}
