package attach

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/remainroot/remainroot/attach/procfs"
)

// TestFilterFlagProbe checks the probe's premise on this kernel: a flag set
// it knows gets EFAULT for the NULL program, an unknown bit EINVAL, and
// nothing is installed either way.
func TestFilterFlagProbe(t *testing.T) {
	before, err := procfs.StatusField(os.Getpid(), "Seccomp_filters")
	if err != nil {
		t.Fatal(err)
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, 0)
	if errno != unix.EFAULT {
		t.Errorf("known flag: errno %v, want EFAULT", errno)
	}
	_, _, errno = unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 1<<30, 0)
	if errno != unix.EINVAL {
		t.Errorf("unknown flag: errno %v, want EINVAL", errno)
	}
	// TSYNC with NEW_LISTENER but without TSYNC_ESRCH is refused as such.
	_, _, errno = unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC|unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, 0)
	if errno != unix.EINVAL {
		t.Errorf("TSYNC|NEW_LISTENER: errno %v, want EINVAL", errno)
	}
	if after, err := procfs.StatusField(os.Getpid(), "Seccomp_filters"); err != nil || after != before {
		t.Errorf("Seccomp_filters: %q (%v) after probing, %q before: a filter was installed", after, err, before)
	}
}

// TestKernelFactsHere: the machines remainroot is tested on (6.18) have
// everything the engine uses.
func TestKernelFactsHere(t *testing.T) {
	f := GatherKernelFacts()
	if f.TraceAction != nil || f.NotifyAction != nil || f.FlagsErr != nil || len(f.MissingFlags) > 0 {
		t.Errorf("seccomp: trace %v notify %v flags %v missing %v", f.TraceAction, f.NotifyAction, f.FlagsErr, f.MissingFlags)
	}
	if f.PidfdGetfd != nil {
		t.Errorf("pidfd_getfd: %v", f.PidfdGetfd)
	}
	var u unix.Utsname
	unix.Uname(&u)
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err == nil && (major > 6 || major == 6 && minor >= 13) {
		if f.Getxattrat != nil {
			t.Errorf("kernel %d.%d: getxattrat: %v", major, minor, f.Getxattrat)
		}
	} else if !errors.Is(f.Getxattrat, unix.ENOSYS) && f.Getxattrat != nil {
		t.Errorf("kernel %d.%d: getxattrat probe: %v, want nil or ENOSYS", major, minor, f.Getxattrat)
	}
}
