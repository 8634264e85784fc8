package hook

// Container log files. The fallback directory of a rootless hook is
// $TMPDIR/remainroot-<host uid>, usually in /tmp, where another local user
// could create it first or make it a symbolic link and so choose the file
// the hook and the tracer append to. A log directory is therefore used only
// when it is a real directory owned by the hook's effective user that
// nobody else can write, and log files are opened without following a
// symbolic link.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// checkLogDir says why dir cannot hold the log files (or the supervisor
// sockets, privateDir) of a hook running as
// euid, or returns nil: it must be a directory itself (not a symbolic link
// to one), owned by euid, and writable by neither group nor others.
func checkLogDir(dir string, euid int) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("directory %s: %w", dir, err)
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("directory %s is a symbolic link", dir)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%s is not a directory", dir)
	case int(st.Uid) != euid:
		return fmt.Errorf("directory %s is owned by uid %d, not by the hook's uid %d", dir, st.Uid, euid)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("directory %s is writable by group or others (mode %04o)", dir, st.Mode&0o7777)
	}
	return nil
}

// openLogFile opens path for appending, creating it with mode 0600: only in
// a directory that checkLogDir accepts, never through a symbolic link, and
// only if it is a regular file (O_NONBLOCK: a FIFO without a reader fails
// instead of blocking).
func openLogFile(path string) (*os.File, error) {
	if err := checkLogDir(filepath.Dir(path), os.Geteuid()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("log file %s is a symbolic link", path)
	}
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("log file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("log file %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	return f, nil
}

// pickLogFile returns the path of the file name in the first of dirs that
// can be created (mode 0700) or already exists, passes checkLogDir, and in
// which the file can be opened. With none, it returns os.DevNull and an
// error naming each directory's problem.
func pickLogFile(dirs []string, name string) (string, error) {
	var problems []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		path := filepath.Join(d, name)
		f, err := openLogFile(path)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		f.Close()
		return path, nil
	}
	return os.DevNull, fmt.Errorf("no log file: %s", strings.Join(problems, "; "))
}
