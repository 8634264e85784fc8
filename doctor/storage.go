package doctor

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/config"
)

// The storage checks: podman's storage.conf lets images unpack under a
// single mapping, and the image store takes the user xattrs mode full
// records owners in.

const (
	checkStorage = "podman: storage"
	checkXattr   = "storage: user xattrs"
)

// ignoreChownRemedy is the README's advice for pulls under a single
// mapping, for the storage.conf in use (or the user's, when there is none).
func ignoreChownRemedy(o Options, s config.StorageConf) string {
	file := s.File
	if file == "" {
		file = "~/.config/containers/storage.conf"
	}
	section := "[storage.options.vfs] (or [storage.options.overlay])"
	switch s.Driver {
	case "vfs", "overlay":
		section = "[storage.options." + s.Driver + "]"
	}
	return fmt.Sprintf("Add ignore_chown_errors = \"true\" to %s of %s; the hook cannot help there, it runs only once a container starts.", section, file)
}

func storageCheck(o Options, s config.StorageConf, err error, single bool) Check {
	if err != nil {
		return Failure(checkStorage, "Fix storage.conf: podman refuses to start with it.", "%v", err)
	}
	file := s.File
	if file == "" {
		file = "no storage.conf"
	}
	driver := s.Driver
	if driver == "" {
		driver = "unset (podman picks overlay where it can, else vfs)"
	}
	if s.IgnoreChownErr != nil {
		return Failure(checkStorage, "Write ignore_chown_errors = \"true\".", "%s: %v", file, s.IgnoreChownErr)
	}
	head := fmt.Sprintf("%s: driver %s, store %s", file, driver, s.GraphRoot)
	switch {
	case s.IgnoreChownErrors:
		return Pass(checkStorage, "%s, %s = %q: images unpack under a single mapping", head, s.IgnoreChownFrom, s.IgnoreChownRaw)
	case !single:
		return Pass(checkStorage, "%s; ignore_chown_errors is not needed with more than one id mapped", head)
	case s.IgnoreChownFrom != "":
		return Failure(checkStorage, ignoreChownRemedy(o, s), "%s, %s = %q: under a single mapping pulling or importing an image fails at its first file owned by another id", head, s.IgnoreChownFrom, s.IgnoreChownRaw)
	default:
		return Failure(checkStorage, ignoreChownRemedy(o, s), "%s, ignore_chown_errors not set: under a single mapping pulling or importing an image fails at its first file owned by another id", head)
	}
}

// UserXattrCheck tells whether dir's filesystem takes user.* extended
// attributes, which mode full records owners in: it creates a temporary
// file there (or in dir's nearest existing parent), sets one on it and
// removes the file. what names the directory for the message.
func UserXattrCheck(what, dir string) Check {
	probe := dir
	for {
		if st, err := os.Stat(probe); err == nil && st.IsDir() {
			break
		}
		parent := filepath.Dir(probe)
		if parent == probe {
			break
		}
		probe = parent
	}
	f, err := os.CreateTemp(probe, ".remainroot-doctor-")
	if err != nil {
		return Warning(checkXattr, "Run doctor as the user who owns "+dir+".",
			"cannot test %s (%s): %v", what, dir, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	err = unix.Fsetxattr(int(f.Fd()), "user.remainroot.doctor", []byte("1"), 0)
	where := dir
	if probe != dir {
		where = fmt.Sprintf("%s (tested in %s)", dir, probe)
	}
	if err != nil {
		return Warning(checkXattr, "Nothing to do for mode creds; for mode full put the storage on a filesystem with user xattrs (ext4, xfs, btrfs, tmpfs since 6.6).",
			"%s %s: setting a user xattr failed (%v): mode full cannot record owners there", what, where, err)
	}
	return Pass(checkXattr, "%s %s takes user xattrs (mode full records owners in them)", what, where)
}
