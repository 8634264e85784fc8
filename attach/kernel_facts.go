package attach

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// What the kernel offers this package: the seccomp and ptrace facilities
// the engine uses, probed without installing anything. `remainroot doctor`
// (package doctor) judges them.

// KernelFacts is what the kernel offers, as GatherKernelFacts found it.
type KernelFacts struct {
	Release string // uname -r

	TraceAction  error // SECCOMP_GET_ACTION_AVAIL of SECCOMP_RET_TRACE
	NotifyAction error // ... of SECCOMP_RET_USER_NOTIF

	// Flags of seccomp(SECCOMP_SET_MODE_FILTER) the kernel refuses (EINVAL).
	MissingFlags []string
	FlagsErr     error // the probe itself failed otherwise (e.g. seccomp refused)

	PidfdGetfd error // pidfd_open + pidfd_getfd on this process
	Getxattrat error // nil when the kernel has getxattrat (Linux 6.13)

	// User namespace sysctls; -1 when the file does not exist.
	MaxUserNS          int // user.max_user_namespaces
	UnprivUserNSClone  int // kernel.unprivileged_userns_clone (Debian's patch)
	AppArmorRestrictNS int // kernel.apparmor_restrict_unprivileged_userns (Ubuntu)
	Root               bool

	YamaScope int      // 0-3, YamaAbsent or YamaUnreadable
	LSMs      []string // ActiveLSMs
	Label     string   // this process's LSM label (/proc/self/attr/current)
}

// Names of the seccomp filter flags the engine uses, as
// KernelFacts.MissingFlags lists them (SECCOMP_FILTER_FLAG_ + name).
const (
	// FilterFlagTSYNC installs a filter on every thread of a running
	// process (attach and the hook).
	FilterFlagTSYNC = "TSYNC"
	// FilterFlagNewListener gives the filter a user-notification listener.
	FilterFlagNewListener = "NEW_LISTENER"
	// FilterFlagTSYNCESRCH lets a listener go with TSYNC.
	FilterFlagTSYNCESRCH = "TSYNC_ESRCH"
	// FilterFlagWaitKillableRecv makes a notified call, once received,
	// wait killably: only a fatal signal interrupts it.
	FilterFlagWaitKillableRecv = "WAIT_KILLABLE_RECV"
)

// ListenerFilterFlags are the flags of the user-notification route, in the
// order they are probed.
var ListenerFilterFlags = []string{FilterFlagNewListener, FilterFlagTSYNCESRCH, FilterFlagWaitKillableRecv}

// filterFlag is one seccomp filter flag the engine uses.
type filterFlag struct {
	name  string
	flags uintptr // the flag, with the flags it requires
}

var filterFlags = []filterFlag{
	{FilterFlagTSYNC, unix.SECCOMP_FILTER_FLAG_TSYNC},
	{FilterFlagNewListener, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
	{FilterFlagTSYNCESRCH, unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
	{FilterFlagWaitKillableRecv, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}

// probeFilterFlags passes each flag set to seccomp(SECCOMP_SET_MODE_FILTER)
// with a NULL program: the kernel checks the flags (EINVAL) before it reads
// the program (EFAULT), so nothing is ever installed.
func probeFilterFlags() (missing []string, err error) {
	for _, f := range filterFlags {
		_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, f.flags, 0)
		switch errno {
		case unix.EFAULT:
		case unix.EINVAL:
			missing = append(missing, f.name)
		case 0:
			return nil, errors.New("seccomp accepted a NULL program")
		default:
			return nil, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, %s, NULL): %w", f.name, errno)
		}
	}
	return missing, nil
}

// probePidfdGetfd duplicates one of this process's descriptors through
// pidfd_getfd, as the tracer takes a listener.
func probePidfdGetfd() error {
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, pidfd, 0)
	if err != nil {
		return fmt.Errorf("pidfd_getfd: %w", err)
	}
	unix.Close(fd)
	return nil
}

// probeGetxattrat calls getxattrat with a zero argument size: a kernel that
// has it refuses that size (EINVAL) before looking at anything else.
func probeGetxattrat() error {
	dirfd := unix.AT_FDCWD
	_, _, errno := unix.Syscall6(unix.SYS_GETXATTRAT, uintptr(dirfd), 0, 0, 0, 0, 0)
	if errno == unix.EINVAL {
		return nil
	}
	if errno == 0 {
		return errors.New("getxattrat accepted a zero-size argument")
	}
	return errno
}

// readSysctl reads an integer sysctl; -1 when absent or unreadable.
func readSysctl(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// GatherKernelFacts probes the kernel. Nothing it does changes the process
// or the system.
func GatherKernelFacts() KernelFacts {
	var f KernelFacts
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.Release = unix.ByteSliceToString(u.Release[:])
	}
	f.TraceAction = seccompActionAvail(unix.SECCOMP_RET_TRACE)
	f.NotifyAction = seccompActionAvail(unix.SECCOMP_RET_USER_NOTIF)
	f.MissingFlags, f.FlagsErr = probeFilterFlags()
	f.PidfdGetfd = probePidfdGetfd()
	f.Getxattrat = probeGetxattrat()
	f.MaxUserNS = readSysctl("/proc/sys/user/max_user_namespaces")
	f.UnprivUserNSClone = readSysctl("/proc/sys/kernel/unprivileged_userns_clone")
	f.AppArmorRestrictNS = readSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
	f.Root = os.Geteuid() == 0
	f.YamaScope = YamaScope()
	f.LSMs = ActiveLSMs()
	if b, err := os.ReadFile("/proc/self/attr/current"); err == nil {
		f.Label = strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
	}
	return f
}
