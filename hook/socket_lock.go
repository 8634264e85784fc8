package hook

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A supervisor holds an exclusive lock on SOCKET.lock for as long as it
// listens on SOCKET. One that was killed (SIGKILL, OOM) cannot remove its
// socket; the next precreate hook finds the lock free and removes both.

// staleAge keeps the sweep away from a supervisor that is still starting
// (it creates its lock file before it takes the lock).
const staleAge = time.Minute

// lockSocket creates and locks socket's lock file; the lock goes with the
// process.
func lockSocket(socket string) (*os.File, error) {
	f, err := os.OpenFile(socket+".lock", os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// sweepStaleSockets removes the sockets of supervisors that are gone from
// dir: those whose lock file is older than staleAge and not locked.
func sweepStaleSockets(dir string) {
	locks, _ := filepath.Glob(filepath.Join(dir, "sup-*.sock.lock"))
	for _, lock := range locks {
		st, err := os.Lstat(lock)
		if err != nil || !st.Mode().IsRegular() || time.Since(st.ModTime()) < staleAge {
			continue
		}
		f, err := os.OpenFile(lock, os.O_RDWR|unix.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		// Locked (EWOULDBLOCK): its supervisor lives; any other error:
		// leave what cannot be judged.
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.Remove(strings.TrimSuffix(lock, ".lock"))
			os.Remove(lock)
		}
		f.Close()
	}
}
